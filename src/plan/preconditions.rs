//! What OpenZFS's device removal requires of the pool (`spa_vdev_remove_top_check` in
//! `module/zfs/vdev_removal.c`), and the keys it needs loaded.

use super::Refusal;
use crate::inspect::PoolState;
use crate::zfs::VdevKind;

/// Refuses a pool ZFS would not remove a vdev from.
pub(super) fn check(name: &str, pool: &PoolState) -> Result<(), Refusal> {
    if let Some(v) = pool
        .status
        .vdevs
        .iter()
        .find(|v| matches!(v.kind, VdevKind::Raidz | VdevKind::Draid))
    {
        return Err(Refusal::Raidz {
            pool: name.into(),
            kind: v.kind.clone(),
            vdev: v.name.clone(),
        });
    }
    if let Some(bytes) = pool.checkpoint_bytes {
        return Err(Refusal::Checkpoint {
            pool: name.into(),
            bytes,
        });
    }
    if !pool.locked_datasets.is_empty() {
        return Err(Refusal::KeysNotLoaded {
            datasets: pool.locked_datasets.clone(),
        });
    }
    if !pool.device_removal_feature {
        return Err(Refusal::RemovalFeatureDisabled { pool: name.into() });
    }
    Ok(())
}

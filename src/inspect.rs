//! Inspect: what the planner needs to know of an imported pool, read through [`Zpool`].

use anyhow::{Context, Result};

use crate::origin::Origin;
use crate::zfs::{PoolStatus, ZfsVersion, Zpool};

/// An imported pool, as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolState {
    pub status: PoolStatus,
    pub version: ZfsVersion,
    pub checkpoint_bytes: Option<u64>,
    pub device_removal_feature: bool,
    /// Datasets whose encryption key is not loaded.
    pub locked_datasets: Vec<String>,
    /// The ashift of the vdev on the origin (from its label), if there is one.
    pub origin_ashift: Option<u32>,
    /// `used` of the root dataset: all data, right even where vdev `alloc` is not.
    pub used_bytes: u64,
    /// Imported read-only (zevac's probe import, which writes nothing).
    pub read_only: bool,
}

/// After `apply`'s own writable import: reads again only what an import changes, the status
/// (the origin's path, now maybe through the snapshot, and the local vdevs), and keeps from
/// `earlier` (the probe import's) what belongs to the pool's data: the checkpoint, the feature,
/// the keys (neither import loads them), `used` and the origin's label.
pub fn refresh(zpool: &Zpool, pool: &str, earlier: &PoolState) -> Result<PoolState> {
    let status = zpool
        .status(pool, earlier.version)
        .with_context(|| format!("reading the status of pool {pool}"))?;
    Ok(PoolState {
        status,
        read_only: false,
        locked_datasets: earlier.locked_datasets.clone(),
        ..*earlier
    })
}

/// Reads the pool's state. The pool must be imported.
pub fn inspect(zpool: &Zpool, pool: &str, origin: &Origin) -> Result<PoolState> {
    let version = zpool.version()?;
    let status = zpool
        .status(pool, version)
        .with_context(|| format!("reading the status of pool {pool}"))?;
    let props = zpool.properties(pool)?;
    let origin_ashift = match origin.vdevs(&status).first().and_then(|v| v.path.clone()) {
        Some(path) if version.has_vdev_props() => Some(zpool.vdev_ashift(pool, &path)?),
        Some(path) => Some(zpool.label_ashift(&path)?),
        None => None,
    };
    // Every command here holds the boot (a recursive `zfs get` more than most): ask for keys
    // only if a dataset can have one.
    let locked_datasets = if props.encryption_active() {
        zpool.locked_datasets(pool)?
    } else {
        Vec::new()
    };
    Ok(PoolState {
        checkpoint_bytes: props.checkpoint_bytes()?,
        read_only: props.get("readonly") == Some("on"),
        device_removal_feature: props.device_removal_available(),
        locked_datasets,
        used_bytes: zpool.used_bytes(pool)?,
        origin_ashift,
        version,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::exec::FakeExecutor;
    use crate::testing::recorded_disks;
    use std::path::Path;

    const ORIGIN: &str =
        "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0b2bbaafa22850faa-part2";

    /// The probe's commands, in order, answered from one lab recording (OpenZFS 2.3.2, the
    /// golden pool imported read-only; `case` is `plain` or `encrypted`).
    /// The fake, dropped on return, fails the test if a command expected was not asked for.
    fn probe(case: &str, keystatus: bool) -> PoolState {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/fixtures/zfs-2.3.2/inspect");
        let mut exec = FakeExecutor::new();
        let mut expect = |line: &str, name: &str| {
            exec.expect_recorded(line, &dir, name).unwrap();
        };
        expect("zpool version", "version");
        expect(
            "zpool status -j --json-int -p -g rpool",
            &format!("{case}_status_json"),
        );
        expect("zpool get -Hp all rpool", &format!("{case}_get"));
        expect(
            &format!("zpool get -Hp -o value ashift rpool {ORIGIN}"),
            &format!("{case}_vdev_ashift"),
        );
        if keystatus {
            expect(
                "zfs get -H -r -o name,value -t filesystem,volume keystatus rpool",
                &format!("{case}_keystatus"),
            );
        }
        expect("zfs get -Hp -o value used rpool", &format!("{case}_used"));
        let disks = recorded_disks("2.3.2");
        let origin = Origin::new(&Config::default(), &disks);
        inspect(&Zpool::new(&exec), "rpool", &origin).unwrap()
    }

    /// OpenZFS 2.2+: the origin's ashift comes from the vdev property, not from `zdb -l`; a
    /// pool with no encrypted dataset is not asked for keys.
    #[test]
    fn the_probe_reads_ashift_as_a_vdev_property_and_keys_only_when_encrypted() {
        let plain = probe("plain", false);
        assert_eq!(plain.origin_ashift, Some(12));
        assert!(plain.read_only);
        assert!(plain.locked_datasets.is_empty());
        assert!(plain.used_bytes > 200 << 20, "{}", plain.used_bytes);
        let encrypted = probe("encrypted", true);
        assert_eq!(encrypted.locked_datasets, ["rpool/secret"]);
        assert_eq!(encrypted.origin_ashift, Some(12));
    }
}

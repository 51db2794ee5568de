//! Where the removal stands, and the one vdev on the origin that moves.

use super::{Decision, Idle, Refusal};
use crate::config::{Config, OriginMode};
use crate::discover::BlockDevice;
use crate::inspect::PoolState;
use crate::origin::Origin;
use crate::zfs::{RemovalState, TopVdev, VdevKind};

/// The origin vdev to remove.
pub(super) struct Located<'a> {
    pub vdev: &'a TopVdev,
    /// Its device path, as the pool names it now.
    pub path: String,
    /// Its ashift, which the new vdevs take.
    pub ashift: u32,
    /// Immutable, and the pool does not reach the origin through the snapshot yet.
    pub needs_snapshot: bool,
}

/// The origin vdev, or why the plan stops: the copy runs or is done, or there is nothing (or too
/// much) to move.
pub(super) fn locate<'a>(
    config: &Config,
    disks: &[BlockDevice],
    pool: &'a PoolState,
) -> Result<Located<'a>, Decision> {
    let name = &config.pool;
    let removal = pool.status.removal.as_ref();
    if let Some(r) = removal.filter(|r| r.state == RemovalState::InProgress) {
        return Err(Idle::Running {
            vdev: r.path.clone(),
            percent: r.percent(),
            copied: r.copied,
            to_copy: r.to_copy,
        }
        .into());
    }
    let side = Origin::new(config, disks);
    let vdev = match side.vdevs(&pool.status).as_slice() {
        [] if removal.is_some_and(|r| r.state == RemovalState::Finished) => {
            return Err(Idle::Finished { pool: name.clone() }.into())
        }
        [] if !side.found() => return Err(Refusal::NoOriginDisk.into()),
        [] => return Err(Idle::NothingOnOrigin { pool: name.clone() }.into()),
        [one] => *one,
        many => {
            return Err(Refusal::ManyOriginVdevs {
                pool: name.clone(),
                vdevs: many.iter().map(|v| v.name.clone()).collect(),
            }
            .into())
        }
    };
    Ok(check_vdev(config, pool, side.mode, vdev)?)
}

/// Whether `vdev` can move as zevac moves it.
fn check_vdev<'a>(
    config: &Config,
    pool: &PoolState,
    mode: OriginMode,
    vdev: &'a TopVdev,
) -> Result<Located<'a>, Refusal> {
    if vdev.kind != VdevKind::Disk {
        return Err(Refusal::OriginNotADevice {
            vdev: vdev.name.clone(),
            kind: vdev.kind.clone(),
        });
    }
    let Some(ashift) = pool.origin_ashift else {
        return Err(Refusal::NoAshift {
            vdev: vdev.name.clone(),
        });
    };
    let path = vdev.path.clone().unwrap_or_else(|| vdev.name.clone());
    // Immutable: the pool must reach the origin through the snapshot before anything is added.
    let needs_snapshot = mode == OriginMode::Immutable && !Origin::is_snapshot(&path);
    if needs_snapshot && !pool.read_only {
        return Err(Refusal::ImportedFromOrigin {
            pool: config.pool.clone(),
            origin: path,
        });
    }
    Ok(Located {
        vdev,
        path,
        ashift,
        needs_snapshot,
    })
}

//! The steps: partitions, the origin's snapshot (immutable), one `zpool add` per class, and the
//! removal.

use super::locals::Local;
use super::origin::Located;
use super::{Refusal, Step};
use crate::config::Config;
use crate::devmapper::{Snapshot, SNAPSHOT_PATH};
use crate::discover::BlockDevice;
use crate::layout::{CACHE_LABEL, COW_LABEL, DATA_LABEL, SPECIAL_LABEL};
use crate::zfs::VdevClass;

/// The devices each class of vdev gets, in disk order.
#[derive(Default)]
struct Devices {
    data: Vec<String>,
    special: Vec<String>,
    cache: Vec<String>,
    cow: Option<String>,
}

pub(super) fn build(
    config: &Config,
    disks: &[BlockDevice],
    origin: &Located,
    locals: &[Local],
) -> Result<Vec<Step>, Refusal> {
    let mut steps = Vec::new();
    let mut devs = Devices::default();
    for local in locals {
        match local {
            Local::InPool(_) => {}
            Local::Partitioned(d) => {
                for p in &d.partitions {
                    let path = p.paths[0].clone();
                    match p.label.as_deref() {
                        Some(DATA_LABEL) => devs.data.push(path),
                        Some(SPECIAL_LABEL) => devs.special.push(path),
                        Some(CACHE_LABEL) => devs.cache.push(path),
                        _ => {}
                    }
                }
            }
            Local::ToPartition(_, layout) => {
                devs.data.extend(layout.path_of(DATA_LABEL));
                devs.special.extend(layout.path_of(SPECIAL_LABEL));
                devs.cache.extend(layout.path_of(CACHE_LABEL));
                devs.cow = devs.cow.or(layout.path_of(COW_LABEL));
                steps.push(Step::Partition(layout.clone()));
            }
        }
    }
    if origin.needs_snapshot {
        steps.push(Step::Snapshot(snapshot(disks, origin, devs.cow.take())?));
    }
    let pool = &config.pool;
    for (class, devices) in [
        (VdevClass::Normal, devs.data),
        (VdevClass::Special, devs.special),
        (VdevClass::Cache, devs.cache),
    ] {
        if !devices.is_empty() {
            steps.push(Step::Add {
                pool: pool.clone(),
                ashift: origin.ashift,
                class,
                devices,
            });
        }
    }
    steps.push(Step::Remove {
        pool: pool.clone(),
        // Immutable: what the pool will call the origin once imported through the snapshot.
        vdev: if origin.needs_snapshot {
            SNAPSHOT_PATH.into()
        } else {
            origin.path.clone()
        },
    });
    Ok(steps)
}

/// The snapshot of the origin device (a partition or a whole disk) over the store already on a
/// local disk, or the one `planned`.
fn snapshot(
    disks: &[BlockDevice],
    origin: &Located,
    planned: Option<String>,
) -> Result<Snapshot, Refusal> {
    let cow = crate::origin::cow_partition(disks)
        .or(planned)
        .expect("the locals pass refuses an immutable origin without a store");
    let path = &origin.path;
    let unknown = || Refusal::OriginSizeUnknown {
        origin: path.clone(),
    };
    let disk = disks
        .iter()
        .find(|d| d.owns_path(path))
        .ok_or_else(unknown)?;
    let bytes = disk
        .partitions
        .iter()
        .find(|p| p.paths.iter().any(|q| q == path))
        .map_or(disk.size_bytes, |p| p.size_bytes);
    if bytes / 512 == 0 {
        return Err(unknown());
    }
    Ok(Snapshot {
        origin: path.clone(),
        origin_disk: disk.stable_path().to_string(),
        cow,
        sectors: bytes / 512,
    })
}

//! The local disks' part in the plan: each is in the pool already, carries zevac's partitions (a
//! crash after partitioning), or is to be partitioned; and which one gets the store.

use super::Refusal;
use crate::config::Config;
use crate::discover::BlockDevice;
use crate::inspect::PoolState;
use crate::layout::{DiskLayout, DATA_LABEL};

/// A local disk's part in the plan.
pub(super) enum Local<'a> {
    /// Its data partition is already a vdev of the pool.
    InPool(&'a BlockDevice),
    /// It carries zevac's partitions, not yet added.
    Partitioned(&'a BlockDevice),
    /// Blank, or allowed to be wiped: partition it so.
    ToPartition(&'a BlockDevice, DiskLayout),
}

/// Before the store is placed: whether to partition, and to wipe first.
enum Found<'a> {
    InPool(&'a BlockDevice),
    Partitioned(&'a BlockDevice),
    ToPartition(&'a BlockDevice, bool),
}

/// Every local disk's part, the store placed, each layout checked against its disk.
pub(super) fn resolve<'a>(
    config: &Config,
    disks: &[BlockDevice],
    locals: &[&'a BlockDevice],
    pool: &PoolState,
    needs_snapshot: bool,
) -> Result<Vec<Local<'a>>, Refusal> {
    let found = classify(config, locals, pool, needs_snapshot)?;
    // The store: one, on the largest disk to partition, unless a disk of ours already has it.
    let has_cow = crate::origin::cow_partition(disks).is_some();
    let cow_disk = (config.cow_bytes() > 0 && !has_cow)
        .then(|| store_disk(&found))
        .flatten();
    if needs_snapshot && !has_cow && cow_disk.is_none() {
        return Err(Refusal::NoStore);
    }
    found
        .into_iter()
        .map(|f| match f {
            Found::InPool(d) => Ok(Local::InPool(d)),
            Found::Partitioned(d) => Ok(Local::Partitioned(d)),
            Found::ToPartition(d, wipe) => {
                let cow = cow_disk.as_deref() == Some(d.stable_path());
                let layout = layout_of(config, d, wipe, cow);
                fits(d, &layout)?;
                Ok(Local::ToPartition(d, layout))
            }
        })
        .collect()
}

fn classify<'a>(
    config: &Config,
    locals: &[&'a BlockDevice],
    pool: &PoolState,
    needs_snapshot: bool,
) -> Result<Vec<Found<'a>>, Refusal> {
    let in_pool = |d: &BlockDevice| {
        pool.status
            .vdevs
            .iter()
            .any(|v| v.leaves.iter().any(|l| d.owns_path(l)))
    };
    if needs_snapshot {
        if let Some(d) = locals.iter().find(|d| in_pool(d)) {
            return Err(Refusal::InPlaceBegun {
                disk: d.stable_path().into(),
            });
        }
    }
    locals
        .iter()
        .map(|&d| {
            let ours = d
                .partitions
                .iter()
                .any(|p| p.label.as_deref() == Some(DATA_LABEL));
            if in_pool(d) {
                Ok(Found::InPool(d))
            } else if ours {
                Ok(Found::Partitioned(d))
            } else if d.blank || config.local.allow_wipe {
                Ok(Found::ToPartition(d, !d.blank))
            } else {
                Err(Refusal::NotBlank {
                    disk: d.stable_path().into(),
                    holds: d.signature.clone().unwrap_or_else(|| "data".into()),
                })
            }
        })
        .collect()
}

fn layout_of(config: &Config, d: &BlockDevice, wipe: bool, cow: bool) -> DiskLayout {
    DiskLayout {
        disk: d.stable_path().to_string(),
        special_bytes: config.special_bytes(),
        cache_bytes: config.cache_bytes(),
        cow_bytes: if cow { config.cow_bytes() } else { 0 },
        wipe,
    }
}

/// The disk for the store: the largest of those to partition (the most room beside it); ties go
/// to the first stable path, so the kernel's probe order never decides.
fn store_disk(found: &[Found]) -> Option<String> {
    found
        .iter()
        .filter_map(|s| match s {
            Found::ToPartition(d, _) => Some(*d),
            _ => None,
        })
        .min_by(|a, b| {
            b.size_bytes
                .cmp(&a.size_bytes)
                .then_with(|| a.stable_path().cmp(b.stable_path()))
        })
        .map(|d| d.stable_path().to_string())
}

/// Whether `layout`'s partitions fit disk `d` as the partitioner sizes them: what the
/// partitioner would fail on, refused now.
fn fits(d: &BlockDevice, l: &DiskLayout) -> Result<(), Refusal> {
    match l.data_bytes(d.size_bytes) {
        Some(_) => Ok(()),
        None => Err(Refusal::DiskTooSmall {
            disk: l.disk.clone(),
            disk_bytes: d.size_bytes,
            special: l.special_bytes,
            cache: l.cache_bytes,
            cow: l.cow_bytes,
        }),
    }
}

//! Room: the new vdevs must hold everything on the origin plus ZFS's slop.

use super::locals::Local;
use super::Refusal;
use crate::inspect::PoolState;
use crate::layout::DATA_LABEL;
use crate::zfs::{TopVdev, VdevClass};

/// The smallest slop ZFS keeps free (`spa_min_slop`, 128 MiB), and its share (1/32).
const MIN_SLOP: u64 = 128 << 20;
/// Room ZFS does not give to data on a new vdev (labels, boot area, metaslab rounding): we count
/// only this fraction of a partition, a margin rather than ZFS's exact rule.
const USABLE_PERCENT: u64 = 95;
/// What the pool's own metadata (MOS, space maps) adds to the datasets' `used`.
const METADATA_MARGIN: u64 = 16 << 20;

fn slop(pool_bytes: u64) -> u64 {
    (pool_bytes / 32).max(MIN_SLOP)
}

/// Refuses local disks too small for what the origin holds.
pub(super) fn check(origin: &TopVdev, pool: &PoolState, locals: &[Local]) -> Result<(), Refusal> {
    // A read-only import reports 0 allocated; the datasets' `used` (plus room for the pool's own
    // metadata) stands in.
    let origin_alloc = match origin.alloc {
        Some(a) if a > 0 => a,
        _ => pool.used_bytes + pool.used_bytes / 100 + METADATA_MARGIN,
    };
    let (mut room, mut total) = (0u64, 0u64);
    for local in locals {
        let (size, free) = offered(pool, local);
        total += size;
        room += free;
    }
    if room < origin_alloc + slop(total) {
        return Err(Refusal::NoRoom {
            room,
            origin: origin_alloc,
            slop: slop(total),
        });
    }
    Ok(())
}

/// A local disk's data bytes, and how many of them we count as free for the origin's data.
fn offered(pool: &PoolState, local: &Local) -> (u64, u64) {
    let usable = |bytes: u64| (bytes, bytes * USABLE_PERCENT / 100);
    match local {
        Local::InPool(d) => pool
            .status
            .vdevs
            .iter()
            .filter(|v| v.class == VdevClass::Normal && v.leaves.iter().any(|l| d.owns_path(l)))
            .map(|v| {
                let size = v.size.unwrap_or(0);
                (size, size.saturating_sub(v.alloc.unwrap_or(0)))
            })
            .fold((0, 0), |(a, b), (s, f)| (a + s, b + f)),
        Local::Partitioned(d) => usable(
            d.partitions
                .iter()
                .find(|p| p.label.as_deref() == Some(DATA_LABEL))
                .map_or(0, |p| p.size_bytes),
        ),
        Local::ToPartition(d, layout) => {
            usable(layout.data_bytes(d.size_bytes).unwrap_or_default())
        }
    }
}

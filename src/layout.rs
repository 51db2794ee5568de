//! How zevac lays out a local disk: its partitions' names (a disk carrying them is zevac's),
//! their order and sizes. The planner decides a layout, the partitioner writes it, and the
//! origin's code finds the store by its name.

use serde::Serialize;

/// GPT partition names zevac gives its partitions; a disk carrying them is ours.
pub const DATA_LABEL: &str = "zevac-data";
pub const SPECIAL_LABEL: &str = "zevac-special";
pub const CACHE_LABEL: &str = "zevac-cache";
/// The immutable origin's copy-on-write store (one, on the largest local disk partitioned).
pub const COW_LABEL: &str = "zevac-cow";

/// ZFS's smallest vdev (`SPA_MINDEVSIZE`): a smaller data partition cannot be added.
pub const MIN_DATA_BYTES: u64 = 64 << 20;
/// What zevac's GPT costs besides its partitions: 1 MiB alignment at the start, the backup GPT
/// at the end, and a MiB of slack.
pub const GPT_OVERHEAD: u64 = 3 << 20;
const MIB: u64 = 1 << 20;

/// How one local disk is to be laid out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiskLayout {
    /// The disk's stable path.
    pub disk: String,
    /// Bytes of the special, cache and copy-on-write partitions (0: none); data takes the rest.
    pub special_bytes: u64,
    pub cache_bytes: u64,
    pub cow_bytes: u64,
    /// Whether the disk held something that will be destroyed.
    pub wipe: bool,
}

impl DiskLayout {
    /// The partitions in disk order: label, number, bytes (0 for data: the rest).
    pub fn partitions(&self) -> Vec<(&'static str, u32, u64)> {
        let mut parts = vec![(DATA_LABEL, 1, 0)];
        for (label, bytes) in [
            (SPECIAL_LABEL, self.special_bytes),
            (CACHE_LABEL, self.cache_bytes),
            (COW_LABEL, self.cow_bytes),
        ] {
            if bytes > 0 {
                parts.push((label, parts.len() as u32 + 1, bytes));
            }
        }
        parts
    }

    /// The data partition's size on a disk of `disk_bytes`: what the other partitions and the
    /// GPT leave, in whole MiB; `None` when that is less than ZFS's smallest vdev. The planner
    /// and the partitioner both size by this.
    pub fn data_bytes(&self, disk_bytes: u64) -> Option<u64> {
        let others = self.special_bytes + self.cache_bytes + self.cow_bytes + GPT_OVERHEAD;
        let data = disk_bytes.checked_sub(others)? / MIB * MIB;
        (data >= MIN_DATA_BYTES).then_some(data)
    }

    /// The path the partition `label` will have.
    pub fn path_of(&self, label: &str) -> Option<String> {
        self.partitions()
            .into_iter()
            .find(|(l, _, _)| *l == label)
            .map(|(_, n, _)| partition_path(&self.disk, n))
    }
}

/// The partition path `<disk>-partN` udev gives a by-id disk path (or `<dev>pN`/`<dev>N`).
pub fn partition_path(disk: &str, number: u32) -> String {
    if disk.starts_with("/dev/disk/") {
        format!("{disk}-part{number}")
    } else if disk.ends_with(|c: char| c.is_ascii_digit()) {
        format!("{disk}p{number}")
    } else {
        format!("{disk}{number}")
    }
}

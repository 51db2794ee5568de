//! Plan: the pure heart of zevac. From the inventory, the pool's state and the configuration it
//! decides what is left to do, from any state a crash can leave behind, or refuses with a
//! sentence a user understands. It changes nothing and runs nothing.

use serde::Serialize;

use crate::config::{Config, OriginMode};
use crate::discover::{BlockDevice, Role};
use crate::inspect::PoolState;
use crate::origin::Origin;
use crate::zfs::{render, RemovalState, VdevClass, VdevKind};

use crate::layout::GPT_OVERHEAD;
pub use crate::layout::{
    partition_path, DiskLayout, CACHE_LABEL, COW_LABEL, DATA_LABEL, MIN_DATA_BYTES, SPECIAL_LABEL,
};

/// The smallest slop ZFS keeps free (`spa_min_slop`, 128 MiB), and its share (1/32).
const MIN_SLOP: u64 = 128 << 20;
/// Room ZFS does not give to data on a new vdev (labels, boot area, metaslab rounding): we count
/// only this fraction of a partition, a margin rather than ZFS's exact rule.
const USABLE_PERCENT: u64 = 95;
/// What the pool's own metadata (MOS, space maps) adds to the datasets' `used`.
const METADATA_MARGIN: u64 = 16 << 20;

/// What zevac should do.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum Decision {
    /// Nothing to do; `reason` says why (done, running, no local disks...).
    Nothing { reason: String },
    /// Refused before changing anything.
    Refuse { reason: String },
    /// These steps, in order.
    Steps { steps: Vec<Step> },
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    /// Write a GPT with zevac's partitions on a local disk (after wiping its signatures if `wipe`).
    Partition(DiskLayout),
    /// Keep the origin unchanged: zero the store's header, create the persistent snapshot
    /// `/dev/mapper/zevac-origin` of the origin partition over it, mark the origin read-only.
    /// The pool is then imported through the snapshot.
    Snapshot(crate::devmapper::Snapshot),
    /// `zpool add -o ashift=N POOL [special|cache] DEV...`.
    Add {
        pool: String,
        ashift: u32,
        class: VdevClass,
        devices: Vec<String>,
    },
    /// `zpool remove POOL VDEV`: the evacuation starts and continues in the background.
    Remove { pool: String, vdev: String },
}

impl Step {
    /// The step's kind, as its JSON names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Partition(_) => "partition",
            Step::Snapshot(_) => "snapshot",
            Step::Add { .. } => "add",
            Step::Remove { .. } => "remove",
        }
    }

    /// The step as the command it runs, or in words where it is not a command.
    pub fn describe(&self) -> String {
        match self {
            Step::Partition(l) => {
                let parts: Vec<String> = l
                    .partitions()
                    .iter()
                    .map(|(label, _, bytes)| match bytes {
                        0 => format!("{label} (rest)"),
                        b => format!("{label} ({} MiB)", b >> 20),
                    })
                    .collect();
                let wipe = if l.wipe { "wipe it, then " } else { "" };
                format!("{wipe}write a GPT on {}: {}", l.disk, parts.join(", "))
            }
            Step::Snapshot(snap) => format!(
                "zero the header of {}, dmsetup create {} --table \"{}\", blockdev --setro {}",
                snap.cow,
                crate::devmapper::SNAPSHOT_NAME,
                snap.table(),
                snap.origin_disk
            ),
            Step::Add {
                pool,
                ashift,
                class,
                devices,
            } => render::add(pool, *ashift, *class, devices),
            Step::Remove { pool, vdev } => render::remove(pool, vdev),
        }
    }
}

fn slop(pool_bytes: u64) -> u64 {
    (pool_bytes / 32).max(MIN_SLOP)
}

/// The snapshot of the origin device `path` (a partition or a whole disk) over `cow`.
fn snapshot_of(
    disks: &[BlockDevice],
    path: &str,
    cow: String,
) -> Option<crate::devmapper::Snapshot> {
    let disk = disks.iter().find(|d| d.owns_path(path))?;
    let bytes = disk
        .partitions
        .iter()
        .find(|p| p.paths.iter().any(|q| q == path))
        .map_or(disk.size_bytes, |p| p.size_bytes);
    Some(crate::devmapper::Snapshot {
        origin: path.to_string(),
        origin_disk: disk.stable_path().to_string(),
        cow,
        sectors: bytes / 512,
    })
}

/// A local disk's part in the plan.
enum LocalState<'a> {
    /// Its data partition is already a vdev of the pool.
    InPool,
    /// It carries zevac's partitions (a crash after partitioning), not yet added.
    Partitioned(&'a BlockDevice),
    /// Blank, or allowed to be wiped: partition it.
    ToPartition(&'a BlockDevice, bool),
}

/// The disk for the store: the largest of those to partition (the most room beside it); ties go
/// to the first stable path, so the kernel's probe order never decides.
fn store_disk(states: &[LocalState]) -> Option<String> {
    states
        .iter()
        .filter_map(|s| match s {
            LocalState::ToPartition(d, _) => Some(*d),
            _ => None,
        })
        .min_by(|a, b| {
            b.size_bytes
                .cmp(&a.size_bytes)
                .then_with(|| a.stable_path().cmp(b.stable_path()))
        })
        .map(|d| d.stable_path().to_string())
}

/// Whether `layout`'s partitions fit disk `d` as the partitioner sizes them; why not.
fn fits(d: &BlockDevice, l: &DiskLayout) -> Result<(), String> {
    match l.data_bytes(d.size_bytes) {
        Some(_) => Ok(()),
        None => Err(format!(
            "local disk {} ({} MiB) is too small for zevac's partitions: the GPT's {} MiB, {} MiB \
             of special, {} MiB of cache and {} MiB of copy-on-write store leave less than the {} \
             MiB ZFS needs for a data vdev",
            l.disk,
            d.size_bytes >> 20,
            GPT_OVERHEAD >> 20,
            l.special_bytes >> 20,
            l.cache_bytes >> 20,
            l.cow_bytes >> 20,
            MIN_DATA_BYTES >> 20
        )),
    }
}

/// Decides. `pool` is the inspected pool (imported).
pub fn plan(config: &Config, disks: &[BlockDevice], pool: &PoolState) -> Decision {
    let refuse = |reason: String| Decision::Refuse { reason };
    let name = &config.pool;
    let locals: Vec<&BlockDevice> = disks.iter().filter(|d| d.role == Role::Local).collect();
    if locals.is_empty() {
        return Decision::Nothing {
            reason: "no local disks: the pool stays on its origin".into(),
        };
    }

    // Preconditions of OpenZFS device removal (OpenZFS's vdev_removal.c, spa_vdev_remove_top_check).
    if let Some(v) = pool
        .status
        .vdevs
        .iter()
        .find(|v| matches!(v.kind, VdevKind::Raidz | VdevKind::Draid))
    {
        return refuse(format!(
            "pool {name} has a {} vdev ({}); ZFS cannot remove a vdev from a pool with raidz or draid",
            if v.kind == VdevKind::Raidz { "raidz" } else { "draid" },
            v.name
        ));
    }
    if let Some(bytes) = pool.checkpoint_bytes {
        return refuse(format!(
            "pool {name} has a checkpoint ({} KiB); ZFS cannot remove a vdev while one exists \
             (discard it with `zpool checkpoint -d {name}`)",
            bytes >> 10
        ));
    }
    if !pool.locked_datasets.is_empty() {
        return refuse(format!(
            "the encryption keys of {} are not loaded; ZFS's removal can fail on them (load them first)",
            pool.locked_datasets.join(", ")
        ));
    }
    if !pool.device_removal_feature {
        return refuse(format!("pool {name} has the device_removal feature disabled; enable it with `zpool set feature@device_removal=enabled {name}`"));
    }

    // Where the removal stands.
    let origin_side = Origin::new(config, disks);
    let origin_vdevs = origin_side.vdevs(&pool.status);
    if let Some(r) = &pool.status.removal {
        if r.state == RemovalState::InProgress {
            let pct = r.percent();
            return Decision::Nothing {
                reason: format!(
                    "the evacuation of {} is running ({pct:.0}%: {} of {} MiB); ZFS carries it on",
                    r.path.as_deref().unwrap_or("the origin"),
                    r.copied >> 20,
                    r.to_copy >> 20
                ),
            };
        }
    }
    let origin = match origin_vdevs.as_slice() {
        [] if pool
            .status
            .removal
            .as_ref()
            .is_some_and(|r| r.state == RemovalState::Finished) =>
        {
            return Decision::Nothing {
                reason: format!("the evacuation is finished: pool {name} lives on the local disks"),
            };
        }
        [] if !origin_side.found() => {
            return refuse("no origin disk found (no EBS or configured origin disk)".into())
        }
        [] => {
            return Decision::Nothing {
                reason: format!("pool {name} has no vdev on the origin disks: nothing to move"),
            }
        }
        [one] => *one,
        many => {
            let names: Vec<&str> = many.iter().map(|v| v.name.as_str()).collect();
            return refuse(format!(
                "pool {name} has {} vdevs on the origin ({}); zevac moves exactly one",
                many.len(),
                names.join(", ")
            ));
        }
    };
    if origin.kind != VdevKind::Disk {
        return refuse(format!(
            "the origin vdev {} is a {:?}, not a single device",
            origin.name, origin.kind
        ));
    }
    let Some(ashift) = pool.origin_ashift else {
        return refuse(format!(
            "cannot read the ashift of the origin vdev {}",
            origin.name
        ));
    };
    let origin_path = origin.path.clone().unwrap_or_else(|| origin.name.clone());
    // Immutable: the pool must reach the origin through the snapshot before anything is added.
    let needs_snapshot =
        origin_side.mode == OriginMode::Immutable && !Origin::is_snapshot(&origin_path);
    if needs_snapshot && !pool.read_only {
        return refuse(format!(
            "pool {name} is imported writable from its origin {origin_path} itself; the immutable \
             origin needs zevac to import it through a snapshot: export the pool first, or set \
             origin.mode = \"in-place\""
        ));
    }

    // The local disks: in the pool already, partitioned by us, blank, or in the way.
    let special = config.special_bytes();
    let cache = config.cache_bytes();
    let in_pool = |d: &BlockDevice| {
        pool.status
            .vdevs
            .iter()
            .any(|v| v.leaves.iter().any(|l| d.owns_path(l)))
    };
    let mut states = Vec::new();
    if needs_snapshot {
        if let Some(d) = locals.iter().find(|d| in_pool(d)) {
            return refuse(format!(
                "the pool on the origin already has local disk {} (an in-place evacuation began): \
                 finish it with origin.mode = \"in-place\"",
                d.stable_path()
            ));
        }
    }
    for d in &locals {
        let ours = d
            .partitions
            .iter()
            .any(|p| p.label.as_deref() == Some(DATA_LABEL));
        let state = if in_pool(d) {
            LocalState::InPool
        } else if ours {
            LocalState::Partitioned(d)
        } else if d.blank {
            LocalState::ToPartition(d, false)
        } else if config.local.allow_wipe {
            LocalState::ToPartition(d, true)
        } else {
            return refuse(format!(
                "local disk {} is not blank (it holds {}); zevac writes only to blank disks unless \
                 local.allow_wipe = true",
                d.stable_path(),
                d.signature.as_deref().unwrap_or("data")
            ));
        };
        states.push(state);
    }

    // The store: one, on the largest disk to partition, unless a disk of ours already has it.
    let has_cow = crate::origin::cow_partition(disks).is_some();
    let cow_disk = (config.cow_bytes() > 0 && !has_cow)
        .then(|| store_disk(&states))
        .flatten();
    if needs_snapshot && !has_cow && cow_disk.is_none() {
        return refuse(format!(
            "the local disks carry zevac's partitions but no copy-on-write store ({COW_LABEL}) for \
             the immutable origin; set origin.mode = \"in-place\", or wipe them"
        ));
    }
    let layout_of = |d: &BlockDevice, wipe: bool| DiskLayout {
        disk: d.stable_path().to_string(),
        special_bytes: special,
        cache_bytes: cache,
        cow_bytes: if cow_disk.as_deref() == Some(d.stable_path()) {
            config.cow_bytes()
        } else {
            0
        },
        wipe,
    };
    // Every partition counted against its disk: what the partitioner would fail on, refused now.
    for s in &states {
        if let LocalState::ToPartition(d, wipe) = s {
            if let Err(reason) = fits(d, &layout_of(d, *wipe)) {
                return refuse(reason);
            }
        }
    }

    // Room: the new vdevs must hold everything on the origin plus ZFS's slop. A read-only import
    // reports 0 allocated; the datasets' `used` (plus room for the pool's own metadata) stands in.
    let origin_alloc = match origin.alloc {
        Some(a) if a > 0 => a,
        _ => pool.used_bytes + pool.used_bytes / 100 + METADATA_MARGIN,
    };
    let mut room: u64 = 0;
    let mut total: u64 = 0;
    for (d, s) in locals.iter().zip(&states) {
        match s {
            LocalState::InPool => {
                for v in pool.status.vdevs.iter().filter(|v| {
                    v.class == VdevClass::Normal && v.leaves.iter().any(|l| d.owns_path(l))
                }) {
                    let size = v.size.unwrap_or(0);
                    total += size;
                    room += size.saturating_sub(v.alloc.unwrap_or(0));
                }
            }
            LocalState::Partitioned(d) => {
                let data = d
                    .partitions
                    .iter()
                    .find(|p| p.label.as_deref() == Some(DATA_LABEL))
                    .map_or(0, |p| p.size_bytes);
                total += data;
                room += data * USABLE_PERCENT / 100;
            }
            LocalState::ToPartition(d, wipe) => {
                let data = layout_of(d, *wipe)
                    .data_bytes(d.size_bytes)
                    .unwrap_or_default();
                total += data;
                room += data * USABLE_PERCENT / 100;
            }
        }
    }
    let need = origin_alloc + slop(total);
    if room < need {
        return refuse(format!(
            "the local disks are too small: they offer about {} MiB for data, the origin holds {} MiB \
             and ZFS keeps {} MiB free",
            room >> 20,
            origin_alloc >> 20,
            slop(total) >> 20
        ));
    }

    // The steps.
    let mut steps = Vec::new();
    let mut data = Vec::new();
    let mut specials = Vec::new();
    let mut caches = Vec::new();
    let mut cow_path = None;
    for s in &states {
        match s {
            LocalState::InPool => {}
            LocalState::Partitioned(d) => {
                for p in &d.partitions {
                    let path = p.paths[0].clone();
                    match p.label.as_deref() {
                        Some(DATA_LABEL) => data.push(path),
                        Some(SPECIAL_LABEL) => specials.push(path),
                        Some(CACHE_LABEL) => caches.push(path),
                        _ => {}
                    }
                }
            }
            LocalState::ToPartition(d, wipe) => {
                let layout = layout_of(d, *wipe);
                data.extend(layout.path_of(DATA_LABEL));
                specials.extend(layout.path_of(SPECIAL_LABEL));
                caches.extend(layout.path_of(CACHE_LABEL));
                cow_path = cow_path.or(layout.path_of(COW_LABEL));
                steps.push(Step::Partition(layout));
            }
        }
    }
    if needs_snapshot {
        let cow = crate::origin::cow_partition(disks)
            .or(cow_path)
            .expect("checked above: a store exists or is planned");
        let Some(snapshot) = snapshot_of(disks, &origin_path, cow).filter(|s| s.sectors > 0) else {
            return refuse(format!(
                "the origin vdev {origin_path} is not a partition or disk of known size"
            ));
        };
        steps.push(Step::Snapshot(snapshot));
    }
    let add = |class, devices: Vec<String>| Step::Add {
        pool: name.clone(),
        ashift,
        class,
        devices,
    };
    if !data.is_empty() {
        steps.push(add(VdevClass::Normal, data));
    }
    if !specials.is_empty() {
        steps.push(add(VdevClass::Special, specials));
    }
    if !caches.is_empty() {
        steps.push(add(VdevClass::Cache, caches));
    }
    steps.push(Step::Remove {
        pool: name.clone(),
        // Immutable: what the pool will call the origin once imported through the snapshot.
        vdev: if needs_snapshot {
            crate::devmapper::SNAPSHOT_PATH.into()
        } else {
            origin_path
        },
    });
    Decision::Steps { steps }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{
        recorded_disks, recorded_pool, recorded_readonly_pool, with_zfs_whole_disk_partition,
    };

    const EBS_PART: &str =
        "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0b2bbaafa22850faa-part2";
    const IS0: &str = "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_AWSE28577B5D030CADB9";
    const IS1: &str = "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_AWS129EA13962D6AFE69";

    /// The recorded pools were imported writable from EBS, as the in-place mode does.
    fn in_place() -> Config {
        let mut c = Config::default();
        c.origin.mode = OriginMode::InPlace;
        c
    }

    /// The recorded machine with only the two instance stores the recorded pool uses (the
    /// others carried the raidz pool).
    fn machine(version: &str) -> Vec<BlockDevice> {
        recorded_disks(version)
            .into_iter()
            .filter(|d| d.role != Role::Local || d.paths[0] == IS0 || d.paths[0] == IS1)
            .collect()
    }

    /// The recorded machine for the immutable mode's first boot. The recorded sysfs dump has no
    /// partition sizes: the EBS partition's is the recorded `blkid -p`'s PART_ENTRY_SIZE.
    fn immutable_machine() -> Vec<BlockDevice> {
        let sectors: u64 = crate::testing::fixture("2.3.2", "blkid_origin.stdout")
            .lines()
            .find_map(|l| l.strip_prefix("PART_ENTRY_SIZE="))
            .unwrap()
            .parse()
            .unwrap();
        let mut disks = machine("2.3.2");
        let ebs = disks.iter_mut().find(|d| d.role == Role::Origin).unwrap();
        for p in ebs
            .partitions
            .iter_mut()
            .filter(|p| p.paths.iter().any(|q| q == EBS_PART))
        {
            p.size_bytes = sectors * 512;
        }
        disks
    }

    fn steps(d: Decision) -> Vec<Step> {
        match d {
            Decision::Steps { steps } => steps,
            other => panic!("expected steps, got {other:?}"),
        }
    }

    fn reason(d: &Decision) -> &str {
        match d {
            Decision::Nothing { reason } | Decision::Refuse { reason } => reason,
            Decision::Steps { steps } => panic!("expected no steps, got {steps:?}"),
        }
    }

    #[test]
    fn the_recorded_machine_is_classified() {
        let disks = recorded_disks("2.3.2");
        let roles: Vec<(String, Role)> = disks.iter().map(|d| (d.name.clone(), d.role)).collect();
        assert_eq!(
            roles.len(),
            6,
            "hidden nvmeXcYnZ nodes are not disks: {roles:?}"
        );
        assert_eq!(disks.iter().filter(|d| d.role == Role::Origin).count(), 1);
        assert_eq!(disks.iter().filter(|d| d.role == Role::Local).count(), 5);
        let ebs = disks.iter().find(|d| d.role == Role::Origin).unwrap();
        assert!(ebs.owns_path(EBS_PART));
        assert!(ebs.paths[0].starts_with("/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol"));
    }

    #[test]
    fn fresh_boot_partitions_adds_and_removes() {
        for version in ["2.3.2", "2.1.11"] {
            let s = steps(plan(
                &in_place(),
                &machine(version),
                &recorded_pool(version, "imported"),
            ));
            assert_eq!(s.len(), 4, "{version}: {s:?}");
            assert!(matches!(&s[0], Step::Partition(l) if !l.wipe && l.special_bytes == 0));
            assert_eq!(
                s[2],
                Step::Add {
                    pool: "rpool".into(),
                    ashift: 12,
                    class: VdevClass::Normal,
                    // In kernel-name order (nvme3n1, nvme4n1), all in one `zpool add`.
                    devices: vec![format!("{IS0}-part1"), format!("{IS1}-part1")],
                },
                "{version}"
            );
            assert_eq!(
                s[3],
                Step::Remove {
                    pool: "rpool".into(),
                    vdev: EBS_PART.into()
                },
                "{version}"
            );
        }
    }

    #[test]
    fn layout_adds_special_and_cache_partitions() {
        let mut cfg = in_place();
        cfg.layout.special_size = "64MiB".into();
        cfg.layout.cache_size = "32MiB".into();
        let s = steps(plan(
            &cfg,
            &machine("2.3.2"),
            &recorded_pool("2.3.2", "imported"),
        ));
        let adds: Vec<(VdevClass, Vec<String>)> = s
            .iter()
            .filter_map(|st| match st {
                Step::Add { class, devices, .. } => Some((*class, devices.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(adds.len(), 3);
        assert_eq!(adds[1].0, VdevClass::Special);
        assert!(adds[1].1.iter().all(|d| d.ends_with("-part2")));
        assert_eq!(adds[2].0, VdevClass::Cache);
        assert!(adds[2].1.iter().all(|d| d.ends_with("-part3")));
    }

    #[test]
    fn running_and_finished_removals_leave_nothing_to_do() {
        for version in ["2.3.2", "2.1.11"] {
            let mut disks = machine(version);
            disks
                .iter_mut()
                .filter(|d| d.role == Role::Local)
                .for_each(with_zfs_whole_disk_partition);
            for state in ["removing", "paused"] {
                let d = plan(&in_place(), &disks, &recorded_pool(version, state));
                assert!(
                    reason(&d).contains("is running"),
                    "{version} {state}: {d:?}"
                );
            }
            let d = plan(&in_place(), &disks, &recorded_pool(version, "finished"));
            assert!(
                matches!(d, Decision::Nothing { .. }) && reason(&d).contains("finished"),
                "{version}: {d:?}"
            );
        }
    }

    #[test]
    fn a_crash_after_the_add_only_removes() {
        let mut disks = machine("2.3.2");
        disks
            .iter_mut()
            .filter(|d| d.role == Role::Local)
            .for_each(with_zfs_whole_disk_partition);
        let s = steps(plan(&in_place(), &disks, &recorded_pool("2.3.2", "added")));
        assert_eq!(
            s,
            vec![Step::Remove {
                pool: "rpool".into(),
                vdev: EBS_PART.into()
            }]
        );
    }

    /// ZFS cancels a removal on an I/O error: the origin is still in the pool, the local disks
    /// too; the plan is to remove it again.
    #[test]
    fn a_canceled_removal_of_the_origin_is_started_again() {
        let mut disks = machine("2.3.2");
        disks
            .iter_mut()
            .filter(|d| d.role == Role::Local)
            .for_each(with_zfs_whole_disk_partition);
        let mut pool = recorded_pool("2.3.2", "added");
        let canceled = recorded_pool("2.3.2", "canceled").status.removal.unwrap();
        pool.status.removal = Some(crate::zfs::Removal {
            path: Some(EBS_PART.into()),
            ..canceled
        });
        let s = steps(plan(&in_place(), &disks, &pool));
        assert_eq!(
            s,
            vec![Step::Remove {
                pool: "rpool".into(),
                vdev: EBS_PART.into()
            }]
        );
    }

    #[test]
    fn a_crash_after_partitioning_adds_without_partitioning_again() {
        let mut disks = machine("2.3.2");
        for d in disks.iter_mut().filter(|d| d.role == Role::Local) {
            with_zfs_whole_disk_partition(d);
            d.partitions[0].label = Some(DATA_LABEL.into());
        }
        let s = steps(plan(
            &in_place(),
            &disks,
            &recorded_pool("2.3.2", "imported"),
        ));
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(matches!(&s[0], Step::Add { devices, .. } if devices.len() == 2));
    }

    #[test]
    fn refusals() {
        let disks = machine("2.3.2");
        let cfg = in_place();
        let d = plan(&cfg, &disks, &recorded_pool("2.3.2", "checkpointed"));
        assert!(
            matches!(d, Decision::Refuse { .. }) && reason(&d).contains("checkpoint"),
            "{d:?}"
        );

        let mut raidz = recorded_pool("2.3.2", "imported");
        raidz.status = crate::zfs::status::from_json(
            &crate::testing::fixture("2.3.2", "raidz_status_json.stdout"),
            "tank",
        )
        .unwrap();
        let d = plan(&cfg, &disks, &raidz);
        assert!(
            matches!(d, Decision::Refuse { .. }) && reason(&d).contains("raidz"),
            "{d:?}"
        );

        let mut locked = recorded_pool("2.3.2", "imported");
        locked.locked_datasets = vec!["rpool/secret".into()];
        assert!(reason(&plan(&cfg, &disks, &locked)).contains("rpool/secret"));

        // One small instance store for the recorded 267 MiB: too small.
        let mut small: Vec<BlockDevice> = disks
            .iter()
            .filter(|d| d.role != Role::Local || d.paths[0] == IS0)
            .cloned()
            .collect();
        small
            .iter_mut()
            .filter(|d| d.role == Role::Local)
            .for_each(|d| d.size_bytes = 300 << 20);
        let d = plan(&cfg, &small, &recorded_pool("2.3.2", "imported"));
        assert!(
            matches!(d, Decision::Refuse { .. }) && reason(&d).contains("too small"),
            "{d:?}"
        );

        // The same under a read-only import, whose vdevs report 0 allocated (recorded in the lab).
        let mut readonly = recorded_pool("2.3.2", "imported");
        readonly.status = crate::zfs::status::from_json(
            &crate::testing::fixture_in("2.3.2", "readonly", "ro_status_json.stdout"),
            "rpool",
        )
        .unwrap();
        assert_eq!(readonly.status.vdevs[0].alloc, Some(0));
        let d = plan(&cfg, &small, &readonly);
        assert!(
            matches!(d, Decision::Refuse { .. }) && reason(&d).contains("too small"),
            "{d:?}"
        );

        // No origin disk: refuse; no local disk: nothing to do.
        let no_origin: Vec<BlockDevice> = disks
            .iter()
            .filter(|d| d.role != Role::Origin)
            .cloned()
            .collect();
        assert!(matches!(
            plan(&cfg, &no_origin, &recorded_pool("2.3.2", "imported")),
            Decision::Refuse { .. }
        ));
        let no_local: Vec<BlockDevice> = disks
            .iter()
            .filter(|d| d.role != Role::Local)
            .cloned()
            .collect();
        let d = plan(&cfg, &no_local, &recorded_pool("2.3.2", "imported"));
        assert!(matches!(d, Decision::Nothing { .. }) && reason(&d).contains("no local disks"));
    }

    #[test]
    fn a_disk_in_the_way_is_refused_unless_wiping_is_allowed() {
        let mut disks = machine("2.3.2");
        let is0 = disks.iter_mut().find(|d| d.paths[0] == IS0).unwrap();
        is0.blank = false;
        is0.signature = Some("ext4".into());
        let pool = recorded_pool("2.3.2", "imported");
        let d = plan(&in_place(), &disks, &pool);
        assert!(
            matches!(d, Decision::Refuse { .. })
                && reason(&d).contains("ext4")
                && reason(&d).contains("allow_wipe"),
            "{d:?}"
        );
        let mut cfg = in_place();
        cfg.local.allow_wipe = true;
        let s = steps(plan(&cfg, &disks, &pool));
        assert!(
            s.iter()
                .any(|st| matches!(st, Step::Partition(l) if l.disk == IS0 && l.wipe)),
            "{s:?}"
        );
    }

    /// Immutable, first boot: the probe import is read-only from EBS; the plan partitions (the
    /// store on the first disk only), makes the snapshot, and adds and removes through it.
    #[test]
    fn immutable_first_boot_snapshots_the_origin_before_adding() {
        let disks = immutable_machine();
        let s = steps(plan(&Config::default(), &disks, &recorded_readonly_pool()));
        let kinds: Vec<&str> = s
            .iter()
            .map(|s| match s {
                Step::Partition(_) => "partition",
                Step::Snapshot(_) => "snapshot",
                Step::Add { .. } => "add",
                Step::Remove { .. } => "remove",
            })
            .collect();
        assert_eq!(
            kinds,
            ["partition", "partition", "snapshot", "add", "remove"]
        );
        let Step::Partition(first) = &s[0] else {
            unreachable!()
        };
        let Step::Partition(second) = &s[1] else {
            unreachable!()
        };
        // Disks of one size: the store goes to the first stable path, whatever the kernel's order.
        let (with, without) = if first.cow_bytes > 0 {
            (first, second)
        } else {
            (second, first)
        };
        assert_eq!(with.cow_bytes, 256 << 20);
        assert_eq!(without.cow_bytes, 0, "one store");
        assert!(with.disk < without.disk, "{with:?} {without:?}");
        let Step::Snapshot(snap) = &s[2] else {
            unreachable!()
        };
        assert_eq!(snap.origin, EBS_PART);
        assert_eq!(snap.cow, with.path_of(COW_LABEL).unwrap());
        assert_eq!(snap.cow, format!("{}-part2", with.disk));
        let ebs = disks.iter().find(|d| d.role == Role::Origin).unwrap();
        assert_eq!(
            snap.sectors, 2097152,
            "the table the lab recorded: 0 2097152 snapshot ..."
        );
        assert_eq!(snap.origin_disk, ebs.stable_path());
        assert!(
            matches!(&s[4], Step::Remove { vdev, .. } if vdev == crate::devmapper::SNAPSHOT_PATH),
            "{:?}",
            s[4]
        );
    }

    /// Immutable, but the pool is already imported writable from EBS (someone else imported it):
    /// zevac cannot put a snapshot under it, and says what to do.
    #[test]
    fn immutable_refuses_a_pool_imported_writable_from_ebs() {
        let d = plan(
            &Config::default(),
            &machine("2.3.2"),
            &recorded_pool("2.3.2", "imported"),
        );
        assert!(matches!(d, Decision::Refuse { .. }), "{d:?}");
        assert!(
            reason(&d).contains("export the pool first"),
            "{}",
            reason(&d)
        );
    }

    /// Immutable, but the pool on EBS already has the local disks (an in-place run began).
    #[test]
    fn immutable_refuses_to_take_over_an_in_place_evacuation() {
        let mut pool = recorded_pool("2.3.2", "added");
        pool.read_only = true;
        let mut disks = machine("2.3.2");
        disks
            .iter_mut()
            .filter(|d| d.role == Role::Local)
            .for_each(with_zfs_whole_disk_partition);
        let d = plan(&Config::default(), &disks, &pool);
        assert!(reason(&d).contains("in-place evacuation began"), "{d:?}");
    }

    /// The immutable machine with its instance stores replaced by blank ones of `mib` MiB each,
    /// in this (kernel name) order; their serials are fixed by index, so any order of the same
    /// sizes is the same hardware.
    fn uneven_machine(stores: &[(usize, u64)]) -> Vec<BlockDevice> {
        static MACHINE: std::sync::OnceLock<Vec<BlockDevice>> = std::sync::OnceLock::new();
        let mut disks = MACHINE.get_or_init(immutable_machine).clone();
        let template = disks
            .iter()
            .find(|d| d.role == Role::Local)
            .unwrap()
            .clone();
        disks.retain(|d| d.role != Role::Local);
        for (k, (id, mib)) in stores.iter().enumerate() {
            let mut d = template.clone();
            d.name = format!("nvme{}n1", k + 1);
            d.serial = format!("AWS{id:017X}");
            d.paths = vec![
                format!(
                    "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_{}",
                    d.serial
                ),
                format!("/dev/{}", d.name),
            ];
            d.size_bytes = mib << 20;
            disks.push(d);
        }
        disks
    }

    fn layouts(steps: &[Step]) -> Vec<DiskLayout> {
        let mut l: Vec<DiskLayout> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Partition(l) => Some(l.clone()),
                _ => None,
            })
            .collect();
        l.sort_by(|a, b| a.disk.cmp(&b.disk));
        l
    }

    /// The case of the report: a 200 MiB store first in the kernel's order, two of 1 GiB after.
    #[test]
    fn the_store_goes_on_the_largest_disk_whatever_the_kernel_order() {
        let small_first = [(0, 200), (1, 1024), (2, 1024)];
        let small_last = [(1, 1024), (2, 1024), (0, 200)];
        let a = steps(plan(
            &Config::default(),
            &uneven_machine(&small_first),
            &recorded_readonly_pool(),
        ));
        let b = steps(plan(
            &Config::default(),
            &uneven_machine(&small_last),
            &recorded_readonly_pool(),
        ));
        assert_eq!(layouts(&a), layouts(&b));
        let with_cow: Vec<_> = layouts(&a)
            .into_iter()
            .filter(|l| l.cow_bytes > 0)
            .collect();
        assert_eq!(with_cow.len(), 1);
        assert!(
            with_cow[0].disk.ends_with("AWS00000000000000001"),
            "{with_cow:?}"
        );
    }

    #[test]
    fn a_disk_too_small_for_its_partitions_is_refused_by_the_plan() {
        // 64 MiB: no data partition fits beside the GPT. One store that small among big ones is
        // refused too: zevac adds every local disk or none.
        for stores in [vec![(0, 64)], vec![(0, 64), (1, 1024)], vec![(0, 300)]] {
            let d = plan(
                &Config::default(),
                &uneven_machine(&stores),
                &recorded_readonly_pool(),
            );
            assert!(reason(&d).contains("too small"), "{stores:?}: {d:?}");
        }
    }

    proptest::proptest! {
        /// Any sizes, any order: a plan is the same for every order of the same disks; every
        /// partition it writes fits its disk as the partitioner sizes it; one store, on a largest
        /// disk; and disks of 1 GiB and more (room for the recorded pool) always get a plan.
        #[test]
        fn uneven_disks_in_any_order(
            sizes in proptest::collection::vec(16u64..4096, 1..5),
            rotate in 0usize..5,
        ) {
            let stores: Vec<(usize, u64)> = sizes.iter().copied().enumerate().collect();
            let mut other = stores.clone();
            let n = other.len();
            other.rotate_left(rotate % n);
            other.reverse();
            static POOL: std::sync::OnceLock<PoolState> = std::sync::OnceLock::new();
            let pool = POOL.get_or_init(recorded_readonly_pool);
            let a = plan(&Config::default(), &uneven_machine(&stores), pool);
            let b = plan(&Config::default(), &uneven_machine(&other), pool);
            match (&a, &b) {
                (Decision::Steps { steps: sa }, Decision::Steps { steps: sb }) => {
                    proptest::prop_assert_eq!(layouts(sa), layouts(sb));
                    let disks = uneven_machine(&stores);
                    let size = |path: &str| disks.iter().find(|d| d.stable_path() == path).unwrap().size_bytes;
                    let all = layouts(sa);
                    proptest::prop_assert_eq!(all.len(), n);
                    for l in &all {
                        proptest::prop_assert!(l.data_bytes(size(&l.disk)).is_some(), "{:?}", l);
                    }
                    let cows: Vec<_> = all.iter().filter(|l| l.cow_bytes > 0).collect();
                    proptest::prop_assert_eq!(cows.len(), 1);
                    let largest = sizes.iter().max().unwrap() << 20;
                    proptest::prop_assert_eq!(size(&cows[0].disk), largest);
                }
                (Decision::Refuse { reason: ra }, Decision::Refuse { reason: rb }) => {
                    proptest::prop_assert!(ra.contains("too small"), "{}", ra);
                    proptest::prop_assert!(rb.contains("too small"), "{}", rb);
                    proptest::prop_assert!(sizes.iter().any(|&m| m < 1024), "{:?}: {}", sizes, ra);
                }
                _ => proptest::prop_assert!(false, "{:?} / {:?}", a, b),
            }
        }
    }
}

//! The planner on states recorded in the lab.
use super::*;
use crate::config::OriginMode;
use crate::testing::{
    recorded_disks, recorded_pool, recorded_readonly_pool, with_zfs_whole_disk_partition,
};
use crate::zfs::{VdevClass, VdevKind};

const EBS_PART: &str = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0b2bbaafa22850faa-part2";
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

/// The recorded machine once `zpool add` has taken its instance stores (the whole-disk `-part1`
/// partitions the recording shows).
fn machine_after_add(version: &str) -> Vec<BlockDevice> {
    let mut disks = machine(version);
    disks
        .iter_mut()
        .filter(|d| d.role == Role::Local)
        .for_each(with_zfs_whole_disk_partition);
    disks
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

fn refusal(d: Decision) -> Refusal {
    match d {
        Decision::Refuse(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn idle(d: Decision) -> Idle {
    match d {
        Decision::Nothing(i) => i,
        other => panic!("expected nothing to do, got {other:?}"),
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
    cfg.layout.special_size = crate::units::Size::mib(64);
    cfg.layout.cache_size = crate::units::Size::mib(32);
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
        let disks = machine_after_add(version);
        for state in ["removing", "paused"] {
            let d = idle(plan(&in_place(), &disks, &recorded_pool(version, state)));
            assert!(
                matches!(&d, Idle::Running { vdev: Some(v), .. } if v == EBS_PART),
                "{version} {state}: {d:?}"
            );
        }
        let d = idle(plan(
            &in_place(),
            &disks,
            &recorded_pool(version, "finished"),
        ));
        assert_eq!(
            d,
            Idle::Finished {
                pool: "rpool".into()
            },
            "{version}"
        );
    }
}

#[test]
fn a_crash_after_the_add_only_removes() {
    let disks = machine_after_add("2.3.2");
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
    let disks = machine_after_add("2.3.2");
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
    let d = refusal(plan(&cfg, &disks, &recorded_pool("2.3.2", "checkpointed")));
    assert!(
        matches!(d, Refusal::Checkpoint { bytes, .. } if bytes > 0),
        "{d:?}"
    );

    let mut raidz = recorded_pool("2.3.2", "imported");
    raidz.status = crate::zfs::status::from_json(
        &crate::testing::fixture("2.3.2", "raidz_status_json.stdout"),
        "tank",
    )
    .unwrap();
    let d = refusal(plan(&cfg, &disks, &raidz));
    assert!(
        matches!(
            d,
            Refusal::Raidz {
                kind: VdevKind::Raidz,
                ..
            }
        ),
        "{d:?}"
    );

    let mut locked = recorded_pool("2.3.2", "imported");
    locked.locked_datasets = vec!["rpool/secret".into()];
    assert_eq!(
        refusal(plan(&cfg, &disks, &locked)),
        Refusal::KeysNotLoaded {
            datasets: vec!["rpool/secret".into()]
        }
    );

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
    let d = refusal(plan(&cfg, &small, &recorded_pool("2.3.2", "imported")));
    assert!(matches!(d, Refusal::NoRoom { .. }), "{d:?}");

    // The same under a read-only import, whose vdevs report 0 allocated (recorded in the lab).
    let mut readonly = recorded_pool("2.3.2", "imported");
    readonly.status = crate::zfs::status::from_json(
        &crate::testing::fixture_in("2.3.2", "readonly", "ro_status_json.stdout"),
        "rpool",
    )
    .unwrap();
    assert_eq!(readonly.status.vdevs[0].alloc, Some(0));
    let d = refusal(plan(&cfg, &small, &readonly));
    assert!(matches!(d, Refusal::NoRoom { .. }), "{d:?}");

    // No origin disk: refuse; no local disk: nothing to do.
    let no_origin: Vec<BlockDevice> = disks
        .iter()
        .filter(|d| d.role != Role::Origin)
        .cloned()
        .collect();
    assert_eq!(
        refusal(plan(&cfg, &no_origin, &recorded_pool("2.3.2", "imported"))),
        Refusal::NoOriginDisk
    );
    let no_local: Vec<BlockDevice> = disks
        .iter()
        .filter(|d| d.role != Role::Local)
        .cloned()
        .collect();
    let d = idle(plan(&cfg, &no_local, &recorded_pool("2.3.2", "imported")));
    assert_eq!(d, Idle::NoLocalDisks);
}

#[test]
fn a_disk_in_the_way_is_refused_unless_wiping_is_allowed() {
    let mut disks = machine("2.3.2");
    let is0 = disks.iter_mut().find(|d| d.paths[0] == IS0).unwrap();
    is0.blank = false;
    is0.signature = Some("ext4".into());
    let pool = recorded_pool("2.3.2", "imported");
    let d = refusal(plan(&in_place(), &disks, &pool));
    assert_eq!(
        d,
        Refusal::NotBlank {
            disk: IS0.into(),
            holds: "ext4".into()
        }
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
    let d = refusal(plan(
        &Config::default(),
        &machine("2.3.2"),
        &recorded_pool("2.3.2", "imported"),
    ));
    assert_eq!(
        d,
        Refusal::ImportedFromOrigin {
            pool: "rpool".into(),
            origin: EBS_PART.into()
        }
    );
}

/// Immutable, but the pool on EBS already has the local disks (an in-place run began).
#[test]
fn immutable_refuses_to_take_over_an_in_place_evacuation() {
    let mut pool = recorded_pool("2.3.2", "added");
    pool.read_only = true;
    let disks = machine_after_add("2.3.2");
    let d = refusal(plan(&Config::default(), &disks, &pool));
    assert!(matches!(d, Refusal::InPlaceBegun { .. }), "{d:?}");
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
        let d = refusal(plan(
            &Config::default(),
            &uneven_machine(&stores),
            &recorded_readonly_pool(),
        ));
        assert!(
            matches!(d, Refusal::DiskTooSmall { .. } | Refusal::NoRoom { .. }),
            "{stores:?}: {d:?}"
        );
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
            (Decision::Refuse(ra), Decision::Refuse(rb)) => {
                let too_small = |r: &Refusal| matches!(r, Refusal::DiskTooSmall { .. } | Refusal::NoRoom { .. });
                proptest::prop_assert!(too_small(ra), "{}", ra);
                proptest::prop_assert!(too_small(rb), "{}", rb);
                proptest::prop_assert!(sizes.iter().any(|&m| m < 1024), "{:?}: {}", sizes, ra);
            }
            _ => proptest::prop_assert!(false, "{:?} / {:?}", a, b),
        }
    }
}

/// The sentences the refusals and idle reasons read as, each checked once (the tests above
/// match variants); the JSON keeps the sentence as `reason`, beside the variant's name.
#[test]
fn refusals_and_idle_reasons_read_as_sentences() {
    let pool = || "rpool".to_string();
    let cases: Vec<(Decision, String)> = vec![
        (
            Refusal::Checkpoint { pool: pool(), bytes: 4 << 20 }.into(),
            "pool rpool has a checkpoint (4096 KiB); ZFS cannot remove a vdev while one exists \
             (discard it with `zpool checkpoint -d rpool`)"
                .into(),
        ),
        (
            Refusal::Raidz { pool: pool(), kind: VdevKind::Raidz, vdev: "raidz1-0".into() }.into(),
            "pool rpool has a raidz vdev (raidz1-0); ZFS cannot remove a vdev from a pool with raidz or draid".into(),
        ),
        (
            Refusal::KeysNotLoaded { datasets: vec!["rpool/secret".into()] }.into(),
            "the encryption keys of rpool/secret are not loaded; ZFS's removal can fail on them (load them first)".into(),
        ),
        (
            Refusal::NotBlank { disk: IS0.into(), holds: "ext4".into() }.into(),
            format!("local disk {IS0} is not blank (it holds ext4); zevac writes only to blank disks unless local.allow_wipe = true"),
        ),
        (
            Refusal::NoRoom { room: 200 << 20, origin: 267 << 20, slop: 128 << 20 }.into(),
            "the local disks are too small: they offer about 200 MiB for data, the origin holds 267 MiB and ZFS keeps 128 MiB free".into(),
        ),
        (
            Refusal::DiskTooSmall { disk: IS0.into(), disk_bytes: 64 << 20, special: 0, cache: 0, cow: 256 << 20 }.into(),
            format!("local disk {IS0} (64 MiB) is too small for zevac's partitions: the GPT's 3 MiB, 0 MiB of special, 0 MiB of cache and 256 MiB of copy-on-write store leave less than the 64 MiB ZFS needs for a data vdev"),
        ),
        (
            Refusal::ImportedFromOrigin { pool: pool(), origin: EBS_PART.into() }.into(),
            format!("pool rpool is imported writable from its origin {EBS_PART} itself; the immutable origin needs zevac to import it through a snapshot: export the pool first, or set origin.mode = \"in-place\""),
        ),
        (
            Refusal::InPlaceBegun { disk: IS0.into() }.into(),
            format!("the pool on the origin already has local disk {IS0} (an in-place evacuation began): finish it with origin.mode = \"in-place\""),
        ),
        (Idle::NoLocalDisks.into(), "no local disks: the pool stays on its origin".into()),
        (
            Idle::Running { vdev: Some(EBS_PART.into()), percent: 55.4, copied: 146 << 20, to_copy: 266 << 20 }.into(),
            format!("the evacuation of {EBS_PART} is running (55%: 146 of 266 MiB); ZFS carries it on"),
        ),
        (
            Idle::Finished { pool: pool() }.into(),
            "the evacuation is finished: pool rpool lives on the local disks".into(),
        ),
    ];
    for (decision, sentence) in cases {
        let (text, kind) = match &decision {
            Decision::Refuse(r) => (r.to_string(), r.kind()),
            Decision::Nothing(i) => (i.to_string(), i.kind()),
            Decision::Steps { .. } => unreachable!(),
        };
        assert_eq!(text, sentence);
        let json = serde_json::to_value(&decision).unwrap();
        assert_eq!(json["reason"], sentence.as_str(), "{json}");
        let tag = if matches!(decision, Decision::Refuse(_)) {
            "refusal"
        } else {
            "why"
        };
        assert_eq!(json[tag], kind, "{json}");
    }
}

/// A step's actions are the commands `apply` runs, in order: the snapshot step's `dmsetup`
/// carries `--noudevsync` and is followed by `mknodes`, as the adapter runs it.
#[test]
fn the_printed_snapshot_step_is_what_runs() {
    let s = steps(plan(
        &Config::default(),
        &immutable_machine(),
        &recorded_readonly_pool(),
    ));
    let Step::Snapshot(snap) = &s[2] else {
        panic!("{s:?}")
    };
    let actions = s[2].actions();
    let lines: Vec<String> = actions.iter().map(ToString::to_string).collect();
    assert_eq!(lines[0], format!("zero the header of {}", snap.cow));
    assert_eq!(
        lines[1],
        format!(
            "dmsetup create --noudevsync zevac-origin --table '{}'",
            snap.table()
        )
    );
    assert_eq!(lines[2], "dmsetup mknodes zevac-origin");
    assert_eq!(lines[3], format!("blockdev --setro {}", snap.origin));
    assert_eq!(lines[4], format!("blockdev --setro {}", snap.origin_disk));
    assert_eq!(s[2].describe(), lines.join("; "));
    let Step::Partition(l) = &s[0] else {
        panic!("{s:?}")
    };
    assert_eq!(
        s[0].actions().last().unwrap().to_string(),
        format!("blockdev --rereadpt {}", l.disk)
    );
}

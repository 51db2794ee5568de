//! Test support: the lab's recordings (`bench/fixtures/zfs-*/states`) turned into the inputs of
//! zevac's logic: a sysfs and `/dev/disk/by-id` tree for the real reader, and pool states.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::discover::{self, classify, BlockDevice, Partition};
use crate::inspect::PoolState;
use crate::profile::{Cap, Phase};
use crate::records::{WatchRecord, WatchState};
use crate::zfs::{status, text, PoolProps, ZfsVersion};

/// A recorded output of `bench/fixtures/zfs-VERSION/SET/NAME`.
pub fn fixture_in(version: &str, set: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("bench/fixtures/zfs-{version}/{set}/{name}"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A recorded output of the states walk (`bench/guest/record-states.sh`).
pub fn fixture(version: &str, name: &str) -> String {
    fixture_in(version, "states", name)
}

/// A fresh scratch directory.
pub fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "zevac-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Builds `sys/block` and `by-id` under `root` from the recorded `sysfs` dump and `ls -l` of
/// `/dev/disk/by-id`; returns `(sys, by_id)`.
pub fn recorded_tree(version: &str, root: &Path) -> (PathBuf, PathBuf) {
    let sys = root.join("sys");
    let by_id = root.join("by-id");
    std::fs::create_dir_all(&by_id).unwrap();
    let mut dir = PathBuf::new();
    for line in fixture(version, "sysfs.stdout").lines() {
        if let Some(d) = line.strip_prefix("== /sys/block/") {
            dir = sys.join("block").join(d);
            std::fs::create_dir_all(dir.join("device")).unwrap();
            std::fs::create_dir_all(dir.join("queue")).unwrap();
        } else if let Some((attr, value)) = line.split_once('=') {
            std::fs::write(dir.join(attr), format!("{value}\n")).unwrap();
        }
    }
    for line in fixture(version, "by_id.stdout").lines() {
        let Some((left, target)) = line.split_once(" -> ") else {
            continue;
        };
        let link = left.split_whitespace().last().unwrap();
        std::os::unix::fs::symlink(target, by_id.join(link)).unwrap();
        // A partition link tells us the partition exists (`nvme0n1p2`).
        let kname = target.rsplit('/').next().unwrap();
        if let Some((disk, num)) = kname.split_once('p').filter(|(d, _)| d.starts_with("nvme")) {
            let pdir = sys.join("block").join(disk).join(kname);
            std::fs::create_dir_all(&pdir).unwrap();
            std::fs::write(pdir.join("partition"), format!("{num}\n")).unwrap();
            std::fs::write(pdir.join("size"), "0\n").unwrap();
        }
    }
    (sys, by_id)
}

/// The recorded machine's disks, classified by cloud rules. `blank` is what `blkid -p` said in
/// the recording: the instance stores were blank, the EBS disk was not.
pub fn recorded_disks(version: &str) -> Vec<BlockDevice> {
    let root = scratch();
    let (sys, by_id) = recorded_tree(version, &root);
    let mut disks = discover::sysfs::read_disks(&sys, &by_id).unwrap();
    for d in &mut disks {
        let (role, why) = classify(d, &Default::default());
        d.role = role;
        d.why = why;
        d.blank = d.partitions.is_empty();
        d.signature = (!d.blank).then(|| "gpt".into());
    }
    let _ = std::fs::remove_dir_all(root);
    disks
}

/// Gives `disk` the partitions `zpool add` of a whole disk made in the recording (`-part1`).
pub fn with_zfs_whole_disk_partition(disk: &mut BlockDevice) {
    let by_id = disk.paths[0].clone();
    disk.partitions.push(Partition {
        name: format!("{}p1", disk.name),
        number: 1,
        label: Some("zfs-0000000000000000".into()),
        size_bytes: disk.size_bytes - (8 << 20),
        paths: vec![format!("{by_id}-part1")],
    });
    disk.blank = false;
    disk.signature = Some("gpt".into());
}

/// The pool in recorded state `state` (`imported`, `added`, `removing`, ...), from JSON on 2.3
/// and text on 2.1, with the origin ashift of its recorded label.
pub fn recorded_pool(version: &str, state: &str) -> PoolState {
    let v = ZfsVersion::parse(&fixture(version, "version.stdout")).unwrap();
    let st = if v.has_json() {
        status::from_json(
            &fixture(version, &format!("{state}_status_json.stdout")),
            "rpool",
        )
        .unwrap()
    } else {
        text::status_from_text(
            &fixture(version, &format!("{state}_status.stdout")),
            &fixture(version, &format!("{state}_list.stdout")),
            "rpool",
        )
        .unwrap()
    };
    let props = PoolProps::parse(&fixture(version, &format!("{state}_get.stdout"))).unwrap();
    PoolState {
        status: st,
        version: v,
        checkpoint_bytes: props.checkpoint_bytes().unwrap(),
        read_only: props.get("readonly") == Some("on"),
        device_removal_feature: props.device_removal_available(),
        locked_datasets: Vec::new(),
        // The golden image's `used`, as `zfs get` reported it (bench/fixtures/.../readonly).
        used_bytes: fixture_in("2.3.2", "readonly", "ro_used.stdout")
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap(),
        origin_ashift: Some(text::label_ashift(&fixture(version, "zdb_label.stdout")).unwrap()),
    }
}

/// The golden pool imported read-only from EBS (`zpool import -o readonly=on`, zevac's probe
/// import), recorded on OpenZFS 2.3.2.
pub fn recorded_readonly_pool() -> PoolState {
    let mut pool = recorded_pool("2.3.2", "imported");
    pool.status = status::from_json(
        &fixture_in("2.3.2", "readonly", "ro_status_json.stdout"),
        "rpool",
    )
    .unwrap();
    let props = PoolProps::parse(&fixture_in("2.3.2", "readonly", "ro_get.stdout")).unwrap();
    pool.read_only = props.get("readonly") == Some("on");
    assert!(pool.read_only, "the recording is of a read-only import");
    pool
}

/// A watcher's record in `state`, of the kind the lab's watcher writes (gentle, steady, a 40 MiB/s cap).
pub fn watch_record(state: WatchState) -> WatchRecord {
    WatchRecord {
        pool: "rpool".into(),
        pid: std::process::id(),
        state,
        profile: "gentle".into(),
        phase: Some(Phase::Steady),
        cap_bytes_per_second: Some(40 << 20),
        cap: Some(Cap::Rate(crate::profile::Rate(40 << 20))),
        origin_rate_bytes_per_second: None,
        copied_bytes: 0,
        total_bytes: 0,
        rate_bytes_per_second: Some(f64::from(31 << 20)),
        eta_seconds: None,
        progress: None,
        paused_by_cap: false,
        stalled_seconds: None,
        cow: None,
        snapshot_released_at: None,
        watch_started_at: 0,
        copy_finished_at: None,
        scrub_started_at: None,
        verified_at: None,
        scrub: None,
        message: None,
        updated_at: 1_795_337_460,
    }
}

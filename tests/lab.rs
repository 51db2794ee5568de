//! Lab tests: real OpenZFS in a QEMU guest. Slow (minutes), so `#[ignore]`d for a plain
//! `cargo test`; the README's test command runs them with `--include-ignored`.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use zevac_bench::golden::{self, Golden, Layout};
use zevac_bench::Outcome;
use zevac_bench::{disks, selftest, BootSpec, Disk, Lab, Run, Throttle, ZfsPair};

/// One guest at a time: two emulated VMs on two cores would skew each other's timings.
static LAB: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    LAB.lock().unwrap_or_else(|e| e.into_inner())
}

/// What every scenario starts from: this test's turn at the lab, the prepared lab for `pair`,
/// and the 256 MiB golden image.
struct Scene {
    _turn: MutexGuard<'static, ()>,
    lab: Lab,
    golden: Golden,
}

fn scene(pair: ZfsPair) -> Scene {
    let turn = one_at_a_time();
    let lab = Lab::prepare(pair).expect("preparing the lab");
    let golden = golden::golden(&lab, 256).expect("building the golden image");
    Scene {
        _turn: turn,
        lab,
        golden,
    }
}

/// A run with a copy of the golden image as a throttled EBS volume and `stores` blank instance
/// stores of 1 GiB.
fn ec2_disks(run: &Run, golden: &Golden, throttle: Throttle, stores: usize) -> Vec<Disk> {
    run.ec2_disks(golden, Some(throttle), stores, 1024).unwrap()
}

fn selftest_on(pair: ZfsPair) {
    let _one = one_at_a_time();
    let lab = Lab::prepare(pair).expect("preparing the lab");
    let opts = selftest::Options {
        zevac: Some(env!("CARGO_BIN_EXE_zevac").into()),
        ..Default::default()
    };
    let report = selftest::run(&lab, &opts).expect("running the self-test");
    println!(
        "selftest {pair}: {}",
        serde_json::to_string(&report).unwrap()
    );
    // The guest runs what the lab resolved from the mirror (or kept with its cached build).
    assert!(
        report.zfs_version.starts_with(&lab.pins.zfs_version),
        "{report:?}"
    );
    assert_eq!(report.kernel, lab.pins.kernel.release, "{report:?}");
    assert!(report.manifest_ok, "the data changed: {report:?}");
    assert_eq!(report.scrub_errors, 0, "{report:?}");
    // Everything allocated on EBS was copied: 2.3 counts it (removal_stats); on 2.1 the other
    // vdevs' ALLOC grew by it. Both are measured apart from the origin's ALLOC they are held to.
    let expected = match pair {
        ZfsPair::V2_3 => selftest::Evacuated::RemovalStats,
        ZfsPair::V2_1 => selftest::Evacuated::OtherVdevsAlloc,
    };
    assert_eq!(report.evacuated_from, expected, "{report:?}");
    assert!(
        report.origin_gone,
        "the EBS vdev is still listed: {report:?}"
    );
    assert!(
        report.evacuated_bytes >= report.origin_alloc_bytes * 9 / 10,
        "{report:?}"
    );
    assert!(
        report.other_vdevs_growth_bytes >= report.origin_alloc_bytes * 9 / 10,
        "{report:?}"
    );
    assert!(
        report.evacuated_bytes > 256 << 20,
        "less than the golden image's data was copied: {report:?}"
    );
    let version = report.zevac_version.as_deref().unwrap_or_default();
    assert!(
        version.starts_with("zevac "),
        "the work tree's zevac did not run in the guest: {report:?}"
    );
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn selftest_openzfs_2_3() {
    selftest_on(ZfsPair::V2_3);
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn selftest_openzfs_2_1() {
    selftest_on(ZfsPair::V2_1);
}

/// The lab's crash tools: SIGKILL mid-copy, boot again on the same disks, lift the EBS throttle over
/// QMP; and what OpenZFS does with them: with the copy paused the import is quick even on a slow EBS,
/// the removal resumes after the crash, and the data is intact.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn killed_mid_copy_the_removal_resumes_and_qmp_lifts_the_throttle() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("crash-resume").unwrap();
    const SLOW_MIB: u64 = 4;
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(SLOW_MIB), 2);

    let start = BootSpec::new(
        "removal-start",
        disks.clone(),
        include_str!("guest/removal-start.sh"),
    );
    let mut vm = lab.boot(&run, &start).unwrap();
    vm.wait_mark("removing", Duration::from_secs(300)).unwrap();
    let copy_began = vm.elapsed();
    std::thread::sleep(Duration::from_secs(8));
    vm.kill().unwrap();
    let copy_window = (vm.elapsed() - copy_began).as_secs_f64();
    let origin_alloc = selftest::vdev_alloc(
        &vm.events.cmd("list_before").unwrap().stdout,
        &disks[0].serial,
    )
    .unwrap();

    let resume = BootSpec::new(
        "removal-resume",
        disks,
        include_str!("guest/removal-resume.sh"),
    )
    .file("/lab/manifest.sha256", golden.manifest.clone());
    let mut vm = lab.boot(&run, &resume).unwrap();
    vm.wait_mark("imported", Duration::from_secs(300)).unwrap();
    vm.set_throttle("ebs", None)
        .expect("lifting the throttle over QMP");
    let outcome = vm.wait_exit().unwrap().ok().unwrap();
    let ev = &outcome.events;

    let resumed = ev.cmd("status_resumed").unwrap().stdout;
    assert!(
        resumed.contains("Evacuation of") && resumed.contains("in progress"),
        "not resumed:\n{resumed}"
    );
    let removed = ev.cmd("status_removed").unwrap().stdout;
    assert!(
        removed.contains("Removal of vdev") && removed.contains("completed"),
        "{removed}"
    );
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");

    // At most SLOW_MIB MiB/s were copied before the kill; at that rate the rest would need this long.
    let left_at_slow_rate =
        (origin_alloc as f64 - (SLOW_MIB << 20) as f64 * copy_window) / (SLOW_MIB << 20) as f64;
    let wait = ev.cmd("wait").unwrap().seconds();
    let import = ev.cmd("import").unwrap().seconds();
    println!(
        "crash-resume: import {import:.2} s at {SLOW_MIB} MiB/s, rest of the copy {wait:.1} s unthrottled \
         (at {SLOW_MIB} MiB/s: {left_at_slow_rate:.0} s)"
    );
    // Unpaused, the import would carry the copy on at the slow rate until it was done.
    assert!(
        import < left_at_slow_rate / 4.0,
        "the paused import took {import:.1} s"
    );
    assert!(
        wait < left_at_slow_rate / 2.0,
        "the copy did not speed up after QMP lifted the throttle"
    );
    run.remove_images().unwrap();
}

/// A guest that panics, and one that hangs, end in errors that say so and name the console log.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_panic_or_a_hang_is_a_clear_error() {
    let _one = one_at_a_time();
    let lab = Lab::prepare(ZfsPair::V2_3).unwrap();
    let run = lab.new_run("guest-failures").unwrap();

    let panic = BootSpec::new("panic", vec![], "echo c > /proc/sysrq-trigger\nsleep 60\n");
    let err = lab.run(&run, &panic).unwrap_err().to_string();
    assert!(
        err.contains("panicked") && err.contains("console.log"),
        "{err}"
    );

    let hang =
        BootSpec::new("hang", vec![], "sleep 600\n").timeout(std::time::Duration::from_secs(40));
    let err = lab.run(&run, &hang).unwrap_err().to_string();
    assert!(
        err.contains("did not finish in time") && err.contains("console.log"),
        "{err}"
    );
}

/// A boot of `script` with the work tree's zevac in the guest's /bin and the golden manifest.
fn zevac_spec(name: &str, disks: Vec<Disk>, script: &str, golden: &Golden) -> BootSpec {
    BootSpec::new(name, disks, script)
        .binary("/bin/zevac", env!("CARGO_BIN_EXE_zevac"))
        .file("/lab/manifest.sha256", golden.manifest.clone())
}

/// Boots [`zevac_spec`] to the end, with `config` as /etc/zevac.toml if given.
fn boot_with_zevac(
    lab: &Lab,
    run: &Run,
    golden: &Golden,
    disks: Vec<Disk>,
    script: &str,
    config: Option<&str>,
) -> Outcome {
    let mut spec = zevac_spec("zevac", disks, script, golden);
    if let Some(c) = config {
        spec = spec.file("/etc/zevac.toml", c);
    }
    lab.run(run, &spec).unwrap()
}

/// How many 4 KiB blocks of `a` and `b` differ: what a boot wrote to an image.
fn changed_blocks(a: &std::path::Path, b: &std::path::Path) -> usize {
    use std::io::Read;
    let (mut fa, mut fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut changed = 0;
    loop {
        let n = fa.read(&mut ba).unwrap();
        fb.read_exact(&mut bb[..n]).unwrap();
        if n == 0 {
            return changed;
        }
        changed += ba[..n]
            .chunks(4096)
            .zip(bb[..n].chunks(4096))
            .filter(|(x, y)| x != y)
            .count();
    }
}

/// zevac apply in the initrd, in the default (immutable) mode, on the golden image of `layout`:
/// the plan's dry run, the copy to its end, the data verified and scrubbed, a second apply that
/// finds nothing to do and releases the snapshot, and every EBS volume unwritten.
fn apply_evacuates(pair: ZfsPair, layout: Layout) {
    let _turn = one_at_a_time();
    let lab = Lab::prepare(pair).expect("preparing the lab");
    let golden = golden::golden_in(&lab, layout, 256).expect("building the golden image");
    let pool = layout.pool();
    let run = lab.new_run(&format!("zevac-apply-{pool}")).unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    let ebs: Vec<Disk> = disks
        .iter()
        .filter(|d| d.kind == zevac_bench::DiskKind::Ebs)
        .cloned()
        .collect();
    let before = hashes(&ebs);
    let script = format!("POOL={pool}\n{}", include_str!("guest/apply.sh"));
    let config = format!("pool = \"{pool}\"\n");
    let outcome = boot_with_zevac(&lab, &run, &golden, disks, &script, Some(&config));
    let ev = &outcome.events;

    let apply = ev.cmd("apply").unwrap();
    println!(
        "zevac apply ({pair}, {layout:?}): {:.2} s in the guest\n{}{}",
        apply.seconds(),
        apply.stdout,
        apply.stderr
    );
    assert_eq!(apply.rc, 0, "{}", apply.stderr);
    // The origin's ashift: 12 where the image asked for it, 9 where nixpkgs' builder let ZFS
    // choose on the lab's volume; a removal needs the same on every top-level vdev.
    let ashift = match layout {
        Layout::Partition => 12,
        Layout::WholeDisk => 9,
    };
    assert!(
        apply
            .stdout
            .contains(&format!("zpool add -o ashift={ashift} {pool}"))
            && apply.stdout.contains(&format!("zpool remove {pool}")),
        "{}",
        apply.stdout
    );
    let plan = ev.cmd("plan_before").unwrap();
    assert_eq!(plan.rc, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("write a GPT"),
        "the dry run shows the steps: {}",
        plan.stdout
    );
    let wait = ev.cmd("wait").unwrap();
    println!(
        "copy finished {:.1} s after zevac apply returned",
        wait.end - apply.end
    );
    let done: serde_json::Value =
        serde_json::from_str(&ev.cmd("status_done").unwrap().stdout).unwrap();
    assert_eq!(done["state"], "copied", "{done}");
    let zstatus = ev.cmd("zstatus").unwrap().stdout;
    assert!(
        zstatus.contains("-part1") && !zstatus.contains("Elastic_Block_Store"),
        "the pool is on zevac's partitions:\n{zstatus}"
    );
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
    assert_eq!(
        selftest::scrub_errors(&ev.cmd("status_scrubbed").unwrap().stdout).unwrap(),
        0
    );
    let again = ev.cmd("apply_again").unwrap();
    assert_eq!(again.rc, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("nothing to do") && again.stdout.contains("finished"),
        "{}",
        again.stdout
    );
    // The copy went through the origin's snapshot, and the second apply released it.
    let mapped = |name: &str| ev.cmd(name).unwrap().stdout.contains("zevac-origin");
    assert!(mapped("dm_applied"), "apply made no snapshot mapping");
    assert!(
        !mapped("dm_again"),
        "the second apply left the snapshot: {}",
        ev.cmd("dm_again").unwrap().stdout
    );
    // The immutable origin: ZFS wrote its labels into the snapshot's store, not to EBS.
    let pool_volume = ebs.last().unwrap();
    let changed = changed_blocks(&golden.image, &pool_volume.image);
    println!(
        "EBS: {changed} of {} 4 KiB blocks changed",
        std::fs::metadata(&pool_volume.image).unwrap().len() / 4096
    );
    assert_eq!(changed, 0, "EBS was written");
    assert_eq!(hashes(&ebs), before, "an EBS volume was written");
    run.remove_images().unwrap();
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_apply_evacuates_openzfs_2_3() {
    apply_evacuates(ZfsPair::V2_3, Layout::Partition);
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_apply_evacuates_openzfs_2_1() {
    apply_evacuates(ZfsPair::V2_1, Layout::Partition);
}

/// nixpkgs' EC2 layout: pool `tank` on a whole EBS volume beside a boot volume.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_apply_evacuates_nixpkgs_whole_disk_layout_openzfs_2_3() {
    apply_evacuates(ZfsPair::V2_3, Layout::WholeDisk);
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_apply_evacuates_nixpkgs_whole_disk_layout_openzfs_2_1() {
    apply_evacuates(ZfsPair::V2_1, Layout::WholeDisk);
}

/// sha256 of every image of `disks`.
fn hashes(disks: &[Disk]) -> Vec<String> {
    disks
        .iter()
        .map(|d| disks::sha256(&d.image).unwrap())
        .collect()
}

/// Bad input: zevac refuses (or does nothing) and every disk image stays bit-identical.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn refusals_change_nothing() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let script = include_str!("guest/zevac-apply.sh");
    let check =
        |run: &Run, name: &str, disks: &[Disk], config: Option<&str>, rc: i32, says: &str| {
            let before = hashes(disks);
            let outcome = boot_with_zevac(&lab, run, &golden, disks.to_vec(), script, config);
            let apply = outcome.events.cmd("apply").unwrap();
            println!("{name}: exit {} {}", apply.rc, apply.stdout.trim());
            assert_eq!(apply.rc, rc, "{name}: {}{}", apply.stdout, apply.stderr);
            assert!(apply.stdout.contains(says), "{name}: {}", apply.stdout);
            assert_eq!(hashes(disks), before, "{name}: a disk image changed");
        };

    // No instance store: nothing to do; zevac does not even import the pool.
    let run = lab.new_run("no-stores").unwrap();
    check(
        &run,
        "no-stores",
        &ec2_disks(&run, &golden, Throttle::mib_per_second(32), 0),
        None,
        0,
        "no local disks",
    );
    run.remove_images().unwrap();

    // One instance store too small for the 267 MiB on EBS plus ZFS's slop.
    let run = lab.new_run("too-small").unwrap();
    let mut disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 0);
    let small = run.path("small.img");
    disks::create_blank(&small, 300 << 20).unwrap();
    disks.push(Disk::instance_store(small, 0));
    check(&run, "too-small", &disks, None, 3, "too small");
    run.remove_images().unwrap();

    // An instance store holding ext4: refused and untouched; with wiping allowed, used.
    let run = lab.new_run("not-blank").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    lab.run(
        &run,
        &BootSpec::new("mkfs", disks.clone(), include_str!("guest/make-ext4.sh")),
    )
    .unwrap();
    check(&run, "not-blank", &disks, None, 3, "ext4");
    let wiped = boot_with_zevac(
        &lab,
        &run,
        &golden,
        disks,
        script,
        Some("[local]\nallow_wipe = true\n"),
    );
    let apply = wiped.events.cmd("apply").unwrap();
    assert_eq!(apply.rc, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("wipefs --all") && apply.stdout.contains("write a GPT"),
        "{}",
        apply.stdout
    );
    assert!(
        wiped
            .events
            .cmd("zstatus")
            .unwrap()
            .stdout
            .contains("Evacuation of"),
        "the evacuation did not start"
    );
    run.remove_images().unwrap();

    // An encrypted dataset whose key is not loaded (as in an initrd before the passphrase).
    let run = lab.new_run("locked-key").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    lab.run(
        &run,
        &BootSpec::new(
            "encrypt",
            disks.clone(),
            include_str!("guest/make-encrypted.sh"),
        ),
    )
    .unwrap();
    check(
        &run,
        "locked-key",
        &disks,
        None,
        3,
        "encryption keys of rpool/secret are not loaded",
    );
    run.remove_images().unwrap();
}

/// On a running system, a data pool that is imported, mounted and being written to: `zevac
/// apply --config` (pool `tank`, origin found by the EBS rule) evacuates it without importing
/// anything; the writes go on, and old and new data are there afterwards.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn apply_evacuates_a_data_pool_in_use() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("data-pool").unwrap();
    let mut disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    let data = run.path("data.img");
    disks::create_blank(&data, 512 << 20).unwrap();
    disks.push(Disk::ebs_volume(data, "data").throttled(Throttle::mib_per_second(16)));
    let spec = zevac_spec(
        "data-pool",
        disks,
        include_str!("guest/data-pool-running.sh"),
        &golden,
    )
    .file(
        "/lab/tank.toml",
        "pool = \"tank\"\n[origin]\nmode = \"in-place\"\n",
    );
    let ev = lab.run(&run, &spec).unwrap().events;
    let apply = ev.cmd("apply").unwrap();
    println!(
        "zevac apply on the running system: {:.2} s\n{}{}",
        apply.seconds(),
        apply.stdout,
        apply.stderr
    );
    assert_eq!(apply.rc, 0, "{}", apply.stderr);
    assert!(
        !apply.stdout.contains("imported pool"),
        "the pool was imported already: {}",
        apply.stdout
    );
    assert!(
        apply.stdout.contains("zpool add -o ashift=12 tank")
            && apply.stdout.contains("zpool remove tank"),
        "{}",
        apply.stdout
    );
    let started = ev.cmd("zstatus_started").unwrap().stdout;
    assert!(started.contains("Evacuation of"), "{started}");
    assert_eq!(ev.cmd("wait").unwrap().rc, 0);
    let zstatus = ev.cmd("zstatus").unwrap().stdout;
    assert!(
        zstatus.contains("Instance_Storage") && !zstatus.contains("Elastic_Block_Store"),
        "tank is on the instance stores only:\n{zstatus}"
    );
    let done = json_of(&ev, "status_done");
    assert_eq!(done["pool"], "tank", "{done}");
    assert_eq!(done["state"], "copied", "{done}");
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the old data changed");
    let (written, files) = (number_of(&ev, "written"), number_of(&ev, "new_files"));
    println!("the writer wrote {written} files of 2 MiB during apply and the copy");
    assert!(
        written > 0 && files == written,
        "{written} written, {files} found"
    );
    run.remove_images().unwrap();
}

/// A checkpoint and a raidz vdev are refused with their reasons.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn checkpoint_and_raidz_are_refused() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("checkpoint-raidz").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 4);
    // tank: its three raidz disks play the origin, the fourth instance store the local disk.
    let glob = |d: &Disk| format!("\"/dev/disk/by-id/*_{}\"", d.serial);
    let tank = format!(
        "pool = \"tank\"\n[origin]\ndisks = [{}]\n[local]\ndisks = [{}]\n",
        disks[2..].iter().map(glob).collect::<Vec<_>>().join(", "),
        glob(&disks[1])
    );
    let spec = zevac_spec(
        "refusals",
        disks,
        include_str!("guest/checkpoint-and-raidz.sh"),
        &golden,
    )
    .file("/lab/tank.toml", tank);
    let ev = lab.run(&run, &spec).unwrap().events;
    for (name, says) in [("apply_checkpoint", "checkpoint"), ("apply_raidz", "raidz")] {
        let c = ev.cmd(name).unwrap();
        println!("{name}: exit {} {}", c.rc, c.stdout.trim());
        assert_eq!(c.rc, 3, "{name}: {}{}", c.stdout, c.stderr);
        assert!(c.stdout.contains(says), "{name}: {}", c.stdout);
    }
    run.remove_images().unwrap();
}

/// SIGKILL during the copy, boot again: zevac imports quickly with the copy paused, leaves the
/// running removal alone, and it completes with the data intact.
/// The seconds of zevac's own import in an `apply` output ("imported pool rpool in 0.96 s").
fn import_seconds(apply_stdout: &str) -> f64 {
    apply_stdout
        .split("imported pool rpool in ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no import time in {apply_stdout}"))
}

/// Reboot mid-copy (immutable origin): the VM is killed at five points of the copy, early to
/// late, each boot resuming where the last one left off; a sixth boot finishes. Every import
/// after a crash is within 2 s of the first boot's, the copy completes verified, the golden
/// data is intact and EBS is bit-identical to the golden image after every boot.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn killed_at_five_points_of_the_copy_the_pool_resumes_and_ebs_stays_golden() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("kill-points").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(4), 2);
    let golden_hash = disks::sha256(&golden.image).unwrap();
    let total_mib = golden.pool_alloc_bytes >> 20;
    let (mut imports, mut done_mib) = (Vec::new(), 0);
    for percent in [5, 25, 50, 75, 90] {
        let target_mib = total_mib * percent / 100;
        let script = format!(
            "TARGET_MIB={target_mib}\nDONE_MIB={done_mib}\n{}",
            include_str!("guest/kill-at.sh")
        );
        let spec = zevac_spec(
            &format!("kill-at-{percent}"),
            disks.clone(),
            &script,
            &golden,
        );
        let mut vm = lab.boot(&run, &spec).unwrap();
        let reached = vm.wait_mark("reached", Duration::from_secs(300)).unwrap();
        vm.kill().unwrap();
        // Mid-copy: ZFS still had the removal running when the guest marked the kill point.
        let at_kill = json_of(&vm.events, "status_reached");
        assert_eq!(
            at_kill["state"], "evacuating",
            "the kill at {percent}% did not land mid-copy: {at_kill}"
        );
        done_mib += reached.fields["read_mib"].parse::<u64>().unwrap();
        let apply = vm.events.cmd("apply").unwrap();
        assert_eq!(apply.rc, 0, "{}", apply.stderr);
        let import = import_seconds(&apply.stdout);
        println!(
            "killed at {percent}% ({done_mib} of {total_mib} MiB read by the copy in all boots); \
             this boot's apply {:.2} s, its import {import:.2} s; ZFS's copied counter at {}% \
             when apply returned, {} MiB left to copy",
            apply.seconds(),
            json_of(&vm.events, "status_applied")["percent"],
            vm.events
                .find("mark", Some("applied"))
                .map_or("?".into(), |e| e.fields["left_mib"].clone())
        );
        imports.push(import);
        assert_eq!(
            disks::sha256(&disks[0].image).unwrap(),
            golden_hash,
            "EBS changed in the boot killed at {percent}%"
        );
    }
    let spec = zevac_spec(
        "finish",
        disks.clone(),
        include_str!("guest/finish.sh"),
        &golden,
    );
    let ev = lab.run(&run, &spec).unwrap().events;
    let apply = ev.cmd("apply").unwrap();
    assert_eq!(apply.rc, 0, "{}", apply.stderr);
    assert!(apply.stdout.contains("is running"), "{}", apply.stdout);
    imports.push(import_seconds(&apply.stdout));
    let watch = ev.cmd("watch").unwrap();
    assert_eq!(watch.rc, 0, "{}{}", watch.stdout, watch.stderr);
    let done = json_of(&ev, "status_done");
    assert_eq!(done["state"], "verified", "{done}");
    assert_eq!(done["scrub"]["errors"], 0, "{done}");
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the golden data");
    assert_eq!(
        disks::sha256(&disks[0].image).unwrap(),
        golden_hash,
        "EBS changed"
    );
    println!("imports (first boot, then after each crash): {imports:.2?}");
    for (i, after_crash) in imports[1..].iter().enumerate() {
        assert!(
            *after_crash < imports[0] + 2.0,
            "import {} after a crash took {after_crash:.2} s against {:.2} s",
            i + 1,
            imports[0]
        );
    }
    run.remove_images().unwrap();
}

/// The immutable origin with a copy-on-write store far too small (1 MiB; ZFS writes about 2 MiB
/// there, and a full store invalidates the snapshot, which suspends the pool: seen in the lab).
/// zevac refuses it before it changes anything: exit 2 with the reason, no pool imported, no
/// mapping, every disk image bit-identical.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_copy_on_write_store_too_small_is_refused_before_anything_changes() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("cow-too-small").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    let before = hashes(&disks);
    let outcome = boot_with_zevac(
        &lab,
        &run,
        &golden,
        disks.clone(),
        include_str!("guest/zevac-apply.sh"),
        Some("[layout]\ncow_size = \"1MiB\"\n"),
    );
    let ev = &outcome.events;
    let apply = ev.cmd("apply").unwrap();
    println!("apply (exit {}): {}", apply.rc, apply.stderr.trim());
    assert_eq!(apply.rc, 2, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stderr.contains("layout.cow_size") && apply.stderr.contains("at least 64MiB"),
        "{}",
        apply.stderr
    );
    assert!(
        ev.cmd("zstatus")
            .unwrap()
            .stdout
            .contains("no pools available")
            || ev
                .cmd("zstatus")
                .unwrap()
                .stderr
                .contains("no pools available"),
        "nothing imported"
    );
    assert_eq!(hashes(&disks), before, "a disk image changed");
    run.remove_images().unwrap();
}

/// Instance stores of uneven sizes, the small one first in the kernel's order. A 300 MiB store
/// cannot hold the 256 MiB copy-on-write store beside a data partition: the plan puts the store on
/// a 1 GiB disk, and the copy runs to a verified end. A 64 MiB store holds no data partition at
/// all: plan and apply both refuse, and no disk changes.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn uneven_instance_stores_evacuate_or_are_refused_before_anything_changes() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    for (small_mib, expect) in [(64, "refuse"), (300, "evacuate")] {
        let run = lab.new_run(&format!("uneven-{small_mib}")).unwrap();
        let mut disks = run
            .ec2_disks(&golden, Some(Throttle::mib_per_second(32)), 0, 0)
            .unwrap();
        for (i, mib) in [small_mib, 1024, 1024].into_iter().enumerate() {
            let img = run.path(&format!("is{i}.img"));
            disks::create_blank(&img, mib << 20).unwrap();
            disks.push(Disk::instance_store(img, i));
        }
        let before = hashes(&disks);
        let script = format!("EXPECT={expect}\n{}", include_str!("guest/uneven.sh"));
        let outcome = boot_with_zevac(&lab, &run, &golden, disks.clone(), &script, None);
        let ev = &outcome.events;
        let (plan, apply) = (ev.cmd("plan").unwrap(), ev.cmd("apply").unwrap());
        println!(
            "{small_mib} MiB first: plan exit {}, apply exit {}\n{}{}",
            plan.rc, apply.rc, apply.stdout, apply.stderr
        );
        if expect == "refuse" {
            for c in [&plan, &apply] {
                assert_eq!(c.rc, 3, "refused: {}{}", c.stdout, c.stderr);
                assert!(
                    format!("{}{}", c.stdout, c.stderr)
                        .contains("is too small for zevac's partitions"),
                    "{}{}",
                    c.stdout,
                    c.stderr
                );
            }
            let z = ev.cmd("zstatus").unwrap();
            assert!(
                format!("{}{}", z.stdout, z.stderr).contains("no pools available"),
                "nothing imported: {}",
                z.stdout
            );
            assert!(!ev.cmd("dm").unwrap().stdout.contains("zevac-origin"));
            assert_eq!(hashes(&disks), before, "a disk image changed");
        } else {
            assert_eq!(plan.rc, 0, "{}{}", plan.stdout, plan.stderr);
            assert_eq!(apply.rc, 0, "{}", apply.stderr);
            let small = disks[1].by_id();
            let cow_line = apply
                .stdout
                .lines()
                .find(|l| l.contains("zevac-cow ("))
                .unwrap_or_else(|| panic!("no store in the plan:\n{}", apply.stdout));
            assert!(
                !cow_line.contains(&format!("{small}:")),
                "the store went on the small disk: {cow_line}"
            );
            assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
            let done = ev.cmd("zstatus_done").unwrap().stdout;
            assert!(
                done.contains(&format!("{small}-part1")) && !done.contains("Elastic_Block_Store"),
                "every store holds data, EBS none:\n{done}"
            );
            assert_eq!(hashes(&disks[..1]), before[..1], "EBS was written");
        }
        run.remove_images().unwrap();
    }
}

/// One case of the failure test: `fail_after` for `ZEVAC_TEST_FAIL_AFTER` (empty: a kill at a
/// random moment), after a first boot killed mid-copy if `rebooted`; whether EBS stays as the
/// golden image (`None` where it depends on when the kill lands), and who imports the pool.
struct Fault {
    fail_after: &'static str,
    rebooted: bool,
    ebs_kept: Option<bool>,
    zevac_imports: Option<bool>,
    /// nixpkgs' `boot.zfs.devNodes`: its default, or amazon-image.nix's `/dev/`.
    import_dir: &'static str,
}

const fn fault(fail_after: &'static str, ebs_kept: bool) -> Fault {
    Fault {
        fail_after,
        rebooted: false,
        ebs_kept: Some(ebs_kept),
        zevac_imports: Some(ebs_kept),
        import_dir: "/dev/disk/by-id",
    }
}

/// A first boot that starts the copy (EBS throttled to 4 MiB/s, so that it is still running),
/// then a kill of the VM: the instance stores now carry the pool.
fn boot_killed_mid_copy(lab: &Lab, run: &Run, golden: &Golden, disks: &[Disk]) {
    let script = "run apply zevac apply\nmark applied\nwhile true; do sleep 10; done\n";
    let spec = zevac_spec("first", disks.to_vec(), script, golden);
    let mut vm = lab.boot(run, &spec).unwrap();
    vm.wait_mark("applied", Duration::from_secs(300)).unwrap();
    vm.kill().unwrap();
    let apply = vm.events.cmd("apply").unwrap();
    assert_eq!(apply.rc, 0, "the first boot: {}", apply.stderr);
    assert!(apply.stdout.contains("zpool remove"), "{}", apply.stdout);
}

/// `zevac apply` made to fail right after each of its steps (a debug-build switch), killed
/// outright at a random moment of its run, the fall-back's start of the removal refused (so
/// that it stops allocations instead), and a failure before the import in a boot after a crash
/// mid-copy (the pool then needs the snapshot and the instance stores). After each, what a NixOS
/// initrd does next: the unit's `ExecStopPost` (`zevac recover`), nixpkgs' import as it renders
/// it (no device-mapper by-id links; `-d /dev/disk/by-id`, nixpkgs' default, and once `-d /dev/`,
/// amazon-image.nix's), the root's mounts, and 1 GiB of writes (four times the snapshot's store). The pool always imports, takes the writes and stays healthy. EBS:
/// unchanged once the local disks are in the pool; written by the boot's own import when zevac
/// gave the pool back before that.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_failure_at_any_step_leaves_a_pool_that_imports_and_takes_writes() {
    let _turn = one_at_a_time();
    let lab = Lab::prepare(ZfsPair::V2_3).expect("preparing the lab");
    // Room on EBS alone for the golden data and the 1 GiB the boot writes after a fall-back.
    let golden = golden::golden_sized(&lab, Layout::Partition, 256, 2048).unwrap();
    let golden_hash = disks::sha256(&golden.image).unwrap();
    let kill_secs = 1 + std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        % 8;
    let faults = [
        fault("probe", false),
        fault("partition", false),
        fault("snapshot", false),
        Fault {
            import_dir: "/dev/",
            ..fault("import", false)
        },
        fault("add", true),
        fault("add,guard", true),
        fault("remove", true),
        Fault {
            ebs_kept: None,
            zevac_imports: None,
            ..fault("", false)
        },
        Fault {
            rebooted: true,
            ..fault("snapshot", true)
        },
    ];
    let mut table = Vec::new();
    for case in faults {
        let mut name = match (case.fail_after, case.rebooted) {
            ("", _) => "kill".to_string(),
            (f, false) => f.to_string(),
            (f, true) => format!("reboot,{f}"),
        };
        if case.import_dir == "/dev/" {
            name.push_str(",dev");
        }
        let run = lab
            .new_run(&format!("fault-{}", name.replace(',', "-")))
            .unwrap();
        // Unthrottled but after a crash: what is tested is where the pool lands, not how fast.
        let throttle = case.rebooted.then(|| Throttle::mib_per_second(4));
        let mut disks = run.ec2_disks(&golden, throttle, 2, 2048).unwrap();
        if case.rebooted {
            boot_killed_mid_copy(&lab, &run, &golden, &disks);
            // The same volume, faster: the root's mounts then do not wait a minute behind the
            // copy, and an import that ran the copy inside itself still finishes it there.
            disks[0] = disks[0].clone().throttled(Throttle::mib_per_second(32));
        }
        let kill_after = if case.fail_after.is_empty() {
            kill_secs.to_string()
        } else {
            String::new()
        };
        let script = format!(
            "POOL=rpool\nWRITE_MIB=1024\nFAIL_AFTER={}\nKILL_AFTER={kill_after}\nIMPORT_DIR={}\n{}",
            case.fail_after,
            case.import_dir,
            include_str!("guest/fault.sh")
        );
        let outcome = boot_with_zevac(&lab, &run, &golden, disks.clone(), &script, None);
        table.push(check_fault(
            &outcome.events,
            &name,
            &case,
            &disks[0],
            &golden_hash,
        ));
        run.remove_images().unwrap();
    }
    println!("killed after {kill_secs} s\n{}", table.join("\n"));
}

/// The checks of one failure case, and its row of the table.
fn check_fault(
    ev: &zevac_bench::events::Events,
    name: &str,
    case: &Fault,
    ebs: &Disk,
    golden_hash: &str,
) -> String {
    let recover = ev.cmd("recover").unwrap();
    assert_eq!(
        recover.rc, 0,
        "{name}: {}{}",
        recover.stdout, recover.stderr
    );
    if !case.fail_after.is_empty() {
        let apply = ev.cmd("apply").unwrap();
        assert_eq!(apply.rc, 1, "{name}: {}{}", apply.stdout, apply.stderr);
        let step = case.fail_after.split(',').next().unwrap();
        assert!(
            apply
                .stderr
                .contains(&format!("failing after the {step} step")),
            "{name}: {}",
            apply.stderr
        );
    }
    if case.fail_after.contains("guard") {
        assert!(
            apply_or_recover_said(ev, "failing instead of starting the removal"),
            "{name}: the removal's start was not refused"
        );
        let allocating = ev.cmd("allocating").unwrap().stdout;
        assert_eq!(allocating.trim(), "off", "{name}: {allocating}");
    }
    if case.rebooted {
        // The copy (32 MiB/s now) was just under way: an import that carried it on inside
        // itself would have held the boot for all of it. Paused, the import returns at once.
        let imported = ev.cmd("zstatus_imported").unwrap().stdout;
        let done: f64 = imported
            .split_once("% done")
            .and_then(|(before, _)| before.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("{name}: no copy in progress after the import:\n{imported}"));
        assert!(
            done < 50.0,
            "{name}: the import ran the copy to {done}%:\n{imported}"
        );
    }
    let health = ev.cmd("health").unwrap().stdout;
    let written = ev.cmd("zstatus_written").unwrap().stdout;
    assert_eq!(health.trim(), "ONLINE", "{name}: {written}");
    let by_zevac = ev.find("mark", Some("already_imported")).is_ok();
    if let Some(expected) = case.zevac_imports {
        assert_eq!(by_zevac, expected, "{name}: imported by zevac = {by_zevac}");
    }
    if by_zevac {
        // The snapshot stayed and carried the writes' labels only: valid, its store far from full.
        let dm = ev.cmd("dm_status").unwrap().stdout;
        assert!(!dm.contains("Invalid"), "{name}: {dm}");
    }
    let unchanged = disks::sha256(&ebs.image).unwrap() == golden_hash;
    if let Some(kept) = case.ebs_kept {
        assert_eq!(unchanged, kept, "{name}: EBS unchanged = {unchanged}");
    }
    format!(
        "{name:>14} | {} | pool imported by {} | EBS {}",
        recover.stdout.trim(),
        if by_zevac { "zevac" } else { "nixpkgs' import" },
        if unchanged { "unchanged" } else { "written" }
    )
}

/// Whether `apply` or `recover` logged `text`.
fn apply_or_recover_said(ev: &zevac_bench::events::Events, text: &str) -> bool {
    ["apply", "recover"].iter().any(|c| {
        ev.cmd(c)
            .is_ok_and(|o| o.stdout.contains(text) || o.stderr.contains(text))
    })
}

/// The immutable origin (the default) through a machine's life: a first boot evacuates through
/// a snapshot; a reboot after the copy imports from the instance stores alone; three stop/starts
/// (blank instance stores) find the golden pool again and evacuate it again. EBS stays
/// bit-identical to the golden image throughout.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn the_immutable_origin_survives_reboot_and_stop_start() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("immutable").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    let golden_hash = disks::sha256(&golden.image).unwrap();
    let ebs_unchanged = |when: &str| {
        assert_eq!(
            disks::sha256(&disks[0].image).unwrap(),
            golden_hash,
            "EBS changed {when}"
        );
    };
    let boot = |name: &str, script: &str| {
        let spec = zevac_spec(name, disks.clone(), script, &golden);
        lab.run(&run, &spec).unwrap().events
    };

    let ev = boot("first", include_str!("guest/immutable-first.sh"));
    let apply = ev.cmd("apply").unwrap();
    println!(
        "first boot: zevac apply {:.2} s\n{}",
        apply.seconds(),
        apply.stdout
    );
    assert_eq!(apply.rc, 0, "{}", apply.stderr);
    assert!(
        apply
            .stdout
            .contains("dmsetup create --noudevsync zevac-origin")
            && apply
                .stdout
                .contains("zpool remove rpool /dev/mapper/zevac-origin"),
        "{}",
        apply.stdout
    );
    let plan = json_of(&ev, "plan_applied");
    assert_eq!(plan["origin_mode"], "immutable", "{plan}");
    assert_eq!(plan["access"], "snapshot", "{plan}");
    let table = ev.cmd("dm_table").unwrap().stdout;
    assert!(
        table.contains(" snapshot ") && table.trim_end().ends_with(" P 8"),
        "{table}"
    );
    let applied = json_of(&ev, "status_applied");
    assert_eq!(applied["origin_mode"], "immutable", "{applied}");
    assert_eq!(applied["cow"]["state"], "in-use", "{applied}");
    for name in ["dm_status_applied", "dm_status_copied"] {
        println!("{name}: {}", ev.cmd(name).unwrap().stdout.trim());
    }
    let watch = ev.cmd("watch").unwrap();
    assert_eq!(watch.rc, 0, "{}{}", watch.stdout, watch.stderr);
    let done = json_of(&ev, "status_done");
    assert_eq!(done["state"], "verified", "{done}");
    assert!(done["snapshot_released_at"].is_u64(), "{done}");
    assert!(done["cow"].is_null(), "{done}");
    assert!(
        ev.cmd("dm_ls").unwrap().stdout.contains("No devices found"),
        "the snapshot is gone"
    );
    ebs_unchanged("in the first boot");

    let ev = boot("reboot", include_str!("guest/immutable-reboot.sh"));
    let apply = ev.cmd("apply").unwrap();
    println!(
        "reboot: zevac apply {:.2} s\n{}",
        apply.seconds(),
        apply.stdout
    );
    assert_eq!(apply.rc, 0, "{}", apply.stderr);
    assert!(apply.stdout.contains("finished"), "{}", apply.stdout);
    let zstatus = ev.cmd("zstatus").unwrap().stdout;
    assert!(
        !zstatus.contains("Elastic_Block_Store") && !zstatus.contains("zevac-origin"),
        "{zstatus}"
    );
    assert!(ev.cmd("dm_ls").unwrap().stdout.contains("No devices found"));
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the golden data");
    let new_file = ev.cmd("new_file").unwrap();
    assert_eq!(new_file.stdout.trim(), "written in the first boot");
    ebs_unchanged("by a reboot");

    for round in 1..=3 {
        // Stop/start: the instance stores come back blank.
        for d in &disks[1..] {
            disks::create_blank(&d.image, 1024 << 20).unwrap();
        }
        let ev = boot(
            &format!("stop-start-{round}"),
            include_str!("guest/immutable-fresh.sh"),
        );
        let apply = ev.cmd("apply").unwrap();
        assert_eq!(apply.rc, 0, "{}", apply.stderr);
        assert!(apply.stdout.contains("dmsetup create"), "{}", apply.stdout);
        assert_eq!(
            ev.cmd("verify").unwrap().rc,
            0,
            "round {round}: the golden data"
        );
        assert_ne!(
            ev.cmd("new_file").unwrap().rc,
            0,
            "round {round}: the first boot's file went with the instance stores"
        );
        let watch = ev.cmd("watch").unwrap();
        assert_eq!(watch.rc, 0, "{}{}", watch.stdout, watch.stderr);
        assert_eq!(json_of(&ev, "status_done")["state"], "verified");
        ebs_unchanged(&format!("by stop/start {round}"));
        println!(
            "stop/start {round}: zevac apply {:.2} s, golden data, EBS unchanged",
            apply.seconds()
        );
    }
    run.remove_images().unwrap();
}

/// Write errors on an instance store during the copy (blkdebug, every 2 MiB of its first
/// 700 MiB): ZFS cancels the removal, `zevac watch` fails with ZFS's reason, the pool keeps its
/// data. The next boot, with the disk healthy again, re-creates the snapshot over its store,
/// starts the removal again and finishes it. EBS stays bit-identical throughout.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn write_errors_on_an_instance_store_cancel_the_copy_and_the_next_boot_finishes_it() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("local-write-errors").unwrap();
    let mut disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    let golden_hash = disks::sha256(&golden.image).unwrap();
    let healthy = disks.clone();
    // From 16 MiB into the data partition (which starts at 1 MiB), past ZFS's labels and boot
    // area, to 700 MiB, short of the copy-on-write store if this disk carries it.
    disks[2] = disks[2]
        .clone()
        .failing_writes((17..700).step_by(2).map(|mib| mib * 2048));
    let outcome = boot_with_zevac(
        &lab,
        &run,
        &golden,
        disks,
        include_str!("guest/local-write-errors.sh"),
        None,
    );
    let ev = &outcome.events;
    for name in ["apply", "watch", "zstatus", "dbgmsg"] {
        let c = ev.cmd(name).unwrap();
        println!("{name} (exit {}):\n{}{}", c.rc, c.stdout, c.stderr);
    }
    assert_eq!(ev.cmd("apply").unwrap().rc, 0);
    let watch = ev.cmd("watch").unwrap();
    assert_eq!(watch.rc, 1, "a canceled removal fails the watch");
    assert!(
        watch
            .stderr
            .contains("could not be written to the new disks"),
        "{}",
        watch.stderr
    );
    assert_eq!(json_of(ev, "status")["state"], "canceled");
    assert_eq!(ev.cmd("verify_all").unwrap().rc, 0, "the data is intact");
    assert_eq!(
        disks::sha256(&healthy[0].image).unwrap(),
        golden_hash,
        "EBS changed"
    );

    let spec = zevac_spec(
        "healthy",
        healthy.clone(),
        include_str!("guest/finish.sh"),
        &golden,
    );
    let ev = lab.run(&run, &spec).unwrap().events;
    let apply = ev.cmd("apply").unwrap();
    println!("next boot: {}{}", apply.stdout, apply.stderr);
    assert_eq!(apply.rc, 0, "{}", apply.stderr);
    assert!(
        apply
            .stdout
            .contains("zpool remove rpool /dev/mapper/zevac-origin"),
        "{}",
        apply.stdout
    );
    assert_eq!(json_of(&ev, "status_done")["state"], "verified");
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the golden data");
    assert_eq!(
        disks::sha256(&healthy[0].image).unwrap(),
        golden_hash,
        "EBS changed"
    );
    run.remove_images().unwrap();
}

/// `zevac=off` disables apply; a layout with special and L2ARC partitions is carved and added;
/// the state record is written.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_apply_with_special_and_cache_partitions() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("zevac-layout").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    let config = "[layout]\nspecial_size = \"64MiB\"\ncache_size = \"96MiB\"\n";
    let ev = boot_with_zevac(
        &lab,
        &run,
        &golden,
        disks,
        include_str!("guest/apply-layout.sh"),
        Some(config),
    )
    .events;

    let off = ev.cmd("apply_off").unwrap();
    assert_eq!(off.rc, 0);
    assert!(off.stdout.contains("disabled"), "{}", off.stdout);
    let apply = ev.cmd("apply").unwrap();
    assert_eq!(apply.rc, 0, "{}{}", apply.stdout, apply.stderr);
    println!("{}", apply.stdout);
    let status = ev.cmd("zstatus").unwrap().stdout;
    for heading in ["special", "cache"] {
        assert!(
            status.lines().any(|l| l.trim() == heading),
            "no {heading} vdevs:\n{status}"
        );
    }
    assert!(
        status.contains("-part2") && status.contains("-part3"),
        "{status}"
    );
    let parts = ev.cmd("parts").unwrap().stdout;
    for label in ["zevac-data", "zevac-special", "zevac-cache"] {
        assert_eq!(parts.matches(label).count(), 2, "{label}:\n{parts}");
    }
    let state: serde_json::Value = serde_json::from_str(&ev.cmd("state").unwrap().stdout).unwrap();
    assert_eq!(state["pool"], "rpool");
    assert_eq!(state["local"].as_array().unwrap().len(), 2, "{state}");
    assert_eq!(state["decision"]["decision"], "steps", "{state}");
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
    run.remove_images().unwrap();
}

/// `name:value` lines (`grep -H . PARAMS...` in the guest) as a map.
fn params(ev: &zevac_bench::events::Events, name: &str) -> std::collections::BTreeMap<String, u64> {
    let out = ev.cmd(name).unwrap().stdout;
    out.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().parse().unwrap()))
        .collect()
}

/// A command's stdout as a number.
fn number_of(ev: &zevac_bench::events::Events, name: &str) -> u64 {
    let out = ev.cmd(name).unwrap().stdout;
    out.trim()
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {e}: {out:?}"))
}

/// A command's stdout as JSON.
fn json_of(ev: &zevac_bench::events::Events, name: &str) -> serde_json::Value {
    let cmd = ev.cmd(name).unwrap();
    serde_json::from_str(&cmd.stdout)
        .unwrap_or_else(|e| panic!("{name}: {e}: {}{}", cmd.stdout, cmd.stderr))
}

/// The config the watch scenarios run with.
/// Boots a watch scenario: the EBS copy throttled to `throttle_mib` MiB/s and two instance
/// stores, the config with a metrics file, a 1 s interval and `extra`; checks that the
/// scenario's `zevac apply` succeeded.
fn boot_watch_scenario(
    scene: &Scene,
    name: &str,
    throttle_mib: u64,
    extra: &str,
    script: &str,
) -> (Run, Outcome) {
    let run = scene.lab.new_run(name).unwrap();
    let disks = ec2_disks(
        &run,
        &scene.golden,
        Throttle::mib_per_second(throttle_mib),
        2,
    );
    let config = format!("[watch]\nmetrics_file = \"/run/zevac.prom\"\ninterval = \"1s\"\n{extra}");
    let outcome = boot_with_zevac(
        &scene.lab,
        &run,
        &scene.golden,
        disks,
        script,
        Some(&config),
    );
    let apply = outcome.events.cmd("apply").unwrap();
    assert_eq!(apply.rc, 0, "{}", apply.stderr);
    (run, outcome)
}

fn profiles_apply_and_restore(pair: ZfsPair) {
    let Scene { lab, golden, _turn } = scene(pair);
    let run = lab.new_run("profiles").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 0);
    // The guest reads back every parameter a shipped profile sets.
    let all = zevac::profile::all(std::path::Path::new("/nonexistent")).unwrap();
    let mut names: Vec<&str> = all.values().flat_map(|p| p.all_params()).collect();
    names.push("zfs_removal_suspend_progress");
    names.sort();
    names.dedup();
    let script = format!(
        "PARAMS=\"{}\"\n{}",
        names.join(" "),
        include_str!("guest/profiles.sh")
    );
    let outcome = boot_with_zevac(&lab, &run, &golden, disks, &script, None);
    let ev = &outcome.events;
    let initial = params(ev, "params_initial");
    println!("{pair}: module defaults {initial:?}");
    for (name, profile) in &all {
        for phase in [
            zevac::profile::Phase::Boot,
            zevac::profile::Phase::Steady,
            zevac::profile::Phase::Verify,
        ] {
            let tune = ev.cmd(&format!("tune_{name}_{phase}")).unwrap();
            assert_eq!(tune.rc, 0, "{}{}", tune.stdout, tune.stderr);
            let now = params(ev, &format!("params_{name}_{phase}"));
            for (param, value) in profile.phase(phase) {
                // Read back, or absent from this module and reported as not set.
                match now.get(param) {
                    Some(read) => assert_eq!(read, value, "{name} {phase}: {param}"),
                    None => {
                        let said = format!("{}{}", tune.stdout, tune.stderr);
                        assert!(
                            !initial.contains_key(param) && said.contains(param.as_str()),
                            "{name} {phase}: {param} was not read back: {said}"
                        );
                    }
                }
            }
        }
        let restored = params(ev, &format!("params_restored_{name}"));
        assert_eq!(
            restored, initial,
            "profile {name}: every parameter back as it was"
        );
    }
    let listed = json_of(ev, "profiles");
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
    let bad = ev.cmd("bad_profile").unwrap();
    assert_eq!(bad.rc, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("no profile named \"nosuch\""),
        "{}",
        bad.stderr
    );
    run.remove_images().unwrap();
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn profiles_apply_and_restore_openzfs_2_3() {
    profiles_apply_and_restore(ZfsPair::V2_3);
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn profiles_apply_and_restore_openzfs_2_1() {
    profiles_apply_and_restore(ZfsPair::V2_1);
}

fn watch_verifies(pair: ZfsPair) {
    let (run, outcome) = boot_watch_scenario(
        &scene(pair),
        "watch",
        32,
        "[tunables]\nprofile = \"fast\"\n",
        include_str!("guest/watch.sh"),
    );
    let ev = &outcome.events;
    let fast = zevac::profile::find(std::path::Path::new("/nonexistent"), "fast").unwrap();
    let boot = params(ev, "params_boot");
    assert_eq!(
        boot["zfs_vdev_removal_max_active"], fast.boot["zfs_vdev_removal_max_active"],
        "apply set the boot phase"
    );

    // During the copy: zevac status agrees with ZFS's own counters.
    let during = json_of(ev, "status_during");
    println!("{pair} status during: {during}");
    let zfs = ev.cmd("zfs_during").unwrap().stdout;
    if pair == ZfsPair::V2_3 {
        let z: serde_json::Value = serde_json::from_str(&zfs).unwrap();
        let r = &z["pools"]["rpool"]["removal_stats"];
        assert_eq!(during["total_bytes"], r["to_copy"], "{r}");
        assert!(during["copied_bytes"].as_u64().unwrap() <= r["copied"].as_u64().unwrap());
        assert_eq!(during["origin"], r["path"]);
    } else {
        assert!(
            zfs.contains("Evacuation of") || zfs.contains("Removal of"),
            "{zfs}"
        );
    }
    assert!(
        matches!(
            during["state"].as_str(),
            Some("evacuating" | "verifying" | "copied" | "verified")
        ),
        "{during}"
    );
    assert_eq!(during["profile"], "fast");
    let human = ev.cmd("status_human").unwrap().stdout;
    println!("{human}");
    let calls: Vec<String> = ["status_during", "status_human", "status_after"]
        .iter()
        .map(|c| format!("{:.2} s", ev.cmd(c).unwrap().seconds()))
        .collect();
    println!(
        "{pair}: zevac status took {} in the guest",
        calls.join(", ")
    );
    assert!(human.contains("profile fast"), "{human}");
    let metrics = ev.cmd("metrics_during").unwrap().stdout;
    let parsed: std::collections::BTreeMap<String, f64> = metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
        .collect();
    assert!(
        parsed["zevac_bytes_to_copy{pool=\"rpool\"}"] > 256.0 * 1048576.0,
        "{metrics}"
    );
    assert!(
        parsed.keys().any(|k| k.starts_with("zevac_phase{")),
        "{metrics}"
    );
    // The immutable origin's store: about 2 MiB of ZFS's label writes in the 256 MiB default.
    let cow_used = parsed["zevac_cow_used_bytes{pool=\"rpool\"}"];
    assert_eq!(
        parsed["zevac_cow_size_bytes{pool=\"rpool\"}"],
        256.0 * 1048576.0
    );
    assert!(cow_used > 0.0 && cow_used < 16.0 * 1048576.0, "{metrics}");

    // --watch on a pipe: one line per change, then the result.
    let watched = ev.cmd("status_watch").unwrap();
    println!("status --watch:\n{}", watched.stdout);
    assert_eq!(watched.rc, 0, "{}", watched.stderr);
    assert!(
        watched.stdout.contains("pool rpool: verified"),
        "{}",
        watched.stdout
    );
    assert!(
        watched.stdout.contains("scrub: 0 errors"),
        "{}",
        watched.stdout
    );

    // --watch on the serial console, a terminal: indicatif's bar, e.g. `[=====>    ]  42%  6s`.
    let console = std::fs::read_to_string(&outcome.files.console).unwrap();
    let bars: Vec<&str> = console
        .split(['\r', '\n'])
        .filter(|l| (l.contains("[=") || l.contains("[>")) && l.contains('%'))
        .collect();
    println!(
        "status --watch on the console: {} bar lines, the last: {:?}",
        bars.len(),
        bars.last()
    );
    assert!(
        !bars.is_empty(),
        "no progress bar in {}",
        outcome.files.console.display()
    );

    let watch = ev.cmd("watch").unwrap();
    println!("zevac watch:\n{}{}", watch.stdout, watch.stderr);
    assert_eq!(watch.rc, 0, "{}", watch.stderr);
    assert!(
        watch.stdout.contains("evacuated and verified"),
        "{}",
        watch.stdout
    );

    let after = json_of(ev, "status_after");
    println!("{pair} status after: {after}");
    assert_eq!(after["state"], "verified", "{after}");
    assert_eq!(after["scrub"]["errors"], 0);
    assert_eq!(after["rate_bytes_per_second"], serde_json::Value::Null);
    if pair == ZfsPair::V2_3 {
        let z: serde_json::Value =
            serde_json::from_str(&ev.cmd("zfs_after").unwrap().stdout).unwrap();
        let r = &z["pools"]["rpool"]["removal_stats"];
        assert_eq!(after["copied_bytes"], r["copied"]);
        assert_eq!(after["finished_at"], r["end_time"]);
        assert_eq!(after["mapping_memory_bytes"], r["mapping_memory"]);
    }
    let metrics_after = ev.cmd("metrics_after").unwrap().stdout;
    assert!(
        metrics_after.contains("zevac_state{pool=\"rpool\",state=\"verified\"} 1"),
        "{metrics_after}"
    );
    assert_eq!(
        params(ev, "params_after"),
        params(ev, "params_before"),
        "tunables restored"
    );
    let again = ev.cmd("watch_again").unwrap();
    assert_eq!(again.rc, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("verified"),
        "a second watcher finds the work done: {}",
        again.stdout
    );
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
    run.remove_images().unwrap();
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_watch_drives_the_copy_to_a_verified_end_openzfs_2_3() {
    watch_verifies(ZfsPair::V2_3);
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_watch_drives_the_copy_to_a_verified_end_openzfs_2_1() {
    watch_verifies(ZfsPair::V2_1);
}

/// Copied bytes per second between two `zevac status --json` records.
fn rate_between(ev: &zevac_bench::events::Events, a: &str, b: &str) -> f64 {
    let (ca, cb) = (ev.cmd(a).unwrap(), ev.cmd(b).unwrap());
    let (ja, jb) = (json_of(ev, a), json_of(ev, b));
    let bytes = jb["copied_bytes"].as_u64().unwrap() - ja["copied_bytes"].as_u64().unwrap();
    bytes as f64 / (cb.end - ca.end)
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_share_cap_measures_the_origin_then_holds_the_copy_to_its_share() {
    let (_run, outcome) = boot_watch_scenario(
        &scene(ZfsPair::V2_3),
        "watch-share",
        8,
        "[tunables]\ncap = \"25%\"\n",
        include_str!("guest/watch-share.sh"),
    );
    let ev = &outcome.events;
    let measuring = json_of(ev, "measuring");
    assert_eq!(measuring["cap"], "25%", "{measuring}");
    assert!(
        measuring["cap_bytes_per_second"].is_null() && measuring["paused_by_cap"] == false,
        "uncapped while measuring: {measuring}"
    );
    let measured = json_of(ev, "measured");
    let origin = measured["origin_rate_bytes_per_second"]
        .as_f64()
        .unwrap_or(0.0);
    let mib = f64::from(1 << 20);
    println!(
        "EBS 8 MiB/s: the watcher measured {:.2} MiB/s, cap {}",
        origin / mib,
        measured["cap_bytes_per_second"]
    );
    // The copy alone, one removal I/O queue, against a volume throttled to 8 MiB/s.
    assert!(
        (0.5 * 8.0 * mib..=1.1 * 8.0 * mib).contains(&origin),
        "the measure is the volume's rate: {measured}"
    );
    assert_eq!(
        measured["cap_bytes_per_second"].as_u64(),
        Some((origin * 0.25) as u64),
        "{measured}"
    );
    // Counting from the copy's start, the uncapped stretch is paid back by pausing at once.
    let held = json_of(ev, "held");
    assert_eq!(held["paused_by_cap"], true, "{held}");
    assert_eq!(ev.cmd("suspend").unwrap().stdout.trim(), "1");
    let watch = ev.cmd("watch").unwrap();
    assert_eq!(watch.rc, 0, "{}", watch.stderr);
    // tracing colours its fields: the line, not the exact `from_copy_start=true`.
    let cap_line = watch.stderr.lines().find(|l| l.contains("bandwidth cap"));
    assert!(
        watch
            .stderr
            .contains("measured the origin's rate for a share cap")
            && cap_line.is_some_and(|l| l.contains("from_copy_start") && l.ends_with("true")),
        "{}",
        watch.stderr
    );
    let stopped = json_of(ev, "status_stopped");
    assert_eq!(stopped["state"], "evacuating", "{stopped}");
}

/// The sweep's case: a foreground reading EBS at four times the cap while the copy is held at
/// the cap. The cap counts its reads, so the copy waits while it reads; once it stops, the copy
/// reads EBS again when the cap has allowed what it read before the foreground and the 64 MiB it
/// may have had in flight, not the foreground's reads (about 200 MiB: 50 s more).
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_foreground_heavier_than_the_cap_leaves_the_copy_no_debt() {
    let (run, outcome) = boot_watch_scenario(
        &scene(ZfsPair::V2_3),
        "watch-foreground",
        16,
        "[tunables]\ncap = \"4 MiB/s\"\n",
        include_str!("guest/watch-foreground.sh"),
    );
    let ev = &outcome.events;
    let mib = f64::from(1 << 20);
    let held = json_of(ev, "held");
    assert_eq!(held["cap_bytes_per_second"], 4 << 20, "{held}");
    let foreground = ev.cmd("foreground").unwrap();
    assert_eq!(foreground.rc, 0, "{}", foreground.stderr);
    let read = (number_of(ev, "ebs_after") - number_of(ev, "ebs_before")) as f64;
    let seconds = foreground.end - foreground.start;
    let samples: Vec<(f64, f64)> = ev
        .cmd("ebs_reads")
        .unwrap()
        .stdout
        .lines()
        .filter_map(|l| {
            let (t, b) = l.split_once(' ')?;
            Some((t.parse().ok()?, b.parse().ok()?))
        })
        .collect();
    // The copy's first read of EBS after the foreground: the counter moving by a MiB or more.
    let resumed = samples
        .windows(2)
        .find(|w| w[1].1 - w[0].1 >= mib)
        .map(|w| w[1].0 - foreground.end);
    println!(
        "EBS 16 MiB/s, cap 4 MiB/s: the foreground read {:.0} MiB of EBS in {seconds:.1} s ({:.1} MiB/s); \
         the copy read EBS again {} after it ended (paying for those reads: {:.0} s)",
        read / mib,
        read / seconds / mib,
        resumed.map_or("not within 40 s".into(), |s| format!("{s:.1} s")),
        read / (4.0 * mib),
    );
    assert!(
        read / seconds > 2.0 * 4.0 * mib && read > 96.0 * mib,
        "the foreground must be well above the cap and beyond the 64 MiB in flight"
    );
    // When the cap allows what was read from the copy's start to the foreground's and the
    // 64 MiB in flight (counting from apply's record, on the boot clock), plus the lead the
    // controller keeps (half a drain: at most 32 MiB, 8 s), the watcher's 1-s ticks, and ZFS
    // taking the copy up again (two runs measured 6.6 and 7.2 s over the first bound).
    let start = json_of(ev, "copy_start");
    let (t0, read0) = (
        start["since_boot"].as_f64().unwrap(),
        start["origin_read_bytes"].as_f64().unwrap(),
    );
    let owed = (number_of(ev, "ebs_before") as f64 - read0 + 64.0 * mib) / (4.0 * mib);
    let allowed_after = t0 + owed - foreground.end;
    let resumed = resumed.expect("the copy read EBS again");
    println!(
        "the cap allowed the copy's reads and the 64 MiB in flight {allowed_after:.1} s after it"
    );
    assert!(
        resumed <= allowed_after.max(0.0) + 8.0 + 5.0,
        "the copy waited {resumed:.1} s after the foreground, paying for its reads"
    );
    let watch = ev.cmd("watch").unwrap();
    assert_eq!(watch.rc, 0, "{}", watch.stderr);
    run.remove_images().unwrap();
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_cap_slows_the_copy_and_sigterm_leaves_it_running() {
    cap_and_sigterm(ZfsPair::V2_3);
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_cap_slows_the_copy_and_sigterm_leaves_it_running_openzfs_2_1() {
    cap_and_sigterm(ZfsPair::V2_1);
}

fn cap_and_sigterm(pair: ZfsPair) {
    let (run, outcome) = boot_watch_scenario(
        &scene(pair),
        "watch-cap",
        8,
        "[tunables]\ncap = \"1 MiB/s\"\n",
        include_str!("guest/watch-signals.sh"),
    );
    let ev = &outcome.events;
    let capped = rate_between(ev, "capped_a", "capped_b");
    let uncapped = rate_between(ev, "uncapped_a", "uncapped_b");
    let mib = f64::from(1 << 20);
    println!(
        "{pair}: EBS 8 MiB/s, cap 1 MiB/s: {:.2} MiB/s capped, {:.2} MiB/s after `zevac tune --cap none`",
        capped / mib,
        uncapped / mib
    );
    // The cap averages from the copy's start, so 12 s into stage 2 the copy is still paying back
    // its uncapped stretch: at most the cap here (half again for ZFS's copied counter, which
    // moves only at txg syncs), and clearly faster once the cap is lifted.
    assert!(
        capped <= 1.5 * mib,
        "a 1 MiB/s cap let the copy run at {:.2} MiB/s",
        capped / mib
    );
    assert!(
        uncapped >= 2.0 * mib && capped < uncapped * 0.5,
        "without the cap the copy must be clearly faster: {capped} vs {uncapped}"
    );
    let b = json_of(ev, "capped_b");
    assert_eq!(b["cap_bytes_per_second"], 1 << 20, "{b}");
    assert_eq!(
        params(ev, "params_running")["zfs_removal_suspend_progress"],
        1,
        "the watcher holds the copy at the cap when SIGTERM comes"
    );
    let watch = ev.cmd("watch").unwrap();
    assert_eq!(watch.rc, 0, "{}", watch.stderr);
    assert!(watch.stdout.contains("stopped"), "{}", watch.stdout);
    assert_eq!(
        params(ev, "params_stopped"),
        params(ev, "params_before"),
        "SIGTERM restores the tunables"
    );
    let stopped = json_of(ev, "status_stopped");
    assert_eq!(
        stopped["state"], "evacuating",
        "SIGTERM came mid-copy: {stopped}"
    );
    // The copied counter moves only every ten seconds or so; what proves the copy was left
    // running (not paused by the cap) is that `zpool wait` returns with the copy done.
    assert_eq!(ev.cmd("wait").unwrap().rc, 0);
    // The second watcher may already have started the scrub: the copy's end is what counts.
    let done = json_of(ev, "status_done");
    assert_eq!(done["copied_bytes"], done["total_bytes"], "{done}");
    assert!(
        matches!(
            done["state"].as_str(),
            Some("copied" | "verifying" | "verified")
        ),
        "{done}"
    );
    if pair == ZfsPair::V2_3 {
        // ZFS's end time: JSON only.
        assert!(done["finished_at"].is_u64(), "{done}");
    }
    run.remove_images().unwrap();
}

/// A bad sector on EBS, late in the data: ZFS's copy cannot read it and cancels the removal.
/// `zevac watch` exits 1 with ZFS's reason and the tunables restored; the pool stays imported
/// on its origin and every other file is intact.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_read_error_on_ebs_cancels_the_copy_and_the_watcher_says_why() {
    let scene = scene(ZfsPair::V2_3);
    let (lab, golden) = (&scene.lab, &scene.golden);
    let run = lab.new_run("watch-canceled").unwrap();
    // Where the bad sector goes: found by zdb in a read-only import of the same image.
    let probe = lab
        .run(
            &run,
            &BootSpec::new(
                "find-block",
                ec2_disks(&run, golden, Throttle::mib_per_second(32), 0),
                include_str!("guest/find-late-block.sh"),
            ),
        )
        .unwrap();
    let sector = number_of(&probe.events, "bad_sector");
    let bad_file = probe.events.cmd("file").unwrap().stdout.trim().to_string();
    println!("bad sector {sector}, in {bad_file}");

    let mut disks = ec2_disks(&run, golden, Throttle::mib_per_second(16), 2);
    disks[0] = disks[0].clone().bad_sector(sector);
    let spec = zevac_spec(
        "canceled",
        disks,
        include_str!("guest/watch-canceled.sh"),
        golden,
    )
    .file("/etc/zevac.toml", "[watch]\ninterval = \"1s\"\n");
    let ev = lab.run(&run, &spec).unwrap().events;
    assert_eq!(ev.cmd("apply").unwrap().rc, 0);
    let watch = ev.cmd("watch").unwrap();
    println!(
        "zevac watch: exit {}\n{}{}",
        watch.rc, watch.stdout, watch.stderr
    );
    println!("dbgmsg:\n{}", ev.cmd("dbgmsg").unwrap().stdout);
    assert_eq!(watch.rc, 1, "a canceled removal fails the watch");
    assert!(
        watch.stderr.contains("ZFS canceled the removal")
            && watch.stderr.contains("could not be read from the origin"),
        "{}",
        watch.stderr
    );
    assert_eq!(
        params(&ev, "params_after"),
        params(&ev, "params_before"),
        "tunables restored"
    );
    let status = json_of(&ev, "status");
    println!("status: {status}");
    assert_eq!(status["state"], "canceled", "{status}");
    let zstatus = ev.cmd("zstatus").unwrap().stdout;
    println!("{zstatus}");
    // Immutable: the origin is the snapshot of the EBS partition.
    assert!(
        zstatus.contains("zevac-origin"),
        "the pool keeps its origin:\n{zstatus}"
    );
    assert_eq!(
        status["local"].as_array().unwrap().len(),
        2,
        "the origin is not one of the new disks: {status}"
    );
    // Only the file on the bad sector is unreadable.
    let checked = ev.cmd("verify_all").unwrap().stdout;
    let failed: Vec<&str> = checked
        .lines()
        .filter_map(|l| l.strip_suffix(": FAILED"))
        .collect();
    assert_eq!(failed, [bad_file.as_str()], "{checked}");
    run.remove_images().unwrap();
}

/// OpenStack-style virtio disks with no model: explicit lists in the config name the origin and
/// the local disks. The guest sees the root volume's 4096-byte physical sectors (virtio-blk
/// passes them on; QEMU's NVMe does not), the ephemeral disks' 512, and zevac adds with the
/// label's ashift.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn explicit_lists_move_a_pool_on_virtio_disks() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("openstack-virtio").unwrap();
    let root = run.path("root.img");
    disks::copy_sparse(&golden.image, &root).unwrap();
    let mut list = vec![Disk::virtio(root, "root")
        .sectors(512, 4096)
        .throttled(Throttle::mib_per_second(32))];
    for i in 0..2 {
        let img = run.path(&format!("eph{i}.img"));
        disks::create_blank(&img, 1024 << 20).unwrap();
        list.push(Disk::virtio(img, &format!("eph{i}")));
    }
    let config = "[origin]\ndisks = [\"/dev/disk/by-id/virtio-os-root\"]\n\
                  [local]\ndisks = [\"/dev/disk/by-id/virtio-os-eph*\"]\n";
    let ev = boot_with_zevac(
        &lab,
        &run,
        &golden,
        list,
        include_str!("guest/openstack-virtio.sh"),
        Some(config),
    )
    .events;
    let sectors = ev.cmd("sectors").unwrap().stdout;
    println!("serial, logical, physical sector size in the guest:\n{sectors}");
    assert!(
        sectors.lines().any(|l| l == "os-root 512 4096"),
        "{sectors}"
    );
    assert!(sectors.lines().any(|l| l == "os-eph0 512 512"), "{sectors}");
    let devices = ev.cmd("devices").unwrap().stdout;
    println!("{devices}");
    assert_eq!(
        devices
            .matches("matches the configured local disks")
            .count(),
        2,
        "{devices}"
    );
    assert!(
        devices.contains("matches the configured origin"),
        "{devices}"
    );
    let apply = ev.cmd("apply").unwrap();
    assert_eq!(apply.rc, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("zpool add -o ashift=12 rpool"),
        "{}",
        apply.stdout
    );
    assert_eq!(ev.cmd("wait").unwrap().rc, 0);
    let zstatus = ev.cmd("zstatus").unwrap().stdout;
    assert!(
        zstatus.contains("virtio-os-eph0-part1") && !zstatus.contains("virtio-os-root"),
        "{zstatus}"
    );
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
    run.remove_images().unwrap();
}

/// The benchmark harness's quick sweep (what CI runs so the harness does not rot): zevac's cell
/// and the L2ARC peer's, both with random reads, end with their data intact, and the results
/// files are written. Their numbers are printed, not asserted: speed is the sweep's to report.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn sweep_quick_runs_its_cells_and_writes_the_results() {
    use zevac_bench::sweep::{self, Matrix};
    let Scene { lab, _turn, .. } = scene(ZfsPair::V2_3);
    let out = lab.new_run("sweep-quick").unwrap();
    let zevac = std::path::Path::new(env!("CARGO_BIN_EXE_zevac"));
    let done = sweep::run(&lab, &Matrix::quick(), zevac, &out.dir, false).unwrap();
    assert!(done.failed.is_empty(), "{:?}", done.failed);
    assert_eq!((done.cells.len(), done.peers.len()), (1, 1));
    let r = &done.cells[0];
    assert!(r.ok(), "{r:?}");
    assert!(r.ebs_read_bytes > 0 && r.rate_to_cap.is_some(), "{r:?}");
    assert!(
        r.before.is_some() && r.during.is_some() && r.after.is_some(),
        "{r:?}"
    );
    let p = &done.peers[0];
    assert!(p.manifest_ok, "{p:?}");
    assert!(p.first.is_some() && p.later.is_some(), "{p:?}");
    // The ARC was held to 64 MiB, and the L2ARC caught some of the reads.
    assert_eq!(p.arc_max_bytes, Some(64 << 20), "{p:?}");
    assert!(p.cache_bytes.is_some_and(|b| b > 0), "{p:?}");
    for file in [
        "results.json",
        "results.csv",
        "summary.md",
        "peers.json",
        "matrix.toml",
    ] {
        assert!(out.path(file).exists(), "{file}");
    }
    let summary = std::fs::read_to_string(out.path("summary.md")).unwrap();
    println!("{summary}");
    assert!(
        summary.contains("| 256 MiB | 16 MiB/s | randread | L2ARC on the instance stores |"),
        "{summary}"
    );
    // The capped cell with random reads measures the copy's own rate against the cap, and the
    // summary reports that measure (not "not measured").
    let goals = sweep::goals(&done.cells);
    let own = goals
        .iter()
        .find(|g| g.name.starts_with("the copy's own rate / cap"))
        .expect("the goal of the copy's own rate");
    let measured = own.measured.as_deref().expect("measured by the quick cell");
    assert!(summary.contains(measured), "{measured} not in {summary}");
    assert!(r.copy_rate_to_cap().is_some(), "{r:?}");
}

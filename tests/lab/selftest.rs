//! The lab itself: OpenZFS evacuates the golden image by hand, a killed guest resumes, and a
//! guest that panics or hangs is a clear error.

use std::time::Duration;

use zevac_bench::{selftest, BootSpec, Lab, Throttle, ZfsPair};

use crate::scene::*;

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
        include_str!("../guest/removal-start.sh"),
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
        include_str!("../guest/removal-resume.sh"),
    )
    .file(zevac_bench::golden::MANIFEST, golden.manifest.clone());
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

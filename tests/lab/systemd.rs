//! The lab's systemd boot: Debian's systemd as PID 1 in initrd mode, udev and the scenario as
//! its units, and `zevac watch` as a `Type=notify` unit that systemd reads back.

use zevac_bench::{disks, Throttle, ZfsPair};

use crate::scene::*;

/// `zevac watch` under systemd, as the NixOS module runs it (`Type=notify`,
/// `Restart=on-failure`): READY=1 lets `systemd-run` return; SIGKILL mid-copy and systemd starts
/// it again; `systemctl stop` puts the tunables back and leaves ZFS copying; started again, its
/// status text follows the copy and it ends `success` with the copy verified and the tunables
/// back.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_watch_under_systemd_reports_ready_restarts_and_stops_cleanly() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("systemd-watch").unwrap();
    // 16 MiB/s: the copy (about 17 s) outlasts the kill, the restart and the stop.
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(16), 2);
    let spec = zevac_spec(
        "systemd-watch",
        disks,
        include_str!("../guest/systemd-watch.sh"),
        &golden,
    )
    .file("/etc/zevac.toml", "[watch]\ninterval = \"1s\"\n")
    .under_systemd();
    let ev = lab.run(&run, &spec).unwrap().events;
    assert_eq!(ev.cmd("pid1").unwrap().stdout.trim(), "systemd");
    let unit = |name: &str| shown(&ev, name);
    let started = unit("unit_started");
    assert_eq!(
        started["ActiveState"], "active",
        "READY=1 came: {started:?}"
    );
    let restarted = unit("unit_restarted");
    assert_eq!(
        (
            restarted["ActiveState"].as_str(),
            restarted["NRestarts"].as_str()
        ),
        ("active", "1"),
        "{restarted:?}"
    );
    assert_ne!(restarted["MainPID"], started["MainPID"]);
    // Stopped: SIGTERM, a clean exit, the tunables as before, and ZFS still at it (or done).
    let stopped = unit("unit_stopped");
    assert_eq!(stopped["Result"], "success", "{stopped:?}");
    assert_eq!(params(&ev, "params_stopped"), params(&ev, "params_before"));
    let zfs = ev.cmd("zfs_stopped").unwrap().stdout;
    assert!(
        zfs.contains("Evacuation of") || zfs.contains("Removal of"),
        "{zfs}"
    );
    let during = unit("unit_during");
    assert!(
        ["evacuating rpool", "verifying rpool", "rpool: evacuated"]
            .iter()
            .any(|s| during["StatusText"].contains(s)),
        "{during:?}"
    );
    let after = unit("unit_after");
    assert_eq!(
        (after["Result"].as_str(), after["ExecMainStatus"].as_str()),
        ("success", "0"),
        "{after:?}"
    );
    // systemd clears a stopped service's status text; zevac's own record says how it ended.
    assert_eq!(json_of(&ev, "status_after")["state"], "verified");
    assert_eq!(params(&ev, "params_after"), params(&ev, "params_before"));
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
    run.remove_images().unwrap();
}

/// A boot under NixOS's initrd units as the module and nixpkgs render them
/// ([`zevac_bench::nixos`]), up to the root's mounts: `dropin` (if any) is a drop-in for
/// zevac.service. The initrd's hand-over units are masked: this boot does not switch root.
fn nixos_initrd_spec(
    golden: &zevac_bench::golden::Golden,
    disks: Vec<zevac_bench::Disk>,
    name: &str,
    env: &str,
    dropin: Option<&str>,
) -> zevac_bench::BootSpec {
    let rendered = zevac_bench::nixos::Rendered::load().unwrap();
    let mut spec = rendered
        .initrd(nixos_initrd_part(golden, disks, name, env))
        .unwrap();
    for unit in ["initrd-parse-etc", "initrd-cleanup", "initrd-switch-root"] {
        spec = spec.symlink(&format!("/etc/systemd/system/{unit}.service"), "/dev/null");
    }
    if let Some(conf) = dropin {
        spec = spec.file("/etc/systemd/system/zevac.service.d/lab.conf", conf);
    }
    spec
}

/// The same initrd, then a switch-root into the pool's root and `stage2` there, beside the
/// module's zevac-watch.service ([`zevac_bench::nixos::Rendered::stage2`]).
fn nixos_stage2_spec(
    golden: &zevac_bench::golden::Golden,
    disks: Vec<zevac_bench::Disk>,
    name: &str,
    stage2: &str,
) -> zevac_bench::BootSpec {
    let rendered = zevac_bench::nixos::Rendered::load().unwrap();
    let initrd = nixos_initrd_part(golden, disks, name, "STAGE2=1");
    rendered.stage2(initrd, stage2).unwrap()
}

/// The lab's part of a NixOS initrd boot: the tunables read before zevac.service
/// (`params_before`), and the scenario (`nixos-initrd.sh`) once the root is mounted, before
/// initrd.target is reached.
fn nixos_initrd_part(
    golden: &zevac_bench::golden::Golden,
    disks: Vec<zevac_bench::Disk>,
    name: &str,
    env: &str,
) -> zevac_bench::BootSpec {
    const UNITS: &str = "/etc/systemd/system";
    let script = format!(
        "POOL=rpool\n{env}\n{}",
        include_str!("../guest/nixos-initrd.sh")
    );
    zevac_spec(name, disks, &script, golden)
        .under_systemd()
        .symlink(
            &format!("{UNITS}/initrd.target.wants/lab-scenario.service"),
            "../lab-scenario.service",
        )
        .file(
            &format!("{UNITS}/lab-scenario.service.d/nixos.conf"),
            "[Unit]\nAfter=initrd-root-fs.target initrd-fs.target zevac.service zfs-import-rpool.service\n\
             Before=initrd.target\n",
        )
        .file(
            &format!("{UNITS}/lab-params.service"),
            format!(
                "[Unit]\nDefaultDependencies=no\nBefore=zevac.service\n[Service]\nType=oneshot\n\
                 ExecStart=/bin/sh -c '. /lab/lib.sh; run params_before sh -c \"cd {PARAMS} && grep -H . {TUNABLES}\"'\n"
            ),
        )
        .symlink(
            &format!("{UNITS}/initrd.target.wants/lab-params.service"),
            "../lab-params.service",
        )
}

/// The tunables a NixOS boot's tests compare before zevac and after the watcher.
const PARAMS: &str = "/sys/module/zfs/parameters";
const TUNABLES: &str =
    "zfs_vdev_removal_max_active zfs_vdev_removal_min_active zfs_removal_suspend_progress zfs_txg_timeout";

/// The boot's own clock from systemd's unit timestamps (seconds since the kernel started):
/// zevac.service's run, the import unit's, and when /sysroot was mounted.
fn boot_clock(ev: &zevac_bench::Events, label: &str) {
    let (zevac, import, root) = (
        shown(ev, "unit_zevac"),
        shown(ev, "unit_import"),
        shown(ev, "unit_sysroot"),
    );
    let s = |u: &std::collections::BTreeMap<String, String>, k: &str| monotonic(u, k) as f64 / 1e6;
    println!(
        "{label}: zevac.service {:.2} to {:.2} s, the import unit {:.2} to {:.2} s, \
         sysroot.mount active at {:.2} s",
        s(&zevac, "ExecMainStartTimestampMonotonic"),
        s(&zevac, "ExecMainExitTimestampMonotonic"),
        s(&import, "ExecMainStartTimestampMonotonic"),
        s(&import, "ExecMainExitTimestampMonotonic"),
        s(&root, "ActiveEnterTimestampMonotonic"),
    );
}

/// `systemctl show`'s lines of a command record, as a map.
fn shown(ev: &zevac_bench::Events, name: &str) -> std::collections::BTreeMap<String, String> {
    let out = ev.cmd(name).unwrap().stdout;
    println!("{name}:\n{out}");
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn monotonic(unit: &std::collections::BTreeMap<String, String>, key: &str) -> u64 {
    unit[key].parse().unwrap()
}

/// The main path's initrd under NixOS's units: zevac.service runs and ends before the pool's
/// import unit starts, the import unit then finds the pool imported (zevac's import, through the
/// snapshot, the instance stores added in a `first` boot, found in the pool after a crash) and
/// imports nothing itself, the root's three mounts come
/// up from the fstab NixOS writes, and the copy waits for the watcher (the module's
/// `watch.starts_copy`).
fn assert_initrd_main_path(ev: &zevac_bench::Events, first: bool) {
    assert_eq!(ev.cmd("pid1").unwrap().stdout.trim(), "systemd");
    assert_eq!(ev.cmd("missing_commands").unwrap().stdout, "");
    let zevac = shown(ev, "unit_zevac");
    let import = shown(ev, "unit_import");
    assert_eq!(
        (zevac["Result"].as_str(), zevac["ExecMainStatus"].as_str()),
        ("success", "0")
    );
    assert_eq!(import["Result"], "success", "{import:?}");
    assert!(
        monotonic(&zevac, "ExecMainExitTimestampMonotonic")
            <= monotonic(&import, "ExecMainStartTimestampMonotonic"),
        "zevac.service ended after the import unit started: {zevac:?} {import:?}"
    );
    let root = shown(ev, "unit_sysroot");
    assert_eq!(
        (root["ActiveState"].as_str(), root["What"].as_str()),
        ("active", "rpool/system/root")
    );
    for m in ["unit_sysroot-nix", "unit_sysroot-var"] {
        assert_eq!(shown(ev, m)["ActiveState"], "active");
    }
    let pool = ev.cmd("zpool_status").unwrap().stdout;
    assert!(
        pool.contains("/dev/mapper/zevac-origin"),
        "the root is not on zevac's import:\n{pool}"
    );
    let status = json_of(ev, "status");
    assert_eq!(
        (
            status["state"].as_str(),
            status["waiting_for_watcher"].as_bool()
        ),
        (Some("evacuating"), Some(true)),
        "{status}"
    );
    let import_log = ev.cmd("journal_import").unwrap().stdout;
    assert!(
        import_log.contains("Successfully imported rpool")
            && !import_log.contains("importing ZFS pool"),
        "{import_log}"
    );
    // A first boot adds the instance stores; a later one finds them in the pool and imports it
    // through the re-created snapshot.
    let zevac_log = ev.cmd("journal_zevac").unwrap().stdout;
    assert_eq!(zevac_log.contains("zpool add"), first, "{zevac_log}");
}

/// zevac fails in NixOS's initrd, by an error right after each step that changes what the boot's
/// import finds (the probe import, the snapshot, the writable import through it, `zpool add`,
/// `zpool remove`) and by systemd's start timeout killing it: the unit fails, its ExecStopPost
/// (`zevac recover`) runs, and the boot goes on through nixpkgs' import unit to the root's mounts
/// with the data intact. Where the local disks had joined the pool, the pool stays on zevac's
/// snapshot and EBS is bit-identical; before that, recover gives the pool on EBS back (no
/// snapshot, no probe import left) and nixpkgs imports it from EBS, as a boot without zevac
/// would.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_failing_in_nixos_initrd_leaves_the_boot_to_nixpkgs_import() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("nixos-initrd-fails").unwrap();
    let golden_hash = disks::sha256(&golden.image).unwrap();
    let fail_after = |step: &str| format!("[Service]\nEnvironment=ZEVAC_TEST_FAIL_AFTER={step}\n");
    // Each case: its drop-in, the unit's result, and whether the pool ends on the snapshot and
    // the instance stores (`None`: it depends on when the timeout lands).
    let cases = [
        (
            "fail-after-probe",
            fail_after("probe"),
            "exit-code",
            Some(false),
        ),
        (
            "fail-after-snapshot",
            fail_after("snapshot"),
            "exit-code",
            Some(false),
        ),
        (
            "fail-after-import",
            fail_after("import"),
            "exit-code",
            Some(false),
        ),
        ("fail-after-add", fail_after("add"), "exit-code", Some(true)),
        (
            "fail-after-remove",
            fail_after("remove"),
            "exit-code",
            Some(true),
        ),
        (
            "timeout",
            "[Service]\nTimeoutStartSec=4s\n".into(),
            "timeout",
            None,
        ),
    ];
    for (name, dropin, result, on_stores) in cases {
        let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(64), 2);
        let ebs = disks[0].image.clone();
        let spec = nixos_initrd_spec(&golden, disks, name, "", Some(&dropin));
        let ev = lab.run(&run, &spec).unwrap().events;
        assert_eq!(ev.cmd("missing_commands").unwrap().stdout, "", "{name}");
        let zevac = shown(&ev, "unit_zevac");
        assert_eq!(zevac["Result"], result, "{name}: {zevac:?}");
        assert_eq!(shown(&ev, "unit_import")["Result"], "success", "{name}");
        assert_eq!(
            shown(&ev, "unit_sysroot")["ActiveState"],
            "active",
            "{name}"
        );
        let pool = ev.cmd("zpool_status").unwrap().stdout;
        let log = ev.cmd("journal_zevac").unwrap().stdout;
        println!("{name}:\n{log}\n{pool}");
        assert_eq!(ev.cmd("verify").unwrap().rc, 0, "{name}: the data changed");
        let kept =
            log.contains("the local disks are in the pool: the snapshot stays, takes no new");
        if let Some(expected) = on_stores {
            assert_eq!(kept, expected, "{name}: recover said:\n{log}");
        }
        if kept {
            // The guard's removal may have ended already: the origin, if still there, is the
            // snapshot, never EBS itself.
            assert!(
                pool.contains("Instance_Storage") && !pool.contains("Elastic_Block_Store"),
                "{name}: the pool is not on the snapshot and the instance stores:\n{pool}"
            );
            assert_eq!(
                disks::sha256(&ebs).unwrap(),
                golden_hash,
                "{name}: EBS changed"
            );
        } else {
            assert!(
                !pool.contains("zevac-origin")
                    && !pool.contains("Instance_Storage")
                    && pool.contains("Elastic_Block_Store"),
                "{name}: the pool is not on EBS:\n{pool}"
            );
        }
    }
    run.remove_images().unwrap();
}

/// `zevac=off` on the kernel command line under NixOS's initrd units: zevac.service succeeds
/// having done nothing (no import of its own, nothing written to the instance stores), nixpkgs'
/// import unit imports the pool from EBS itself and the root mounts: the boot of EBS alone,
/// whose unit timestamps the stage-2 test prints beside its own.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_off_in_nixos_initrd_is_the_boot_of_ebs_alone() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("nixos-initrd-off").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(64), 2);
    let stores = disks[1..].to_vec();
    let blank = hashes(&stores);
    let spec =
        nixos_initrd_spec(&golden, disks, "nixos-initrd-off", "", None).kernel_arg("zevac=off");
    let ev = lab.run(&run, &spec).unwrap().events;
    boot_clock(&ev, "zevac=off");
    assert_eq!(ev.cmd("missing_commands").unwrap().stdout, "");
    let zevac = shown(&ev, "unit_zevac");
    assert_eq!(
        (zevac["Result"].as_str(), zevac["ExecMainStatus"].as_str()),
        ("success", "0")
    );
    let log = ev.cmd("journal_zevac").unwrap().stdout;
    assert!(
        log.contains("(zevac=off)") && !log.contains("zpool import"),
        "{log}"
    );
    let import_log = ev.cmd("journal_import").unwrap().stdout;
    assert!(
        import_log.contains("importing ZFS pool")
            && import_log.contains("Successfully imported rpool"),
        "{import_log}"
    );
    assert_eq!(shown(&ev, "unit_sysroot")["ActiveState"], "active");
    let pool = ev.cmd("zpool_status").unwrap().stdout;
    assert!(
        pool.contains("Elastic_Block_Store")
            && !pool.contains("Instance_Storage")
            && !pool.contains("zevac-origin"),
        "{pool}"
    );
    assert_eq!(hashes(&stores), blank, "an instance store was written");
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
    run.remove_images().unwrap();
}

/// The whole boot as NixOS runs it: NixOS's initrd units ([`assert_initrd_main_path`]), then
/// the initrd's own hand-over units and a switch-root into the pool's root, and in
/// stage 2 the module's zevac-watch.service as rendered: ready before the scenario starts, its
/// status text following the copy while `zevac status` reads the record the initrd left in
/// /run/zevac, then ending `success` with exit 0, the copy verified and the tunables as before
/// zevac; the data intact and EBS bit-identical.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn nixos_boot_switches_root_and_zevac_watch_ends_the_copy_in_stage_2() {
    nixos_boot_to_a_verified_copy(ZfsPair::V2_3);
}

/// The same on OpenZFS 2.1 (Debian bookworm's own, kernel 6.1).
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn nixos_boot_switches_root_and_zevac_watch_ends_the_copy_in_stage_2_openzfs_2_1() {
    nixos_boot_to_a_verified_copy(ZfsPair::V2_1);
}

fn nixos_boot_to_a_verified_copy(pair: ZfsPair) {
    let Scene { lab, golden, _turn } = scene(pair);
    let run = lab.new_run("nixos-stage2").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(64), 2);
    let ebs = disks[0].image.clone();
    let spec = nixos_verified_boot_spec(&golden, disks, "nixos-stage2");
    let ev = lab.run(&run, &spec).unwrap().events;
    boot_clock(&ev, "zevac");
    assert_initrd_main_path(&ev, true);
    assert_stage2_ends_verified(&ev);
    assert_eq!(
        disks::sha256(&ebs).unwrap(),
        disks::sha256(&golden.image).unwrap(),
        "EBS changed"
    );
    run.remove_images().unwrap();
}

/// The whole NixOS boot whose stage 2 (`nixos-stage2.sh`) follows zevac-watch to its end, for
/// [`assert_stage2_ends_verified`].
fn nixos_verified_boot_spec(
    golden: &zevac_bench::golden::Golden,
    disks: Vec<zevac_bench::Disk>,
    name: &str,
) -> zevac_bench::BootSpec {
    let stage2 = format!(
        "TUNABLES=\"{TUNABLES}\"\n{}",
        include_str!("../guest/nixos-stage2.sh")
    );
    nixos_stage2_spec(golden, disks, name, &stage2).timeout(std::time::Duration::from_secs(400))
}

/// Stage 2 after NixOS's initrd: systemd as PID 1 on the pool's root, zevac's record carried
/// across switch-root, zevac-watch ready before the scenario, its status text following the copy,
/// then ending `success` (exit 0, no restart) with the copy verified, the tunables as before
/// zevac and the data intact.
fn assert_stage2_ends_verified(ev: &zevac_bench::Events) {
    assert!(ev.find("mark", Some("initrd_scenario")).is_ok());
    assert_eq!(ev.cmd("s2_pid1").unwrap().stdout.trim(), "systemd");
    let root = ev.cmd("s2_root").unwrap().stdout;
    assert!(root.starts_with("rpool/system/root / zfs"), "{root}");
    assert_ne!(
        ev.cmd("s2_initrd_release").unwrap().rc,
        0,
        "stage 2 is no initrd"
    );
    let record = ev.cmd("s2_run_zevac").unwrap();
    assert!(
        record.rc == 0 && !record.stdout.trim().is_empty(),
        "/run/zevac: {record:?}"
    );
    let ready = shown(ev, "s2_watch_ready");
    assert_eq!(ready["ActiveState"], "active", "READY=1 came: {ready:?}");
    let samples = ev.cmd("s2_samples").unwrap().stdout;
    println!("t (s) | zevac-watch's status text | zevac status --json\n{samples}");
    let following = samples.lines().filter(|l| {
        let mut f = l.splitn(3, '|');
        let (text, json) = (f.nth(1).unwrap_or(""), f.next().unwrap_or(""));
        let state = serde_json::from_str::<serde_json::Value>(json)
            .map(|j| j["state"].as_str().unwrap_or("").to_string())
            .unwrap_or_default();
        text.contains(&format!("{state} rpool"))
    });
    assert!(
        following.count() >= 1,
        "the status text never said the copy's state"
    );
    let done = shown(ev, "s2_watch_done");
    assert_eq!(
        (
            done["Result"].as_str(),
            done["ExecMainStatus"].as_str(),
            done["NRestarts"].as_str()
        ),
        ("success", "0", "0"),
        "{done:?}"
    );
    println!("{}", ev.cmd("s2_journal_watch").unwrap().stdout);
    assert_eq!(json_of(ev, "s2_status_after")["state"], "verified");
    assert_eq!(params(ev, "s2_params_after"), params(ev, "params_before"));
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
}

/// Under NixOS's units, the immutable origin through a crash and a stop/start: a first boot's
/// stage 2 is killed mid-copy (zevac-watch copying, EBS at 8 MiB/s, at least a fifth of the copy
/// synced); in the next boot zevac.service finds the instance stores in the pool and imports it
/// through the re-created snapshot, nixpkgs' import unit skips it, the root mounts and stage 2's
/// zevac-watch carries the copy on from at least where ZFS had synced it, to verified. Then a
/// stop/start (the instance stores blank, the same EBS) is a first boot again. EBS is
/// bit-identical after every boot.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn under_nixos_units_a_crash_mid_copy_resumes_and_a_stop_start_starts_over() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("nixos-crash").unwrap();
    let golden_hash = disks::sha256(&golden.image).unwrap();
    let mut disks = ec2_disks(&run, &golden, Throttle::mib_per_second(8), 2);
    let ebs_unchanged = |disks: &[zevac_bench::Disk], when: &str| {
        let hash = disks::sha256(&disks[0].image).unwrap();
        assert_eq!(hash, golden_hash, "EBS changed {when}");
    };
    let crash = include_str!("../guest/nixos-stage2-crash.sh");
    let mut vm = lab
        .boot(
            &run,
            &nixos_stage2_spec(&golden, disks.clone(), "crash", crash),
        )
        .unwrap();
    vm.wait_mark("reached", std::time::Duration::from_secs(300))
        .unwrap();
    vm.kill().unwrap();
    assert_initrd_main_path(&vm.events, true);
    let reached = json_of(&vm.events, "s2_status_reached");
    let copied = |s: &serde_json::Value| s["copied_bytes"].as_u64().unwrap();
    assert_eq!(reached["state"], "evacuating", "{reached}");
    let total = reached["total_bytes"].as_u64().unwrap();
    assert!(
        copied(&reached) < total && copied(&reached) * 5 >= total,
        "{reached}"
    );
    ebs_unchanged(&disks, "in the boot killed mid-copy");

    // Faster now: the rest of the copy does not hold the test, and still outlasts a sample.
    disks[0] = disks[0].clone().throttled(Throttle::mib_per_second(32));
    let boot = |name: &str, disks: &[zevac_bench::Disk]| {
        let spec = nixos_verified_boot_spec(&golden, disks.to_vec(), name);
        lab.run(&run, &spec).unwrap().events
    };
    let ev = boot("resumed", &disks);
    assert_initrd_main_path(&ev, false);
    let found = json_of(&ev, "status");
    assert!(
        copied(&found) >= copied(&reached),
        "this boot found {found}, the killed one had seen {reached}"
    );
    assert_stage2_ends_verified(&ev);
    ebs_unchanged(&disks, "in the boot after the crash");

    for d in &disks[1..] {
        disks::create_blank(&d.image, 1024 << 20).unwrap();
    }
    let ev = boot("stop-start", &disks);
    assert_initrd_main_path(&ev, true);
    assert_stage2_ends_verified(&ev);
    ebs_unchanged(&disks, "by the stop/start");
    println!(
        "killed at {}% copied; the next boot found {}%",
        reached["percent"], found["percent"]
    );
    run.remove_images().unwrap();
}

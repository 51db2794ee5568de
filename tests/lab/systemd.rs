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
/// zevac.service. The initrd's hand-over units are masked: the lab has no stage 2 to switch to.
fn nixos_initrd_boot(
    lab: &zevac_bench::Lab,
    run: &zevac_bench::Run,
    golden: &zevac_bench::golden::Golden,
    disks: Vec<zevac_bench::Disk>,
    name: &str,
    env: &str,
    dropin: Option<&str>,
) -> zevac_bench::Events {
    let script = format!(
        "POOL=rpool\n{env}\n{}",
        include_str!("../guest/nixos-initrd.sh")
    );
    let rendered = zevac_bench::nixos::Rendered::load().unwrap();
    let mut spec = rendered
        .initrd(zevac_spec(name, disks, &script, golden).under_systemd())
        .unwrap()
        .symlink(
            "/etc/systemd/system/initrd.target.wants/lab-scenario.service",
            "../lab-scenario.service",
        )
        .file(
            "/etc/systemd/system/lab-scenario.service.d/nixos.conf",
            "[Unit]\nAfter=initrd-root-fs.target initrd-fs.target zevac.service zfs-import-rpool.service\n",
        );
    for unit in ["initrd-parse-etc", "initrd-cleanup", "initrd-switch-root"] {
        spec = spec.symlink(&format!("/etc/systemd/system/{unit}.service"), "/dev/null");
    }
    if let Some(conf) = dropin {
        spec = spec.file("/etc/systemd/system/zevac.service.d/lab.conf", conf);
    }
    lab.run(run, &spec).unwrap().events
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

/// The main path under NixOS's initrd units: zevac.service runs and ends before the pool's
/// import unit starts, the import unit then finds the pool imported (zevac's import, through the
/// snapshot, the instance stores added), the root's three mounts come up from the fstab NixOS
/// writes, and the copy started afterwards ends verified with the data intact.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn nixos_initrd_units_run_zevac_before_the_import_and_mount_the_root() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("nixos-initrd").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(64), 2);
    let ebs = disks[0].image.clone();
    let ev = nixos_initrd_boot(
        &lab,
        &run,
        &golden,
        disks,
        "nixos-initrd",
        "THEN_WATCH=1",
        None,
    );
    assert_eq!(ev.cmd("pid1").unwrap().stdout.trim(), "systemd");
    assert_eq!(ev.cmd("missing_commands").unwrap().stdout, "");
    let zevac = shown(&ev, "unit_zevac");
    let import = shown(&ev, "unit_import");
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
    let root = shown(&ev, "unit_sysroot");
    assert_eq!(
        (root["ActiveState"].as_str(), root["What"].as_str()),
        ("active", "rpool/system/root")
    );
    for m in ["unit_sysroot-nix", "unit_sysroot-var"] {
        assert_eq!(shown(&ev, m)["ActiveState"], "active");
    }
    let pool = ev.cmd("zpool_status").unwrap().stdout;
    assert!(
        pool.contains("/dev/mapper/zevac-origin"),
        "the root is not on zevac's import:\n{pool}"
    );
    // The module's zevac.toml leaves the copy paused for the watcher (watch.starts_copy).
    let status = json_of(&ev, "status");
    assert_eq!(
        (
            status["state"].as_str(),
            status["waiting_for_watcher"].as_bool()
        ),
        (Some("evacuating"), Some(true)),
        "{status}"
    );
    // The import unit found the pool imported: it imported nothing itself.
    let import_log = ev.cmd("journal_import").unwrap().stdout;
    assert!(
        import_log.contains("Successfully imported rpool")
            && !import_log.contains("importing ZFS pool"),
        "{import_log}"
    );
    let zevac_log = ev.cmd("journal_zevac").unwrap().stdout;
    assert!(zevac_log.contains("zpool add"), "{zevac_log}");
    assert_eq!(json_of(&ev, "status_after")["state"], "verified");
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
    assert_eq!(
        disks::sha256(&ebs).unwrap(),
        disks::sha256(&golden.image).unwrap(),
        "EBS changed"
    );
    run.remove_images().unwrap();
}

/// zevac fails in NixOS's initrd, by an error right after `zpool add` and by systemd's start
/// timeout killing it: the unit fails, its ExecStopPost (`zevac recover`) runs, and the boot goes
/// on through nixpkgs' import unit to the root's mounts with the data intact. Where the local
/// disks had joined the pool, the pool stays on zevac's snapshot and EBS is bit-identical; where
/// the kill came before that, recover gives the pool on EBS back (no snapshot, no probe import
/// left) and nixpkgs imports it from EBS, as a boot without zevac would.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn zevac_failing_in_nixos_initrd_leaves_the_boot_to_nixpkgs_import() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("nixos-initrd-fails").unwrap();
    let cases = [
        (
            "fail-after-add",
            "[Service]\nEnvironment=ZEVAC_TEST_FAIL_AFTER=add\n",
            "exit-code",
        ),
        ("timeout", "[Service]\nTimeoutStartSec=4s\n", "timeout"),
    ];
    for (name, dropin, result) in cases {
        let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(64), 2);
        let ebs = disks[0].image.clone();
        let ev = nixos_initrd_boot(&lab, &run, &golden, disks, name, "", Some(dropin));
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
        if log.contains("the local disks are in the pool: the snapshot stays, takes no new") {
            // The guard's removal may have ended already: the origin, if still there, is the
            // snapshot, never EBS itself.
            assert!(
                pool.contains("Instance_Storage") && !pool.contains("Elastic_Block_Store"),
                "{name}: the pool is not on the snapshot and the instance stores:\n{pool}"
            );
            assert_eq!(
                disks::sha256(&ebs).unwrap(),
                disks::sha256(&golden.image).unwrap(),
                "{name}: EBS changed"
            );
        } else {
            assert_eq!(name, "timeout", "only a kill comes before the add");
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

//! The lab's systemd boot: Debian's systemd as PID 1 in initrd mode, udev and the scenario as
//! its units, and `zevac watch` as a `Type=notify` unit that systemd reads back.

use zevac_bench::{Throttle, ZfsPair};

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
    let unit = |name: &str| -> std::collections::BTreeMap<String, String> {
        let out = ev.cmd(name).unwrap().stdout;
        println!("{name}:\n{out}");
        out.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
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

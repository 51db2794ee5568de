//! Crashes, faults and I/O errors: a pool that resumes, imports and takes writes, and EBS that
//! stays bit-identical.

use std::time::Duration;

use zevac_bench::golden::{self, Layout};
use zevac_bench::{disks, BootSpec, Disk, Lab, Throttle, ZfsPair};

use crate::scene::*;

/// Reboot mid-copy (immutable origin): the VM is killed three times in the copy, each boot
/// resuming it: once early (4 MiB read from EBS, before ZFS has usually synced any of the copy's
/// progress), then twice just after ZFS's copied counter moved (a txg with copies synced; at
/// EBS 4 MiB/s a step is a quarter to a third of the golden pool). Each boot finds at least the
/// progress the last one saw synced, every kill lands mid-copy (evacuating, short of 100 %),
/// every import after a crash is within 2 s of the first boot's, a fourth boot finishes
/// verified, the golden data is intact and EBS is bit-identical to the golden image after every
/// boot.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn killed_three_times_mid_copy_the_pool_resumes_and_ebs_stays_golden() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("kill-points").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(4), 2);
    let golden_hash = disks::sha256(&golden.image).unwrap();
    let (mut imports, mut synced) = (Vec::new(), 0);
    for (i, read_mib) in ["READ_MIB=4", "", ""].into_iter().enumerate() {
        let script = format!("{read_mib}\n{}", include_str!("../guest/kill-at.sh"));
        let spec = zevac_spec(&format!("kill-{i}"), disks.clone(), &script, &golden);
        let mut vm = lab.boot(&run, &spec).unwrap();
        vm.wait_mark("reached", Duration::from_secs(300)).unwrap();
        vm.kill().unwrap();
        let apply = vm.events.cmd("apply").unwrap();
        assert_eq!(apply.rc, 0, "{}", apply.stderr);
        let (applied, at_kill) = (
            json_of(&vm.events, "status_applied"),
            json_of(&vm.events, "status_reached"),
        );
        assert_eq!(
            at_kill["state"], "evacuating",
            "kill {i} did not land mid-copy: {at_kill}"
        );
        let copied = |s: &serde_json::Value| s["copied_bytes"].as_u64().unwrap();
        assert!(
            copied(&at_kill) < at_kill["total_bytes"].as_u64().unwrap(),
            "kill {i} came after ZFS had copied everything: {at_kill}"
        );
        assert!(
            copied(&applied) >= synced,
            "boot {i} found {} copied bytes, the last one saw {synced} synced",
            copied(&applied)
        );
        if read_mib.is_empty() {
            assert!(copied(&at_kill) > copied(&applied), "{at_kill}");
            synced = copied(&at_kill);
        }
        let import = import_seconds(&apply.stdout);
        println!(
            "kill {i}: ZFS's copied counter at {}% when apply returned, {}% at the kill; \
             apply {:.2} s, its import {import:.2} s",
            applied["percent"],
            at_kill["percent"],
            apply.seconds()
        );
        imports.push(import);
        assert_eq!(
            disks::sha256(&disks[0].image).unwrap(),
            golden_hash,
            "EBS changed in the boot of kill {i}"
        );
    }
    let spec = zevac_spec(
        "finish",
        disks.clone(),
        include_str!("../guest/finish.sh"),
        &golden,
    );
    let ev = lab.run(&run, &spec).unwrap().events;
    let apply = ev.cmd("apply").unwrap();
    assert_eq!(apply.rc, 0, "{}", apply.stderr);
    let running = apply.stdout.lines().find(|l| l.contains("is running"));
    println!("finish: {running:?}");
    assert!(running.is_some(), "{}", apply.stdout);
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
    /// `watch.starts_copy`, as the NixOS module renders it: the copy waits for the watcher.
    starts_copy: bool,
    /// Then the boot's `zevac watch`, to its end.
    then_watch: bool,
    /// Before the watcher, the origin's removal started by hand (`zpool remove`).
    by_hand: bool,
}

const fn fault(fail_after: &'static str, ebs_kept: bool) -> Fault {
    Fault {
        fail_after,
        rebooted: false,
        ebs_kept: Some(ebs_kept),
        zevac_imports: Some(ebs_kept),
        import_dir: "/dev/disk/by-id",
        starts_copy: false,
        then_watch: false,
        by_hand: false,
    }
}

/// The failure test's snapshot store: the smallest zevac takes.
const SMALL_COW: &str = "[layout]\ncow_size = \"64 MiB\"\n";
/// What the failure test's boots write: twice that store, so that writes landing in the snapshot
/// would fill it and invalidate it.
const WRITE_MIB: u32 = 128;

/// `zevac apply` made to fail right after each of its steps (a debug-build switch), killed
/// outright with the command it runs (as systemd kills the unit) at a random moment of its run,
/// the fall-back's start of the removal refused (so that it stops allocations instead), and a
/// failure before the import in a boot after a crash mid-copy (the pool then needs the snapshot
/// and the instance stores). After each, what a NixOS initrd does next: the unit's
/// `ExecStopPost` (`zevac recover`), nixpkgs' import as it renders it (no device-mapper by-id
/// links; `-d /dev/disk/by-id`, nixpkgs' default, and once `-d /dev/`, amazon-image.nix's), the
/// root's mounts, and 128 MiB of writes (twice the snapshot's store, made the smallest zevac
/// takes so that the writes are quick). The pool always imports, takes the writes and stays
/// healthy. EBS: unchanged once the local disks are in the pool; written by the boot's own
/// import when zevac gave the pool back before that.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_failure_at_any_step_leaves_a_pool_that_imports_and_takes_writes() {
    let _turn = one_at_a_time();
    let lab = Lab::prepare(ZfsPair::V2_3).expect("preparing the lab");
    // Room on EBS alone for the golden data and what the boot writes after a fall-back.
    let golden = golden::golden_sized(&lab, Layout::Partition, 256, 2048).unwrap();
    let golden_hash = disks::sha256(&golden.image).unwrap();
    // A random moment, 1 to 8 s into apply's run; `ZEVAC_LAB_KILL_AFTER` repeats one.
    let kill_secs = std::env::var("ZEVAC_LAB_KILL_AFTER").unwrap_or_else(|_| {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        (1 + ms % 8).to_string()
    });
    let faults = [
        fault("probe", false),
        fault("partition", false),
        fault("snapshot", false),
        Fault {
            import_dir: "/dev/",
            ..fault("import", false)
        },
        fault("add", true),
        Fault {
            then_watch: true,
            ..fault("add,guard", true)
        },
        Fault {
            then_watch: true,
            by_hand: true,
            ..fault("add,guard", true)
        },
        Fault {
            starts_copy: true,
            ..fault("hold", true)
        },
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
    // `ZEVAC_LAB_FAULTS`: the names of the cases to run (as the table prints them), by spaces.
    let only = std::env::var("ZEVAC_LAB_FAULTS").ok();
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
        if case.by_hand {
            name.push_str(",hand");
        }
        if !only
            .as_ref()
            .is_none_or(|o| o.split(' ').any(|n| n == name))
        {
            continue;
        }
        let run = lab
            .new_run(&format!("fault-{}", name.replace(',', "-")))
            .unwrap();
        // Unthrottled but after a crash: what is tested is where the pool lands, not how fast.
        let throttle = case.rebooted.then(|| Throttle::mib_per_second(4));
        let mut disks = run.ec2_disks(&golden, throttle, 2, 2048).unwrap();
        if case.rebooted {
            boot_killed_mid_copy(&lab, &run, &golden, &disks, SMALL_COW);
            // The same volume, faster: the root's mounts then do not wait a minute behind the
            // copy, and an import that ran the copy inside itself still finishes it there.
            disks[0] = disks[0].clone().throttled(Throttle::mib_per_second(32));
        }
        let kill_after = if case.fail_after.is_empty() {
            kill_secs.clone()
        } else {
            String::new()
        };
        let script = format!(
            "POOL=rpool\nWRITE_MIB={WRITE_MIB}\nFAIL_AFTER={}\nKILL_AFTER={kill_after}\nIMPORT_DIR={}\n\
             THEN_WATCH={}\nBY_HAND={}\n{}",
            case.fail_after,
            case.import_dir,
            if case.then_watch { "1" } else { "" },
            if case.by_hand { "1" } else { "" },
            include_str!("../guest/fault.sh")
        );
        let config = if case.starts_copy {
            format!("{SMALL_COW}[watch]\nstarts_copy = true\n")
        } else {
            SMALL_COW.to_string()
        };
        let spec =
            zevac_spec("zevac", disks.clone(), &script, &golden).file("/etc/zevac.toml", config);
        // The case and the kill's moment in the message: a random kill is not reproduced by
        // running the test again.
        let outcome = lab
            .run(&run, &spec)
            .unwrap_or_else(|e| panic!("{name} (KILL_AFTER={kill_after:?}): {e:#}"));
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
    match (case.then_watch, case.by_hand) {
        (true, false) => a_removal_not_started_is_shown_and_the_watcher_starts_it(ev, name),
        (true, true) => a_removal_started_by_hand_is_the_watchers_to_follow(ev, name),
        _ => {}
    }
    if case.rebooted {
        // The copy (32 MiB/s now) was under way: an import that carried it on inside itself
        // would have held the boot for all of it, finishing it before it returned. Paused, the
        // import returns first: the copy is still running after it, or ended after it returned
        // (how far it got by then is the emulation's speed, not zevac's).
        let imported = ev.cmd("zstatus_imported").unwrap().stdout;
        if !imported.contains("% done") {
            let returned = snapshot_import_returned_at(ev, name);
            let end = json_of(ev, "status_end");
            let finished = end["finished_at"]
                .as_u64()
                .unwrap_or_else(|| panic!("{name}: no copy in progress or finished:\n{imported}"));
            assert!(
                finished as f64 > returned,
                "{name}: the copy ended at {finished}, inside the import that returned at {returned}"
            );
        }
    }
    if case.starts_copy {
        // Killed between the copy's pause and `zpool remove`: `recover` started the removal,
        // and the copy still waits for the watcher, through the boot's writes.
        assert_eq!(ev.cmd("suspend").unwrap().stdout.trim(), "1", "{name}");
        let end = json_of(ev, "status_end");
        assert_eq!(end["state"], "evacuating", "{name}: {end}");
        assert_eq!(end["waiting_for_watcher"], true, "{name}: {end}");
        the_fall_back_removed_in_the_window(ev, name);
    }
    // Whatever failed, the [apply] parameters are back (OpenZFS's 5-s txg timeout).
    let txg = ev.cmd("txg_timeout").unwrap().stdout;
    assert_eq!(txg.trim(), "5", "{name}: zfs_txg_timeout {txg}");
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
    // What the kill interrupted: the command lines of zevac's session (`ps` lines: sid pid args;
    // the `ps` that listed them ran outside it).
    let killed = ev.cmd("killed_group").map_or(String::new(), |c| {
        let args: Vec<String> = (c.stdout.lines())
            .map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>().join(" "))
            .collect();
        format!(" (killed: {})", args.join("; "))
    });
    format!(
        "{name:>14}{killed} | {} | pool imported by {} | EBS {}",
        recover.stdout.trim(),
        if by_zevac { "zevac" } else { "nixpkgs' import" },
        if unchanged { "unchanged" } else { "written" }
    )
}

/// The fall-back stopped allocations on the snapshot vdev instead of starting its removal:
/// `zevac status` shows the state and what starts it; the boot's `zevac watch` starts the
/// removal and sees the copy through to verified.
fn a_removal_not_started_is_shown_and_the_watcher_starts_it(
    ev: &zevac_bench::events::Events,
    name: &str,
) {
    let end = json_of(ev, "status_end");
    assert_eq!(end["state"], "added", "{name}: {end}");
    assert_eq!(end["origin"], "/dev/mapper/zevac-origin", "{name}: {end}");
    assert_eq!(end["origin_allocating"], false, "{name}: {end}");
    let watch = ev.cmd("watch").unwrap();
    assert_eq!(watch.rc, 0, "{name}: {}{}", watch.stdout, watch.stderr);
    assert!(
        watch.stderr.contains("has not started: starting it"),
        "{name}: {}",
        watch.stderr
    );
    let watched = json_of(ev, "status_watched");
    assert_eq!(watched["state"], "verified", "{name}: {watched}");
}

/// State `added`, and then the removal started by hand: `zevac status` sees ZFS's copy, and the
/// watcher follows it to a verified end without starting anything.
fn a_removal_started_by_hand_is_the_watchers_to_follow(
    ev: &zevac_bench::events::Events,
    name: &str,
) {
    assert_eq!(json_of(ev, "status_end")["state"], "added", "{name}");
    said(ev, "remove_by_hand", 0, "");
    let started = json_of(ev, "status_by_hand");
    assert!(
        matches!(started["state"].as_str(), Some("evacuating" | "copied")),
        "{name}: {started}"
    );
    assert_eq!(
        started["origin"], "/dev/mapper/zevac-origin",
        "{name}: {started}"
    );
    let watch = ev.cmd("watch").unwrap();
    assert_eq!(watch.rc, 0, "{name}: {}{}", watch.stdout, watch.stderr);
    assert!(
        !watch.stderr.contains("starting it"),
        "{name}: {}",
        watch.stderr
    );
    assert_eq!(json_of(ev, "status_watched")["state"], "verified", "{name}");
}

/// The fall-back's `zpool remove` (`apply`'s own `recover`) ran with the profile's `[apply]`
/// parameters set again, after `apply` had put them back: the last `zfs_txg_timeout` written
/// before it is the table's 1.
fn the_fall_back_removed_in_the_window(ev: &zevac_bench::events::Events, name: &str) {
    let log = &ev.cmd("apply").unwrap().stderr;
    let before = log
        .find(" ran command=zpool remove")
        .map(|at| &log[..at])
        .unwrap_or_else(|| panic!("{name}: no zpool remove in apply's log:\n{log}"));
    let last = before.rfind("set parameter=\"zfs_txg_timeout\"").unwrap();
    assert!(
        before[last..].starts_with("set parameter=\"zfs_txg_timeout\" value=\"1\""),
        "{name}: {log}"
    );
}

/// When the import through the snapshot returned (epoch seconds), from `apply`'s or
/// `recover`'s log.
fn snapshot_import_returned_at(ev: &zevac_bench::events::Events, name: &str) -> f64 {
    let logs = ["apply", "recover"].map(|c| ev.cmd(c).unwrap().stderr);
    let line = logs
        .iter()
        .flat_map(|l| l.lines())
        .find(|l| l.contains("ran command=zpool import -N -d /dev/mapper/zevac-origin"))
        .unwrap_or_else(|| panic!("{name}: no import through the snapshot in the logs"));
    let stamp = line.split_whitespace().next().unwrap();
    humantime::parse_rfc3339_weak(stamp)
        .unwrap_or_else(|e| panic!("{name}: {stamp}: {e}"))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Whether `apply` or `recover` logged `text`.
fn apply_or_recover_said(ev: &zevac_bench::events::Events, text: &str) -> bool {
    ["apply", "recover"].iter().any(|c| {
        ev.cmd(c)
            .is_ok_and(|o| o.stdout.contains(text) || o.stderr.contains(text))
    })
}

/// The immutable origin (the default) through a machine's life: a first boot evacuates through
/// a snapshot; a reboot after the copy imports from the instance stores alone; two stop/starts
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

    let ev = boot("first", include_str!("../guest/immutable-first.sh"));
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

    let ev = boot("reboot", include_str!("../guest/immutable-reboot.sh"));
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

    for round in 1..=2 {
        // Stop/start: the instance stores come back blank.
        for d in &disks[1..] {
            disks::create_blank(&d.image, 1024 << 20).unwrap();
        }
        let ev = boot(
            &format!("stop-start-{round}"),
            include_str!("../guest/immutable-fresh.sh"),
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

/// A boot with write errors on the second instance store (blkdebug): its events, and the
/// disks without the errors.
fn boot_with_write_errors(
    lab: &Lab,
    run: &zevac_bench::Run,
    golden: &golden::Golden,
) -> (Vec<Disk>, zevac_bench::Outcome) {
    let mut disks = ec2_disks(run, golden, Throttle::mib_per_second(32), 2);
    let healthy = disks.clone();
    // From 16 MiB into the data partition (which starts at 1 MiB), past ZFS's labels and boot
    // area, to 700 MiB, short of the copy-on-write store if this disk carries it.
    disks[2] = disks[2]
        .clone()
        .failing_writes((17..700).step_by(2).map(|mib| mib * 2048));
    let outcome = boot_with_zevac(
        lab,
        run,
        golden,
        disks,
        include_str!("../guest/local-write-errors.sh"),
        None,
    );
    for name in ["apply", "watch", "zstatus", "dbgmsg"] {
        let c = outcome.events.cmd(name).unwrap();
        println!("{name} (exit {}):\n{}{}", c.rc, c.stdout, c.stderr);
    }
    (healthy, outcome)
}

/// Write errors on an instance store during the copy (blkdebug, every 2 MiB of its first
/// 700 MiB): ZFS cancels the removal, `zevac watch` fails with ZFS's reason, the pool keeps its
/// data. The next boot, with the disk healthy again, re-creates the snapshot over its store,
/// starts the removal again and finishes it. EBS stays bit-identical throughout.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn write_errors_on_an_instance_store_cancel_the_copy_and_the_next_boot_finishes_it() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let golden_hash = disks::sha256(&golden.image).unwrap();
    // Once in the lab (a CI rehearsal; it passed alone right after) ZFS neither cancelled nor
    // copied: the removal stalled at 37 % with 3 data errors until the watcher's 300-s timeout. Which write
    // fails first, the copy's or a txg's, is ZFS's timing: that outcome gets one more try.
    let (run, healthy, outcome) = (0..2)
        .map(|attempt| {
            let run = lab
                .new_run(&format!("local-write-errors-{attempt}"))
                .unwrap();
            let (healthy, outcome) = boot_with_write_errors(&lab, &run, &golden);
            (run, healthy, outcome)
        })
        .find(|(run, _, outcome)| {
            let watch = outcome.events.cmd("watch").unwrap();
            let stalled = watch.rc == 0;
            if stalled {
                println!("the removal stalled instead of being cancelled; trying once more");
                // The watcher said so rather than going on with its last rate and ETA.
                assert_warned_of_a_stall(&watch.stderr);
                run.remove_images().unwrap();
            }
            !stalled
        })
        .expect("the removal stalled twice instead of being cancelled");
    let ev = &outcome.events;
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
        include_str!("../guest/finish.sh"),
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
                include_str!("../guest/find-late-block.sh"),
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
        include_str!("../guest/watch-canceled.sh"),
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

//! The stage-2 watcher: profiles' tunables applied and restored, the copy driven to a verified
//! end, and the cap.

use zevac_bench::{Throttle, ZfsPair};

use crate::scene::*;

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
        include_str!("../guest/profiles.sh")
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
    said(ev, "bad_profile", 2, "no profile named \"nosuch\"");
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
    // 2.3 at EBS 16 MiB/s, long enough for a series of `zevac status` samples through the copy.
    let throttle = if pair == ZfsPair::V2_3 { 16 } else { 32 };
    let (run, outcome) = boot_watch_scenario(
        &scene(pair),
        "watch",
        throttle,
        "[tunables]\nprofile = \"fast\"\n",
        include_str!("../guest/watch.sh"),
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
    estimate_keeps_its_promises(&status_samples(ev, "status_samples"));
    run.remove_images().unwrap();
}

/// A one-shot `zevac status --json` and the guest's uptime when it started.
struct Sample {
    t: f64,
    r: zevac::status::StatusReport,
}

impl Sample {
    fn mib(bytes: u64) -> String {
        format!("{:.1}", bytes as f64 / 1048576.0)
    }
}

/// The samples of `sample_status` (a line cut short by the end is left out).
fn status_samples(ev: &zevac_bench::events::Events, name: &str) -> Vec<Sample> {
    let out = ev.cmd(name).unwrap().stdout;
    let samples: Vec<Sample> = out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(t, json)| {
            Some(Sample {
                t: t.parse().ok()?,
                r: serde_json::from_str(json).ok()?,
            })
        })
        .collect();
    println!("t (s)  state  ZFS copied  estimate  origin read  (MiB)  source");
    for s in &samples {
        println!(
            "{:.2}  {}  {}  {}  {}  {:?}",
            s.t,
            s.r.state.name(),
            Sample::mib(s.r.copied_bytes),
            Sample::mib(s.r.estimated_bytes),
            s.r.origin_read_bytes.map_or("-".into(), Sample::mib),
            s.r.estimate_source
        );
    }
    samples
}

/// The estimate between ZFS's txg updates, sampled through a copy: it moves at least once a
/// second until the bytes are all read, never goes back, is never more than one txg's worth
/// (ZFS's largest step between samples) ahead of ZFS's next value, and ends at ZFS's count.
fn estimate_keeps_its_promises(samples: &[Sample]) {
    use zevac::progress::EstimateSource;
    use zevac::status::CopyState;
    let copy: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.r.state == CopyState::Evacuating)
        .collect();
    // Each sample is a whole `zevac status` in an emulated guest: under load they come
    // about a second apart, so the test asks for enough of them and no long gap instead of
    // a rate.
    assert!(copy.len() >= 5, "{} samples during the copy", copy.len());
    for w in copy.windows(2) {
        assert!(
            w[1].t - w[0].t <= 2.5,
            "no sample from {:.2} to {:.2} s",
            w[0].t,
            w[1].t
        );
    }
    let from_reads = copy
        .iter()
        .filter(|s| s.r.estimate_source == EstimateSource::OriginReads)
        .count();
    assert!(
        from_reads * 10 >= copy.len() * 8,
        "{from_reads} of {} from the origin's reads",
        copy.len()
    );
    for w in samples.windows(2) {
        assert!(
            w[1].r.estimated_bytes >= w[0].r.estimated_bytes,
            "went back at {:.2} s",
            w[1].t
        );
    }
    let step = samples
        .windows(2)
        .map(|w| w[1].r.copied_bytes.saturating_sub(w[0].r.copied_bytes))
        .max()
        .unwrap();
    for (i, s) in copy.iter().enumerate() {
        let later = |f: &dyn Fn(&Sample) -> bool| copy[i..].iter().find(|n| f(n)).copied();
        if let Some(n) =
            later(&|n| n.t >= s.t + 1.0).filter(|_| s.r.estimated_bytes < s.r.total_bytes)
        {
            assert!(
                n.r.estimated_bytes > s.r.estimated_bytes,
                "stood still from {:.2} to {:.2} s",
                s.t,
                n.t
            );
        }
        let next = samples
            .iter()
            .find(|n| n.t > s.t && n.r.copied_bytes > s.r.copied_bytes);
        if let Some(n) = next {
            assert!(
                s.r.estimated_bytes <= n.r.copied_bytes + step,
                "at {:.2} s {} MiB, ZFS's next {} MiB, a txg {} MiB",
                s.t,
                Sample::mib(s.r.estimated_bytes),
                Sample::mib(n.r.copied_bytes),
                Sample::mib(step)
            );
        }
    }
    let end = samples.last().unwrap();
    assert_ne!(
        end.r.state,
        CopyState::Evacuating,
        "the samples end after the copy"
    );
    assert_eq!(end.r.estimated_bytes, end.r.copied_bytes);
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

/// `watch.starts_copy` (the NixOS module's): the copy waits for the watcher through the root
/// mount and a boot without a watcher; after a reset, the next boot's `apply` (new module
/// parameters, a new /run) holds it again; `zevac status` says what starts it; the watcher starts
/// it, records where, and takes it to a verified end.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn the_watcher_starts_the_copy_apply_held_for_it() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("watch-starts-copy").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    let config = "[watch]\ninterval = \"1s\"\nstarts_copy = true\n";
    let boot = |name: &str, script: &str| {
        let spec = zevac_spec(name, disks.clone(), script, &golden).file("/etc/zevac.toml", config);
        lab.run(&run, &spec).unwrap().events
    };
    // Held: EBS reads nothing while no watcher runs (32 MiB/s would read 192 MiB in 6 s).
    let idle = |ev: &zevac_bench::events::Events, a: &str, b: &str| {
        let read = number_of(ev, b).saturating_sub(number_of(ev, a));
        assert!(read < 4 << 20, "{a} to {b}: {read} bytes read");
    };
    let ev = boot("no-watcher", include_str!("../guest/watch-starts-copy.sh"));
    said(&ev, "apply", 0, "zpool remove");
    idle(&ev, "read_mounted", "read_later");
    let held = json_of(&ev, "status_held");
    assert_eq!(held["state"], "evacuating", "{held}");
    assert_eq!(held["waiting_for_watcher"], true, "{held}");
    said(&ev, "status_held_text", 0, "the copy waits for zevac watch");

    let ev = boot(
        "after-reset",
        include_str!("../guest/watch-starts-copy-reboot.sh"),
    );
    said(&ev, "apply", 0, "running");
    idle(&ev, "read_again", "read_again_later");
    assert_eq!(ev.cmd("suspend_held").unwrap().stdout.trim(), "1");
    let again = json_of(&ev, "status_again");
    assert_eq!(again["waiting_for_watcher"], true, "{again}");
    // The watcher: the copy's start recorded, verified, the pause lifted for good.
    let watch = ev.cmd("watch").unwrap();
    assert_eq!(watch.rc, 0, "{}{}", watch.stdout, watch.stderr);
    let start = json_of(&ev, "copy_start");
    assert!(start["origin_read_bytes"].as_u64().unwrap() >= number_of(&ev, "read_again_later"));
    assert_eq!(json_of(&ev, "status_done")["state"], "verified");
    assert_eq!(ev.cmd("suspend_after").unwrap().stdout.trim(), "0");
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
    run.remove_images().unwrap();
}

#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_share_cap_measures_the_origin_then_holds_the_copy_to_its_share() {
    let (_run, outcome) = boot_watch_scenario(
        &scene(ZfsPair::V2_3),
        "watch-share",
        8,
        "[tunables]\ncap = \"25%\"\n",
        include_str!("../guest/watch-share.sh"),
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
/// the cap. The cap counts its reads up to the cap, so the copy waits while it reads and what
/// the copy owed when it began stands still; once it stops, the copy reads EBS again when that
/// is paid (what it read before the foreground and the 64 MiB it may have had in flight), not
/// the foreground's reads (about 200 MiB: 50 s more).
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_foreground_heavier_than_the_cap_leaves_the_copy_no_debt() {
    let (run, outcome) = boot_watch_scenario(
        &scene(ZfsPair::V2_3),
        "watch-foreground",
        16,
        "[tunables]\ncap = \"4 MiB/s\"\n",
        include_str!("../guest/watch-foreground.sh"),
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
    // What the copy owed when the foreground began: what was read from the copy's start and the
    // 64 MiB it may have had in flight, less what the cap had allowed by then (from apply's
    // record, on the boot clock). The foreground's reads count at the cap while it lasts, so
    // that debt stands still until it ends. Then come the lead the controller keeps (half a
    // drain: at most 32 MiB, 8 s), the watcher's 1-s ticks, and ZFS taking the copy up again.
    // (The 64 MiB are an upper bound: four runs whose pause began long before the foreground
    // found the copy reading again 5 to 6 s before this debt ran out; one whose pause began
    // 5 s before it, 4.2 s after.)
    let start = json_of(ev, "copy_start");
    let (t0, read0) = (
        start["since_boot"].as_f64().unwrap(),
        start["origin_read_bytes"].as_f64().unwrap(),
    );
    let read_before = number_of(ev, "ebs_before") as f64 - read0;
    let owed = (read_before + 64.0 * mib) / (4.0 * mib) - (foreground.start - t0);
    let resumed = resumed.expect("the copy read EBS again");
    println!(
        "the copy owed {owed:.1} s of the cap when the foreground began \
         (its reads and the 64 MiB in flight)"
    );
    assert!(
        resumed <= owed.max(0.0) + 8.0 + 5.0,
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
        include_str!("../guest/watch-signals.sh"),
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

/// A copy that stands still though zevac holds nothing (an operator's pause): after a minute the
/// watcher reports it as stalled, with no rate or ETA, and goes on once it moves again.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn a_copy_standing_still_is_reported_as_stalled_until_it_moves() {
    let Scene { lab, golden, _turn } = scene(ZfsPair::V2_3);
    let run = lab.new_run("watch-stall").unwrap();
    let disks = ec2_disks(&run, &golden, Throttle::mib_per_second(32), 2);
    let spec = zevac_spec(
        "watch-stall",
        disks,
        include_str!("../guest/watch-stall.sh"),
        &golden,
    )
    .file("/etc/zevac.toml", "[watch]\ninterval = \"1s\"\n");
    let ev = lab.run(&run, &spec).unwrap().events;
    let still = json_of(&ev, "status_still");
    assert_eq!(still["state"], "evacuating", "{still}");
    assert_eq!(still["stalled_seconds"], serde_json::Value::Null, "{still}");
    let stalled = json_of(&ev, "status_stalled");
    assert_eq!(stalled["state"], "evacuating", "{stalled}");
    assert!(
        stalled["stalled_seconds"].as_f64().unwrap() > 60.0,
        "{stalled}"
    );
    assert_eq!(stalled["rate_bytes_per_second"], serde_json::Value::Null);
    assert_eq!(stalled["eta_seconds"], serde_json::Value::Null);
    said(&ev, "status_stalled_text", 0, "no progress for 1m");
    println!("{}", ev.cmd("status_stalled_text").unwrap().stdout);
    let moving = json_of(&ev, "status_moving");
    assert_eq!(
        moving["stalled_seconds"],
        serde_json::Value::Null,
        "{moving}"
    );
    assert!(
        moving["copied_bytes"].as_u64() > stalled["copied_bytes"].as_u64()
            || moving["state"] != "evacuating",
        "{stalled}\n{moving}"
    );
    let watch = ev.cmd("watch").unwrap();
    assert_eq!(watch.rc, 0, "{}{}", watch.stdout, watch.stderr);
    assert_warned_of_a_stall(&watch.stderr);
    assert_eq!(json_of(&ev, "status_done")["state"], "verified");
    assert_eq!(ev.cmd("verify").unwrap().rc, 0, "the data changed");
    run.remove_images().unwrap();
}

//! One cell: its boot, and its numbers read from the guest's command records.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::report::machine;
use super::MIB;
use crate::cell::{
    fio_phase, raw_disk, with_fio, CapSpec, Cell, CellResult, Workload, FIO_SECONDS,
};
use crate::events::Events;
use crate::{golden, BootSpec, Lab, Throttle, Versions};

/// Runs one cell.
pub fn run_cell(lab: &Lab, cell: &Cell, zevac: &Path) -> Result<CellResult> {
    let g = golden::golden(lab, cell.data_mib)?;
    let run = lab.new_run(&format!(
        "sweep-{}mib-{}mibps-{}",
        cell.data_mib, cell.throttle_mib, cell.profile
    ))?;
    let mut disks = run.ec2_disks(
        &g,
        Some(Throttle::mib_per_second(cell.throttle_mib)),
        2,
        cell.instance_store_mib(),
    )?;
    let mut local = Vec::new();
    if cell.workload == Workload::Fsync {
        // A third instance store stays raw: the fsync baseline. zevac gets the other two.
        local = disks[1..].iter().map(|d| d.by_id()).collect();
        disks.push(raw_disk(&run)?);
    }
    let env = format!("WORKLOAD={}\nFIO_SECONDS={FIO_SECONDS}\n", cell.workload);
    let mut spec = BootSpec::new("sweep", disks, include_str!("../../guest/sweep-cell.sh"))
        .file(crate::golden::MANIFEST, g.manifest.clone())
        .file("/lab/sweep.env", env)
        .file("/lab/workload.sh", include_str!("../../guest/workload.sh"))
        .file("/etc/zevac.toml", cell.config(&local)?)
        .binary("/bin/zevac", zevac);
    if cell.workload != Workload::None {
        spec = with_fio(spec)?;
    }
    let outcome = lab.run(&run, &spec)?;
    let result = measure(cell, &lab.versions(), &outcome.events, &run.dir)?;
    if result.ok() {
        run.remove_images()?;
    }
    Ok(result)
}

/// Reads a cell's numbers from its guest's command records.
pub(super) fn measure(
    cell: &Cell,
    versions: &Versions,
    ev: &Events,
    run_dir: &Path,
) -> Result<CellResult> {
    let (apply, wait) = succeeded(ev)?;
    let read_at_end = ev.cmd_number("ebs_read_at_copied")?;
    let copy_start = copy_start(ev)?;
    // The copy after the boot: from apply's return, or from the copy's start where the watcher
    // started it later.
    let (window, ebs_read) = match copy_start {
        Some((at, bytes)) if at > apply.end => (wait.end - at, read_at_end.saturating_sub(bytes)),
        _ => (
            wait.end - apply.end,
            read_at_end.saturating_sub(ev.cmd_number("ebs_read_at_apply")?),
        ),
    };
    let status = status_report(ev)?;
    let rate = ebs_read as f64 / window / MIB;
    let cap = cap_mib(cell, ev)?;
    let from_start =
        copy_start.map(|(at, bytes0)| (wait.end - at, read_at_end.saturating_sub(bytes0)));
    let watcher_seconds_from_start = watcher_from_copy_start(ev, copy_start)?;
    let read_seconds = match (&from_start, ev.cmd("ebs_reads")) {
        (Some((seconds, _)), Ok(samples)) => {
            last_read_at(&samples.stdout, read_at_end).map(|at| seconds - (wait.end - at))
        }
        _ => None,
    };
    let fio = |phase: &str| fio_phase(ev, phase);
    let (before, during, after, raw) = (fio("before")?, fio("during")?, fio("after")?, fio("raw")?);
    let during_copy_overlap = overlap(ev, wait.end);
    Ok(CellResult {
        cell: cell.clone(),
        zfs: versions.zfs.clone(),
        versions: Some(versions.clone()),
        machine: Some(machine()),
        cap_mib_per_second: cap,
        boot_blocking_seconds: apply.seconds(),
        import_seconds: import_seconds(&apply.stdout)?,
        apply_commands: Some(crate::apply_log::commands(&apply.stderr)),
        root_mount_seconds: ev.cmd("mount_root")?.seconds(),
        root_mount_before_seconds: ev.cmd("mount_before").ok().map(|c| c.seconds()),
        to_copy_bytes: Some(status.total_bytes),
        copy_seconds_after_boot: window,
        ebs_read_bytes: ebs_read,
        rate_mib_per_second: rate,
        rate_to_throttle: rate / cell.throttle_mib as f64,
        rate_to_cap: cap.map(|c| rate / c),
        copy_waited_seconds: copy_start
            .map(|(at, _)| at - apply.end)
            .filter(|&w| w > 0.0),
        copy_seconds_from_start: from_start.map(|(t, _)| t),
        ebs_read_from_start_bytes: from_start.map(|(_, b)| b),
        read_seconds_from_start: read_seconds,
        watcher_seconds_from_start,
        cap_accuracy: cap
            .zip(from_start)
            .zip(read_seconds)
            .map(|((c, (_, b)), t)| b as f64 / t / MIB / c),
        zfs_copy_seconds: status.elapsed_seconds.map(|s| s as f64),
        mapping_memory_bytes: status.mapping_memory_bytes,
        scrub_errors: status.scrub_errors(),
        manifest_ok: ev.cmd("verify")?.rc == 0,
        before,
        during,
        after,
        during_copy_overlap,
        fsync_iops_to_raw: after.zip(raw).map(|(a, r)| a.iops / r.iops),
        raw,
        run_dir: run_dir.to_path_buf(),
    })
}

/// `zevac apply`, `zpool wait` and `zevac watch` all succeeded: apply's and wait's records.
fn succeeded(ev: &Events) -> Result<(crate::events::CmdRecord, crate::events::CmdRecord)> {
    let apply = ev.cmd("apply")?;
    if apply.rc != 0 {
        bail!("zevac apply failed (exit {}): {}", apply.rc, apply.stderr);
    }
    let wait = ev.cmd("wait")?;
    if wait.rc != 0 {
        bail!("zpool wait failed: {}", wait.stderr);
    }
    let watch = ev.cmd("watch")?;
    if watch.rc != 0 {
        bail!("zevac watch failed (exit {}): {}", watch.rc, watch.stdout);
    }
    Ok((apply, wait))
}

/// The cell's cap in MiB/s: as set, or the profile's as the watcher recorded it.
fn cap_mib(cell: &Cell, ev: &Events) -> Result<Option<f64>> {
    Ok(match cell.cap_mib()? {
        None if cell.cap == CapSpec::Profile => ev
            .cmd("watch_record")
            .ok()
            .and_then(|c| serde_json::from_str::<zevac::watch::WatchRecord>(&c.stdout).ok())
            .and_then(|w| w.cap_bytes_per_second)
            .map(|c| c as f64 / MIB),
        cap => cap,
    })
}

/// The share of the `during` fio run before the copy ended at `copy_end` (guest clock).
fn overlap(ev: &Events, copy_end: f64) -> Option<f64> {
    ev.cmd("fio_during_window").ok().and_then(|c| {
        let mut it = c.stdout.split_whitespace().map(str::parse::<f64>);
        let (t0, t1) = (it.next()?.ok()?, it.next()?.ok()?);
        Some(((copy_end - t0) / (t1 - t0)).clamp(0.0, 1.0))
    })
}

/// From the copy's start to the watcher's: the root mount's end (the guest starts the watcher
/// right after it), on the boot clock of apply's `copy-start.json`.
pub(super) fn watcher_from_copy_start(
    ev: &Events,
    copy_start: Option<(f64, u64)>,
) -> Result<Option<f64>> {
    copy_start
        .map(|(at, _)| Ok(ev.cmd("mount_root")?.end - at))
        .transpose()
}

/// apply's `copy-start.json` as the guest recorded it, if it did.
pub(super) fn copy_start(ev: &Events) -> Result<Option<(f64, u64)>> {
    ev.cmd("copy_start")
        .ok()
        .filter(|c| c.rc == 0)
        .map(|c| copy_start_uptime(&c.stdout))
        .transpose()
}

/// Fills in what cells measured before a record was kept can still take from their guest's
/// records, where these are still on this machine (the watcher's start).
pub(super) fn fill_from_records(r: &mut CellResult) {
    if r.watcher_seconds_from_start.is_some() || r.copy_seconds_from_start.is_none() {
        return;
    }
    let Ok(text) = std::fs::read_to_string(crate::vm::RunFiles::new(&r.run_dir, 0).events) else {
        return;
    };
    let ev = Events(text.lines().filter_map(crate::Event::parse).collect());
    r.watcher_seconds_from_start = copy_start(&ev)
        .and_then(|start| watcher_from_copy_start(&ev, start))
        .ok()
        .flatten();
}

/// The copy's start on the guest's uptime clock, and the origin's read counter then, from apply's
/// `copy-start.json`.
pub(super) fn copy_start_uptime(stdout: &str) -> Result<(f64, u64)> {
    let record: zevac::watch::CopyStart =
        serde_json::from_str(stdout).context("reading apply's copy-start.json")?;
    let at = record
        .since_boot
        .context("copy-start.json has no since_boot (zevac before it was recorded)")?;
    Ok((at, record.origin_read_bytes))
}

/// When the counter first stood at `last` (its value at the copy's end), from `UPTIME BYTES`
/// samples: the copy's last read of the EBS disk, to half a second.
pub(super) fn last_read_at(samples: &str, last: u64) -> Option<f64> {
    samples.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        let t: f64 = it.next()?.parse().ok()?;
        let bytes: u64 = it.next()?.parse().ok()?;
        (bytes >= last).then_some(t)
    })
}

/// How long zevac's writable import took, from `zevac apply --json`; `None` when it did not
/// import the pool.
pub(super) fn import_seconds(apply_json: &str) -> Result<Option<f64>> {
    #[derive(serde::Deserialize)]
    struct Applied {
        import_seconds: Option<f64>,
    }
    let applied: Applied = serde_json::from_str(apply_json.trim())
        .with_context(|| format!("reading zevac apply --json: {apply_json:?}"))?;
    Ok(applied.import_seconds)
}

/// `zevac status --json` after the copy, through zevac's own type.
pub(crate) fn status_report(ev: &Events) -> Result<zevac::status::StatusReport> {
    serde_json::from_str(&ev.cmd("status_after")?.stdout).context("reading zevac status --json")
}

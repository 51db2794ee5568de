//! `zevac-bench sweep`: the benchmark harness. Each cell of a matrix (pool data size, EBS
//! throttle, profile, cap) boots the golden image from a throttled EBS with two instance stores,
//! runs `zevac apply` as the initrd would and `zevac watch` after it, and measures what users
//! choose a profile by: how long the boot is held, how fast the copy runs against the throttle
//! and the cap. The disks are emulated, so the harness reports ratios; absolute seconds are the
//! lab's, not EC2's.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::events::Events;
use crate::{golden, BootSpec, Lab, Throttle, Versions, ZfsPair};

const MIB: f64 = 1_048_576.0;

pub(crate) use crate::cell::{fio_phase, raw_disk, with_fio};
pub use crate::cell::{CapSpec, Cell, CellResult, Latency, Workload, FIO_SECONDS};

/// The matrix to sweep (`--matrix FILE`, TOML); every cell is each combination.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    pub data_mib: Vec<u64>,
    pub throttle_mib: Vec<u64>,
    pub profiles: Vec<String>,
    pub caps: Vec<CapSpec>,
    /// Foreground workloads (default: none).
    #[serde(default = "no_workload")]
    pub workloads: Vec<Workload>,
    /// Peers to run at each data size and throttle, after zevac's cells (default: none).
    #[serde(default)]
    pub peers: Vec<crate::peers::Peer>,
    /// Boots of each zevac cell (default 1): the emulated lab is noisy, so a claim rests on the
    /// spread of several.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub repeats: u32,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

fn no_workload() -> Vec<Workload> {
    vec![Workload::None]
}

impl Matrix {
    /// The full sweep of the full matrix: 108 cells of zevac and 48 of its peers.
    pub fn full() -> Self {
        Self {
            data_mib: vec![256, 1024],
            throttle_mib: vec![16, 64],
            profiles: ["gentle", "balanced", "fast"].map(String::from).to_vec(),
            caps: vec![
                CapSpec::None,
                CapSpec::OfThrottle(0.25),
                CapSpec::OfThrottle(0.5),
            ],
            workloads: vec![Workload::None, Workload::Randread, Workload::Fsync],
            peers: vec![
                crate::peers::Peer::Ebs,
                crate::peers::Peer::L2arc,
                crate::peers::Peer::Eager,
                crate::peers::Peer::Lvmcache,
            ],
            repeats: 1,
        }
    }

    /// One cell of zevac and one of a peer, for CI: keeps the harness from rotting, with the cap,
    /// the foreground workload and the L2ARC peer's path.
    pub fn quick() -> Self {
        Self {
            data_mib: vec![256],
            throttle_mib: vec![16],
            profiles: vec!["balanced".into()],
            caps: vec![CapSpec::OfThrottle(0.5)],
            workloads: vec![Workload::Randread],
            peers: vec![crate::peers::Peer::L2arc],
            repeats: 1,
        }
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let m: Matrix =
            toml::from_str(&text).with_context(|| format!("matrix {}", path.display()))?;
        if m.cells().is_empty() && m.peer_cells().is_empty() {
            bail!("matrix {}: no cells (an empty list)", path.display());
        }
        Ok(m)
    }

    /// Every peer at every data size, throttle and workload.
    pub fn peer_cells(&self) -> Vec<crate::peers::PeerCell> {
        let mut cells = Vec::new();
        for &data_mib in &self.data_mib {
            for &throttle_mib in &self.throttle_mib {
                for &peer in &self.peers {
                    for &workload in &self.workloads {
                        cells.push(crate::peers::PeerCell {
                            peer,
                            data_mib,
                            throttle_mib,
                            workload,
                        });
                    }
                }
            }
        }
        cells
    }

    /// The sweep's boots in the order they run: one data size and throttle at a time, zevac's
    /// cells and then the peers', so a sweep cut short still compares what it ran.
    pub fn order(&self) -> Vec<Work> {
        let (cells, peers) = (self.cells(), self.peer_cells());
        let mut work = Vec::new();
        for &d in &self.data_mib {
            for &t in &self.throttle_mib {
                let cells = cells
                    .iter()
                    .filter(|c| (c.data_mib, c.throttle_mib) == (d, t));
                work.extend(cells.cloned().map(Work::Zevac));
                let peers = peers
                    .iter()
                    .filter(|c| (c.data_mib, c.throttle_mib) == (d, t));
                work.extend(peers.copied().map(Work::Peer));
            }
        }
        work
    }

    /// Every combination, smallest data first (the golden images are built in that order).
    pub fn cells(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        for &data_mib in &self.data_mib {
            for &throttle_mib in &self.throttle_mib {
                for profile in &self.profiles {
                    for &cap in &self.caps {
                        for &workload in &self.workloads {
                            cells.extend((0..self.repeats.max(1)).map(|repeat| Cell {
                                data_mib,
                                throttle_mib,
                                profile: profile.clone(),
                                cap,
                                workload,
                                repeat,
                            }));
                        }
                    }
                }
            }
        }
        cells
    }
}

/// One boot of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    Zevac(Cell),
    Peer(crate::peers::PeerCell),
}

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
    let mut spec = BootSpec::new("sweep", disks, include_str!("../guest/sweep-cell.sh"))
        .file("/lab/manifest.sha256", g.manifest.clone())
        .file("/lab/sweep.env", env)
        .file("/lab/workload.sh", include_str!("../guest/workload.sh"))
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
fn measure(cell: &Cell, versions: &Versions, ev: &Events, run_dir: &Path) -> Result<CellResult> {
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
    let read_at_end = ev.cmd_number("ebs_read_at_copied")?;
    let ebs_read = read_at_end.saturating_sub(ev.cmd_number("ebs_read_at_apply")?);
    let window = wait.end - apply.end;
    let status: serde_json::Value = serde_json::from_str(&ev.cmd("status_after")?.stdout)
        .context("reading zevac status --json")?;
    let rate = ebs_read as f64 / window / MIB;
    let cap = match cell.cap_mib()? {
        None if cell.cap == CapSpec::Profile => ev
            .cmd("watch_record")
            .ok()
            .and_then(|c| serde_json::from_str::<zevac::watch::WatchRecord>(&c.stdout).ok())
            .and_then(|w| w.cap_bytes_per_second)
            .map(|c| c as f64 / MIB),
        cap => cap,
    };
    let copy_start = copy_start(ev)?;
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
    // The share of the `during` run before the copy ended (guest clock).
    let during_copy_overlap = ev.cmd("fio_during_window").ok().and_then(|c| {
        let mut it = c.stdout.split_whitespace().map(str::parse::<f64>);
        let (t0, t1) = (it.next()?.ok()?, it.next()?.ok()?);
        Some(((wait.end - t0) / (t1 - t0)).clamp(0.0, 1.0))
    });
    Ok(CellResult {
        cell: cell.clone(),
        zfs: versions.zfs.clone(),
        versions: Some(versions.clone()),
        machine: Some(machine()),
        cap_mib_per_second: cap,
        boot_blocking_seconds: apply.seconds(),
        import_seconds: import_seconds(&apply.stdout),
        root_mount_seconds: ev.cmd("mount_root")?.seconds(),
        root_mount_before_seconds: ev.cmd("mount_before").ok().map(|c| c.seconds()),
        to_copy_bytes: status["total_bytes"].as_u64(),
        copy_seconds_after_boot: window,
        ebs_read_bytes: ebs_read,
        rate_mib_per_second: rate,
        rate_to_throttle: rate / cell.throttle_mib as f64,
        rate_to_cap: cap.map(|c| rate / c),
        copy_seconds_from_start: from_start.map(|(t, _)| t),
        ebs_read_from_start_bytes: from_start.map(|(_, b)| b),
        read_seconds_from_start: read_seconds,
        watcher_seconds_from_start,
        cap_accuracy: cap
            .zip(from_start)
            .zip(read_seconds)
            .map(|((c, (_, b)), t)| b as f64 / t / MIB / c),
        zfs_copy_seconds: status["elapsed_seconds"].as_f64(),
        mapping_memory_bytes: status["mapping_memory_bytes"].as_u64(),
        scrub_errors: status["scrub"]["errors"].as_u64(),
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

/// From the copy's start to the watcher's: the root mount's end (the guest starts the watcher
/// right after it), on the boot clock of apply's `copy-start.json`.
fn watcher_from_copy_start(ev: &Events, copy_start: Option<(f64, u64)>) -> Result<Option<f64>> {
    copy_start
        .map(|(at, _)| Ok(ev.cmd("mount_root")?.end - at))
        .transpose()
}

/// apply's `copy-start.json` as the guest recorded it, if it did.
fn copy_start(ev: &Events) -> Result<Option<(f64, u64)>> {
    ev.cmd("copy_start")
        .ok()
        .filter(|c| c.rc == 0)
        .map(|c| copy_start_uptime(&c.stdout))
        .transpose()
}

/// Fills in what cells measured before a record was kept can still take from their guest's
/// records, where these are still on this machine (the watcher's start).
fn fill_from_records(r: &mut CellResult) {
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
fn copy_start_uptime(stdout: &str) -> Result<(f64, u64)> {
    let record: zevac::watch::CopyStart =
        serde_json::from_str(stdout).context("reading apply's copy-start.json")?;
    let at = record
        .since_boot
        .context("copy-start.json has no since_boot (zevac before it was recorded)")?;
    Ok((at, record.origin_read_bytes))
}

/// When the counter first stood at `last` (its value at the copy's end), from `UPTIME BYTES`
/// samples: the copy's last read of the EBS disk, to half a second.
fn last_read_at(samples: &str, last: u64) -> Option<f64> {
    samples.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        let t: f64 = it.next()?.parse().ok()?;
        let bytes: u64 = it.next()?.parse().ok()?;
        (bytes >= last).then_some(t)
    })
}

/// `imported pool rpool in 0.78 s` from `zevac apply`'s output.
fn import_seconds(apply_stdout: &str) -> Option<f64> {
    apply_stdout
        .lines()
        .find_map(|l| l.strip_prefix("imported pool "))
        .and_then(|rest| rest.split(" in ").nth(1))
        .and_then(|s| s.trim_end_matches(" s").parse().ok())
}

/// What a sweep measured: zevac's cells and the peers'.
#[derive(Debug, Default)]
pub struct Sweep {
    pub cells: Vec<CellResult>,
    pub peers: Vec<crate::peers::PeerResult>,
    /// The cells and peers that failed to run, with why (they are run again on `--resume`).
    pub failed: Vec<String>,
}

/// Runs the matrix, one data size and throttle at a time (zevac's cells, then the peers at the
/// same size and throttle, so a sweep cut short still compares), printing a line per cell, and
/// writes the results to `out` after every cell. With `resume`, the verified results already in
/// `out` are kept and their cells are not run again. A cell that fails is reported and the sweep
/// goes on.
pub fn run(lab: &Lab, matrix: &Matrix, zevac: &Path, out: &Path, resume: bool) -> Result<Sweep> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut sweep = Sweep::default();
    if resume {
        sweep.cells = load(&[out.to_path_buf()])?
            .into_iter()
            .filter(CellResult::ok)
            .collect();
        sweep.peers = crate::peers::load(&[out.to_path_buf()])?
            .into_iter()
            .filter(|p| p.manifest_ok)
            .collect();
        println!(
            "resuming {}: {} cells and {} peer cells already measured",
            out.display(),
            sweep.cells.len(),
            sweep.peers.len()
        );
    } else if out.join("results.json").exists() {
        bail!(
            "{} already holds a sweep: pass --resume to go on with it, or choose another --out",
            out.display()
        );
    }
    std::fs::write(out.join("matrix.toml"), toml::to_string(matrix)?)?;
    let work = matrix.order();
    for (i, w) in work.iter().enumerate() {
        let label = match w {
            Work::Zevac(cell) if !sweep.cells.iter().any(|r| &r.cell == cell) => cell.label(),
            Work::Peer(cell) if !sweep.peers.iter().any(|p| &p.cell() == cell) => cell.label(),
            _ => continue,
        };
        println!("cell {}/{}: {label}", i + 1, work.len());
        let outcome = match w {
            Work::Zevac(cell) => run_cell(lab, cell, zevac).map(|r| {
                print_cell(&r);
                sweep.cells.push(r);
            }),
            Work::Peer(cell) => crate::peers::run_peer(lab, cell).map(|r| {
                crate::peers::print(&r);
                sweep.peers.push(r);
            }),
        };
        if let Err(e) = outcome {
            println!("  FAILED: {e:#}");
            sweep.failed.push(format!("{label}: {e:#}"));
        }
        write_results(&sweep.cells, &sweep.peers, lab.pair, out)?;
    }
    Ok(sweep)
}

fn print_cell(r: &CellResult) {
    println!(
        "  boot held {:.1} s (import {}) + root mount {:.1} s, copy {:.1} s after boot at {:.2} MiB/s = {:.2} of the throttle{}{}{}",
        r.boot_blocking_seconds,
        r.import_seconds.map_or("?".into(), |s| format!("{s:.2} s")),
        r.root_mount_seconds,
        r.copy_seconds_after_boot,
        r.rate_mib_per_second,
        r.rate_to_throttle,
        match (r.rate_to_cap, r.cap_accuracy) {
            (_, Some(x)) => format!(
                ", {x:.2} of the cap from the copy's start ({:.1} s to its last read; the copy's own {:.2})",
                r.read_seconds_from_start.unwrap_or(f64::NAN),
                r.copy_rate_to_cap().unwrap_or(f64::NAN)
            ),
            (Some(x), None) => format!(", {x:.2} of the cap after boot"),
            (None, None) => String::new(),
        },
        r.before.zip(r.during).zip(r.after).map_or(String::new(), |((b, d), a)| format!(
            ", p99 {:.2} / {:.2} / {:.2} ms before / during / after",
            b.p99_ms, d.p99_ms, a.p99_ms
        )),
        if r.ok() { "" } else { "; NOT VERIFIED" }
    );
}

/// Reads the `results.json` of earlier sweeps, in order.
pub fn load(dirs: &[PathBuf]) -> Result<Vec<CellResult>> {
    let mut all = Vec::new();
    for d in dirs {
        let path = d.join("results.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut some: Vec<CellResult> =
            serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
        some.iter_mut().for_each(fill_from_records);
        all.append(&mut some);
    }
    Ok(all)
}

/// `results.json`, `results.csv`, the plots and `summary.md` in `out`; with peers, also
/// `peers.json` and their section of the summary.
pub fn write_results(
    results: &[CellResult],
    peers: &[crate::peers::PeerResult],
    pair: ZfsPair,
    out: &Path,
) -> Result<()> {
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(results)?,
    )?;
    let mut csv = csv::Writer::from_path(out.join("results.csv"))?;
    for r in results {
        csv.serialize(CsvRow::from(r))?;
    }
    csv.flush()?;
    let plots = crate::plots::write(results, peers, out)?;
    let mut text = summary(results, pair);
    if !peers.is_empty() {
        crate::peers::write(peers, out)?;
        text.push_str(&crate::peers::section(peers, results));
    }
    if !plots.is_empty() {
        text.push_str("\n## Plots\n\n");
        for p in plots {
            text.push_str(&format!("![{p}]({p})\n"));
        }
    }
    std::fs::write(out.join("summary.md"), text)?;
    Ok(())
}

/// A flat row (the csv crate cannot write the nested cell).
#[derive(Serialize)]
struct CsvRow<'a> {
    zfs: &'a str,
    data_mib: u64,
    throttle_mib: u64,
    profile: &'a str,
    cap: String,
    cap_mib_per_second: Option<f64>,
    boot_blocking_seconds: f64,
    import_seconds: Option<f64>,
    root_mount_seconds: f64,
    root_mount_before_seconds: Option<f64>,
    to_copy_bytes: Option<u64>,
    copy_seconds_after_boot: f64,
    ebs_read_bytes: u64,
    rate_mib_per_second: f64,
    rate_to_throttle: f64,
    rate_to_cap: Option<f64>,
    copy_seconds_from_start: Option<f64>,
    ebs_read_from_start_bytes: Option<u64>,
    read_seconds_from_start: Option<f64>,
    cap_accuracy: Option<f64>,
    copy_rate_to_cap: Option<f64>,
    watcher_seconds_from_start: Option<f64>,
    zfs_copy_seconds: Option<f64>,
    mapping_memory_bytes: Option<u64>,
    scrub_errors: Option<u64>,
    manifest_ok: bool,
    workload: &'static str,
    before_p50_ms: Option<f64>,
    before_p99_ms: Option<f64>,
    before_p999_ms: Option<f64>,
    before_iops: Option<f64>,
    during_p50_ms: Option<f64>,
    during_p99_ms: Option<f64>,
    during_p999_ms: Option<f64>,
    during_iops: Option<f64>,
    during_copy_overlap: Option<f64>,
    after_p50_ms: Option<f64>,
    after_p99_ms: Option<f64>,
    after_p999_ms: Option<f64>,
    after_iops: Option<f64>,
    raw_iops: Option<f64>,
    fsync_iops_to_raw: Option<f64>,
}

impl<'a> From<&'a CellResult> for CsvRow<'a> {
    fn from(r: &'a CellResult) -> Self {
        Self {
            zfs: &r.zfs,
            data_mib: r.cell.data_mib,
            throttle_mib: r.cell.throttle_mib,
            profile: &r.cell.profile,
            cap: r.cell.cap.to_string(),
            cap_mib_per_second: r.cap_mib_per_second,
            boot_blocking_seconds: r.boot_blocking_seconds,
            import_seconds: r.import_seconds,
            root_mount_seconds: r.root_mount_seconds,
            root_mount_before_seconds: r.root_mount_before_seconds,
            to_copy_bytes: r.to_copy_bytes,
            copy_seconds_after_boot: r.copy_seconds_after_boot,
            ebs_read_bytes: r.ebs_read_bytes,
            rate_mib_per_second: r.rate_mib_per_second,
            rate_to_throttle: r.rate_to_throttle,
            rate_to_cap: r.rate_to_cap,
            copy_seconds_from_start: r.copy_seconds_from_start,
            ebs_read_from_start_bytes: r.ebs_read_from_start_bytes,
            read_seconds_from_start: r.read_seconds_from_start,
            cap_accuracy: r.cap_accuracy,
            copy_rate_to_cap: r.copy_rate_to_cap(),
            watcher_seconds_from_start: r.watcher_seconds_from_start,
            zfs_copy_seconds: r.zfs_copy_seconds,
            mapping_memory_bytes: r.mapping_memory_bytes,
            scrub_errors: r.scrub_errors,
            manifest_ok: r.manifest_ok,
            workload: r.cell.workload.name(),
            before_p50_ms: r.before.map(|l| l.p50_ms),
            before_p99_ms: r.before.map(|l| l.p99_ms),
            before_p999_ms: r.before.map(|l| l.p999_ms),
            before_iops: r.before.map(|l| l.iops),
            during_p50_ms: r.during.map(|l| l.p50_ms),
            during_p99_ms: r.during.map(|l| l.p99_ms),
            during_p999_ms: r.during.map(|l| l.p999_ms),
            during_iops: r.during.map(|l| l.iops),
            during_copy_overlap: r.during_copy_overlap,
            after_p50_ms: r.after.map(|l| l.p50_ms),
            after_p99_ms: r.after.map(|l| l.p99_ms),
            after_p999_ms: r.after.map(|l| l.p999_ms),
            after_iops: r.after.map(|l| l.iops),
            raw_iops: r.raw.map(|l| l.iops),
            fsync_iops_to_raw: r.fsync_iops_to_raw,
        }
    }
}

/// One of the goals, judged on the cells that measure it.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub name: &'static str,
    pub target: &'static str,
    /// `None`: no cell of this sweep measures it.
    pub measured: Option<String>,
    pub met: Option<bool>,
}

/// The goals this harness can judge so far, as ratios.
pub fn goals(results: &[CellResult]) -> Vec<Goal> {
    let ok: Vec<&CellResult> = results.iter().filter(|r| r.ok()).collect();
    let mut goals = Vec::new();

    let flat = boot_blocking_flat(&ok);
    goals.push(goal(
        "boot blocking flat in data size",
        "at most 1.2x",
        flat,
    ));

    let fast: Vec<f64> = ok
        .iter()
        .filter(|r| r.cell.profile == "fast" && r.cap_mib_per_second.is_none())
        .map(|r| r.rate_to_throttle)
        .collect();
    goals.push(goal(
        "copy rate / throttle with `fast`, no cap",
        "at least 0.95",
        lowest_at_least(&fast, 0.95),
    ));

    // Only caps below the throttle bind: a 40 MiB/s cap on a 16 MiB/s volume says nothing. And
    // only where the copy outlasted the initrd: the cap is the watcher's, in stage 2, and a copy
    // whose last read came before the watcher did ran uncapped throughout.
    let binding = |foreground: bool| -> (Vec<&CellResult>, usize) {
        let binding: Vec<&CellResult> = ok
            .iter()
            .copied()
            .filter(|r| {
                r.cap_mib_per_second
                    .is_some_and(|c| c < r.cell.throttle_mib as f64)
                    && (r.cell.workload != Workload::None) == foreground
                    && r.cap_accuracy.is_some()
            })
            .collect();
        let held: Vec<&CellResult> = binding
            .iter()
            .copied()
            .filter(|r| r.copy_outlasted_the_initrd())
            .collect();
        let unheld = binding.len() - held.len();
        (held, unheld)
    };
    let unheld_note = |n: usize| {
        if n > 0 {
            format!(" ({n} more ended before the watcher came)")
        } else {
            String::new()
        }
    };
    // The copy alone: all of EBS's reads are the copy's, and the cap holds them at its rate.
    let (alone, unheld) = binding(false);
    let accuracy: Vec<f64> = alone.iter().filter_map(|r| r.cap_accuracy).collect();
    goals.push(goal(
        "cap accuracy, the copy alone",
        "within 10 %",
        (!accuracy.is_empty()).then(|| {
            let worst = accuracy
                .iter()
                .cloned()
                .max_by(|a, b| (a - 1.0).abs().total_cmp(&(b - 1.0).abs()))
                .unwrap_or(1.0);
            (
                format!(
                    "worst {worst:.2} of the cap over {} cells{}",
                    accuracy.len(),
                    unheld_note(unheld)
                ),
                (worst - 1.0).abs() <= 0.10,
            )
        }),
    ));
    // With a foreground, the cap counts its reads too, so the copy yields to it: the copy's own
    // rate is the cap at most, and below it by the foreground's share. A foreground faster than
    // the cap on its own overruns it whatever the copy does; the EBS reads over the cap are
    // shown beside.
    let (busy, unheld) = binding(true);
    let copy: Vec<f64> = busy.iter().filter_map(|r| r.copy_rate_to_cap()).collect();
    let all_reads: Vec<f64> = busy.iter().filter_map(|r| r.cap_accuracy).collect();
    goals.push(goal(
        "the copy's own rate / cap with a foreground workload (its EBS reads count against the cap)",
        "at most 1.10",
        (!copy.is_empty()).then(|| {
            let (lo, hi) = min_max(&copy);
            let (reads_lo, reads_hi) = min_max(&all_reads);
            (
                format!(
                    "{lo:.2} to {hi:.2} over {} cells{} (all EBS reads / cap: {reads_lo:.2} to {reads_hi:.2})",
                    copy.len(),
                    unheld_note(unheld)
                ),
                hi <= 1.10,
            )
        }),
    ));

    goals.push(gentle_p99(&ok));

    let fsync: Vec<f64> = ok.iter().filter_map(|r| r.fsync_iops_to_raw).collect();
    goals.push(goal(
        "fsync IOPS after the copy / raw instance store",
        "at least 0.8",
        lowest_at_least(&fsync, 0.8),
    ));
    goals
}

/// gentle's random-read p99 during the copy against before it.
fn gentle_p99(ok: &[&CellResult]) -> Goal {
    // `gentle` ships with a cap (half the origin's measured rate): it is judged where a cap held
    // the copy. Without one (no cap, or the copy done before the watcher came) it is shown apart.
    // Only where most of fio's `during` run overlapped the copy: a run the copy left early
    // measures mostly the pool after it.
    let gentle: Vec<&CellResult> = ok
        .iter()
        .copied()
        .filter(|r| r.cell.profile == "gentle" && r.cell.workload == Workload::Randread)
        .collect();
    let overlapped = |r: &CellResult| r.during_copy_overlap.is_some_and(|o| o >= MIN_OVERLAP);
    let p99_ratio = |capped: bool| -> Vec<f64> {
        gentle
            .iter()
            .filter(|r| overlapped(r))
            .filter(|r| (r.cap_mib_per_second.is_some() && r.copy_outlasted_the_initrd()) == capped)
            .filter_map(|r| Some(r.during?.p99_ms / r.before?.p99_ms))
            .collect()
    };
    let uncapped = p99_ratio(false);
    let short = gentle.iter().filter(|r| !overlapped(r)).count();
    goal(
        "random-read p99 during the copy / before it, `gentle` with a cap (its own or the matrix's)",
        "at most 1.5x",
        highest_at_most(&p99_ratio(true), 1.5).map(|(text, met)| {
            let mut apart = String::new();
            if !uncapped.is_empty() {
                let (lo, hi) = min_max(&uncapped);
                apart += &format!(
                    " (uncapped: {lo:.2}x to {hi:.2}x over {} cells)",
                    uncapped.len()
                );
            }
            if short > 0 {
                apart += &format!(
                    " ({short} cells left out: fio overlapped the copy less than {:.0} %)",
                    MIN_OVERLAP * 100.0
                );
            }
            (text + &apart, met)
        }),
    )
}

/// "lo to hi (n)" of the values `f` gives, or "-".
fn spread(cells: &[&CellResult], f: impl Fn(&CellResult) -> Option<f64>) -> String {
    let v: Vec<f64> = cells.iter().filter_map(|r| f(r)).collect();
    if v.is_empty() {
        return "-".into();
    }
    let (lo, hi) = min_max(&v);
    format!("{lo:.2} to {hi:.2} ({})", v.len())
}

/// The spread of each cell that ran more than once, for claims that rest on repeats.
fn repeats_section(results: &[CellResult]) -> String {
    let mut groups: Vec<Vec<&CellResult>> = vec![];
    for r in results {
        match groups.iter_mut().find(|g| g[0].cell.same_settings(&r.cell)) {
            Some(g) => g.push(r),
            None => groups.push(vec![r]),
        }
    }
    groups.retain(|g| g.len() > 1);
    if groups.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n## Repeats\n\nEach cell that ran more than once, its spread (lowest to highest, and how \
         many boots measured it).\n\n| data | EBS throttle | profile | cap | workload | boots | \
         boot held (s) | cap in force (MiB/s) | the copy's own / cap | p99 during / before | \
         fio overlap with the copy |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for g in groups {
        let c = &g[0].cell;
        s.push_str(&format!(
            "| {} MiB | {} MiB/s | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.data_mib,
            c.throttle_mib,
            c.profile,
            c.cap,
            c.workload,
            g.len(),
            spread(&g, |r| Some(r.boot_blocking_seconds)),
            spread(&g, |r| r.cap_mib_per_second),
            spread(&g, |r| r.copy_rate_to_cap()),
            spread(&g, |r| Some(r.during?.p99_ms / r.before?.p99_ms)),
            spread(&g, |r| r.during_copy_overlap),
        ));
    }
    s
}

/// The share of fio's `during` run that must overlap the copy for its p99 to count.
const MIN_OVERLAP: f64 = 0.5;

/// Boot blocking flat in data size: each cell at the largest size against the cell of the
/// smallest size with the same throttle, profile, cap and workload; judged on the worst pair.
fn boot_blocking_flat(ok: &[&CellResult]) -> Option<(String, bool)> {
    let lo = ok.iter().map(|r| r.cell.data_mib).min()?;
    let hi = ok.iter().map(|r| r.cell.data_mib).max()?;
    if hi == lo {
        return None;
    }
    let same = |a: &Cell, b: &Cell| {
        (a.throttle_mib, &a.profile, a.cap, a.workload)
            == (b.throttle_mib, &b.profile, b.cap, b.workload)
    };
    let ratios: Vec<f64> = ok
        .iter()
        .filter(|r| r.cell.data_mib == hi)
        .filter_map(|big| {
            let small = ok
                .iter()
                .find(|r| r.cell.data_mib == lo && same(&r.cell, &big.cell))?;
            Some(big.boot_blocking_seconds / small.boot_blocking_seconds)
        })
        .collect();
    if ratios.is_empty() {
        return None;
    }
    let (min, max) = min_max(&ratios);
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    Some((
        format!(
            "worst {max:.2}x over {} matched pairs ({hi} MiB vs {lo} MiB; {min:.2}x to {max:.2}x, mean {mean:.2}x)",
            ratios.len()
        ),
        max <= 1.2,
    ))
}

/// The lowest of `values` against a floor, as the goals table words it; `None` for none.
fn lowest_at_least(values: &[f64], floor: f64) -> Option<(String, bool)> {
    let worst = values.iter().cloned().reduce(f64::min)?;
    Some((
        format!("worst {worst:.2} over {} cells", values.len()),
        worst >= floor,
    ))
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// The highest of `values` (ratios) against a ceiling.
fn highest_at_most(values: &[f64], ceiling: f64) -> Option<(String, bool)> {
    let worst = values.iter().cloned().reduce(f64::max)?;
    Some((
        format!("worst {worst:.2}x over {} cells", values.len()),
        worst <= ceiling,
    ))
}

fn goal(name: &'static str, target: &'static str, m: Option<(String, bool)>) -> Goal {
    Goal {
        name,
        target,
        met: m.as_ref().map(|(_, met)| *met),
        measured: m.map(|(s, _)| s),
    }
}

/// The host the lab ran on: CPU model, cores, QEMU's version.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let qemu =
        crate::cmd::stdout(std::process::Command::new("qemu-system-x86_64").arg("--version"))
            .ok()
            .and_then(|v| v.lines().next().map(str::to_string))
            .unwrap_or_else(|| "QEMU (version unknown)".into());
    format!("{cpu}, {cores} cores, {qemu}")
}

/// Each distinct value of `values`, in the order they first come.
fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen: Vec<String> = vec![];
    for v in values {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen
}

/// The hosts the cells ran on, each once.
fn machines_line(results: &[CellResult]) -> String {
    let seen = distinct(results.iter().filter_map(|r| r.machine.clone()));
    match (seen.is_empty(), results.iter().any(|r| r.machine.is_none())) {
        (true, _) => "on machines these results do not record".into(),
        (false, false) => format!("on {}", seen.join("; ")),
        (false, true) => format!("on {} (and machines not recorded)", seen.join("; ")),
    }
}

/// The versions the cells ran on, each once, as the summary's first words.
fn versions_line(results: &[CellResult], pair: ZfsPair) -> String {
    let seen = distinct(
        results
            .iter()
            .filter_map(|r| r.versions.as_ref().map(ToString::to_string)),
    );
    if seen.is_empty() {
        let zfs = results
            .first()
            .map_or(pair.series().zfs.upstream, |r| &r.zfs);
        return format!("OpenZFS {zfs} (its Debian versions not recorded in these results)");
    }
    seen.join("; ")
}

/// `summary.md`: the table a user reads, and the goals.
pub fn summary(results: &[CellResult], pair: ZfsPair) -> String {
    let mut s = format!(
        "# zevac sweep\n\n{}, in the QEMU lab {} (software emulation: \
         disks and CPU are emulated, so read the ratios, not the seconds). Each cell: the \
         golden image on an EBS volume throttled by QEMU, two blank instance stores, `zevac \
         apply` in the initrd, `zevac watch` after it to a verified end. \"rate\": the EBS \
         disk's reads from `zevac apply` returning to the copy's end, over that time. \"cap \
         accuracy\": its reads from `zpool remove` returning (where the cap starts counting) to \
         its last read before the copy's end (sampled twice a second; ZFS marks the removal done \
         a txg sync or two later), over that time and the cap: the initrd's uncapped start is \
         in it, and the foreground's reads of EBS, which the cap counts too.\n\n",
        versions_line(results, pair),
        machines_line(results)
    );
    s.push_str(
        "| data | EBS throttle | profile | cap | workload | boot held | import | root mount | copy after boot | rate | rate / throttle | rate / cap | cap accuracy | the copy's own / cap | mapping memory | verified |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in results {
        s.push_str(&format!(
            "| {} MiB | {} MiB/s | {} | {} | {} | {:.1} s | {} | {:.1} s | {:.1} s | {:.2} MiB/s | {:.2} | {} | {} | {} | {} | {} |\n",
            r.cell.data_mib,
            r.cell.throttle_mib,
            r.cell.profile,
            match (r.cap_mib_per_second, r.cell.cap) {
                (Some(c), spec) => format!("{c:.1} MiB/s ({spec})"),
                (None, CapSpec::None) => "none".into(),
                (None, spec) => format!("none ({spec})"),
            },
            r.cell.workload,
            r.boot_blocking_seconds,
            r.import_seconds.map_or("-".into(), |s| format!("{s:.2} s")),
            r.root_mount_seconds,
            r.copy_seconds_after_boot,
            r.rate_mib_per_second,
            r.rate_to_throttle,
            r.rate_to_cap.map_or("-".into(), |x| format!("{x:.2}")),
            r.cap_accuracy.map_or("-".into(), |x| format!("{x:.2}")),
            r.copy_rate_to_cap().map_or("-".into(), |x| format!("{x:.2}")),
            r.mapping_memory_bytes
                .map_or("-".into(), |b| format!("{:.1} KiB", b as f64 / 1024.0)),
            if r.ok() { "yes" } else { "NO" },
        ));
    }
    let with_io: Vec<&CellResult> = results.iter().filter(|r| r.before.is_some()).collect();
    if !with_io.is_empty() {
        s.push_str(&format!(
            "\n## Foreground I/O\n\nfio for {FIO_SECONDS} s before the copy (the pool on EBS alone, \
             as without zevac), during it (from `zevac apply` returning; \"overlap\" is the share \
             of that run before the copy ended), and after the verification. randread: 4k random \
             reads of old data (80 % of the pool; the ARC held to 64 MiB in every cell); fsync: etcd's 2300-byte writes, each with \
             fdatasync (latency of the fdatasync), and the same job on a raw instance store.\n\n\
             | data | throttle | profile | cap | workload | p50 / p99 / p99.9 before (ms) | during | after | IOPS before / during / after | overlap | during p99 / before | after / raw IOPS |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|\n"
        ));
        let lat = |l: Option<Latency>| {
            l.map_or("-".into(), |l| {
                format!("{:.2} / {:.2} / {:.2}", l.p50_ms, l.p99_ms, l.p999_ms)
            })
        };
        let iops = |l: Option<Latency>| l.map_or("-".into(), |l| format!("{:.0}", l.iops));
        for r in with_io {
            s.push_str(&format!(
                "| {} MiB | {} MiB/s | {} | {} | {} | {} | {} | {} | {} / {} / {} | {} | {} | {} |\n",
                r.cell.data_mib,
                r.cell.throttle_mib,
                r.cell.profile,
                r.cell.cap,
                r.cell.workload,
                lat(r.before),
                lat(r.during),
                lat(r.after),
                iops(r.before),
                iops(r.during),
                iops(r.after),
                r.during_copy_overlap
                    .map_or("-".into(), |o| format!("{:.0} %", o * 100.0)),
                r.during
                    .zip(r.before)
                    .map_or("-".into(), |(d, b)| format!("{:.2}x", d.p99_ms / b.p99_ms)),
                r.fsync_iops_to_raw
                    .map_or("-".into(), |x| format!("{x:.2}")),
            ));
        }
    }
    s.push_str(&repeats_section(results));
    s.push_str("\n## Goals\n\n| goal | target | measured | met |\n|---|---|---|---|\n");
    for g in goals(results) {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            g.name,
            g.target,
            g.measured.as_deref().unwrap_or("not in this sweep"),
            match g.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "-",
            }
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cell of gentle at a quarter of a 16 MiB/s volume, as the lab recorded it: the copy
    /// started at 24.13 s of uptime, ran uncapped until the watcher came at about 30 s, paused
    /// and ran by turns, and read its last byte at 94.66 s (`zpool wait` returned at 94.76 s).
    #[test]
    fn the_copy_start_and_its_last_read_come_from_the_guests_records() {
        let (at, bytes0) =
            copy_start_uptime(include_str!("../fixtures/zfs-2.3.2/sweep-copy-start.json")).unwrap();
        assert_eq!((at, bytes0), (24.130369917, 20443136));
        let samples = include_str!("../fixtures/zfs-2.3.2/sweep-ebs-reads.txt");
        assert_eq!(last_read_at(samples, 296472576), Some(94.66));
        // A counter that never reached the end's value (a sampler that died early): no answer.
        assert_eq!(last_read_at(samples, 296472577), None);
        assert!(
            copy_start_uptime("{\"pool\": \"rpool\", \"at\": 1.0, \"origin_read_bytes\": 0}")
                .unwrap_err()
                .to_string()
                .contains("no since_boot")
        );
    }

    /// A cell of the sweep (256 MiB, EBS 64 MiB/s, gentle, cap 25 %, randread; apply's output
    /// left out): `zpool remove` returned at 35.44 s, and the guest's records of the counter and
    /// copy-start.json took 1.5 s before the root mount, which ended at 37.72 s. The estimate
    /// from apply's end and the mount's length said 0.67 s; the copy, done reading at 4.12 s,
    /// ended in the watcher's first pause's drain.
    #[test]
    fn the_watchers_start_comes_from_the_guests_records() {
        let text = include_str!("../fixtures/zfs-2.3.2/sweep-watcher-start.jsonl");
        let ev = Events(text.lines().filter_map(crate::Event::parse).collect());
        let watcher = watcher_from_copy_start(&ev, copy_start(&ev).unwrap())
            .unwrap()
            .unwrap();
        assert!((watcher - 2.28).abs() < 0.01, "{watcher}");
        let none = Events(Vec::new());
        assert_eq!(
            watcher_from_copy_start(&none, copy_start(&none).unwrap()).unwrap(),
            None
        );
    }

    #[test]
    fn caps_parse_and_print() {
        assert_eq!("none".parse(), Ok(CapSpec::None));
        assert_eq!("profile".parse(), Ok(CapSpec::Profile));
        assert_eq!("25%".parse(), Ok(CapSpec::OfThrottle(0.25)));
        assert_eq!("8 MiB/s".parse(), Ok(CapSpec::MibPerSecond(8.0)));
        assert!("0%".parse::<CapSpec>().is_err());
        assert!("fast".parse::<CapSpec>().unwrap_err().contains("25%"));
        assert_eq!(CapSpec::OfThrottle(0.5).to_string(), "50%");
    }

    #[test]
    fn the_full_matrix_has_every_combination() {
        let cells = Matrix::full().cells();
        assert_eq!(cells.len(), 2 * 2 * 3 * 3 * 3);
        assert_eq!(cells[0].data_mib, 256);
        let m: Matrix = toml::from_str(
            "data_mib = [256]\nthrottle_mib = [16, 64]\nprofiles = [\"fast\"]\ncaps = [\"none\", \"50%\"]\n",
        )
        .unwrap();
        assert_eq!(m.cells().len(), 4);
        assert!(m.cells().iter().all(|c| c.workload == Workload::None));
        let w: Matrix = toml::from_str(
            "data_mib = [256]\nthrottle_mib = [16]\nprofiles = [\"gentle\"]\ncaps = [\"none\"]\nworkloads = [\"randread\", \"fsync\"]\n",
        )
        .unwrap();
        assert_eq!(w.cells().len(), 2);
        assert!(toml::from_str::<Matrix>("data_mib = [1]\nbogus = 1\n").is_err());
        assert!(w.peers.is_empty(), "no peers unless asked");
        let p: Matrix = toml::from_str(
            "data_mib = [256, 1024]\nthrottle_mib = [16]\nprofiles = [\"balanced\"]\ncaps = [\"none\"]\npeers = [\"eager\"]\n",
        )
        .unwrap();
        assert_eq!(p.peers, [crate::peers::Peer::Eager]);
        assert_eq!(p.peer_cells().len(), 2, "one eager cell per data size");
        // zevac's cell at 256 MiB, the eager copy at 256 MiB, then the same at 1 GiB.
        let sizes: Vec<(bool, u64)> = p
            .order()
            .iter()
            .map(|w| match w {
                Work::Zevac(c) => (true, c.data_mib),
                Work::Peer(c) => (false, c.data_mib),
            })
            .collect();
        assert_eq!(
            sizes,
            [(true, 256), (false, 256), (true, 1024), (false, 1024)]
        );
        let full = Matrix::full();
        assert_eq!((full.cells().len(), full.peer_cells().len()), (108, 48));
        assert_eq!(full.order().len(), 156);
        // What a sweep records and --resume reads back is the same matrix.
        let again: Matrix = toml::from_str(&toml::to_string(&full).unwrap()).unwrap();
        assert_eq!(again.cells(), full.cells());
        assert_eq!(again.peer_cells(), full.peer_cells());
    }

    #[test]
    fn repeats_make_one_cell_per_boot_and_read_back() {
        let text = "data_mib = [1024]\nthrottle_mib = [16, 64]\nprofiles = [\"gentle\"]\n\
                    caps = [\"profile\"]\nworkloads = [\"randread\"]\nrepeats = 3\n";
        let m: Matrix = toml::from_str(text).unwrap();
        let cells = m.cells();
        assert_eq!(cells.len(), 6);
        assert_eq!(
            cells.iter().map(|c| c.repeat).collect::<Vec<_>>(),
            [0, 1, 2, 0, 1, 2]
        );
        assert!(cells[0].same_settings(&cells[2]) && !cells[0].same_settings(&cells[3]));
        let again: Matrix = toml::from_str(&toml::to_string(&m).unwrap()).unwrap();
        assert_eq!(again.cells(), cells);
        // A result of an earlier sweep has no repeat field: it is boot 0.
        let old: Cell = serde_json::from_str(
            r#"{"data_mib":256,"throttle_mib":16,"profile":"gentle","cap":"none","workload":"none"}"#,
        )
        .unwrap();
        assert_eq!(old.repeat, 0);
    }

    #[test]
    fn a_cell_config_names_its_cap() {
        let cell = |profile: &str, cap| Cell {
            data_mib: 256,
            throttle_mib: 16,
            profile: profile.into(),
            cap,
            workload: Workload::None,
            repeat: 0,
        };
        let c = cell("balanced", CapSpec::OfThrottle(0.25))
            .config(&[])
            .unwrap();
        assert!(c.contains("cap = \"4096 KiB/s\""), "{c}");
        assert!(cell("gentle", CapSpec::None)
            .config(&[])
            .unwrap()
            .contains("cap = \"none\""));
        // The profile's own cap: nothing in the config; gentle's is a share of the origin's
        // rate, known once the watcher measured it (`measure` reads it from its record).
        let g = cell("gentle", CapSpec::Profile);
        assert!(!g.config(&[]).unwrap().contains("cap ="));
        assert_eq!(g.cap_mib().unwrap(), None);
        // Every generated config is one zevac accepts.
        for profile in ["gentle", "balanced", "fast"] {
            for cap in Matrix::full().caps {
                let text = cell(profile, cap)
                    .config(&["/dev/disk/by-id/nvme-x".into()])
                    .unwrap();
                zevac::config::Config::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            }
        }
    }

    /// fio 3.33's JSON, recorded in the lab (sweep boots).
    fn fio_fixture(name: &str) -> String {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/fio-3.33")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn latency_from_recorded_fio_runs() {
        // Reads: the read completion latency.
        let r = Latency::from_fio(&fio_fixture("randread.json")).unwrap();
        assert!((r.iops - 118.517038).abs() < 1e-6, "{r:?}");
        assert!((r.p99_ms - 33.816576).abs() < 1e-9, "{r:?}");
        assert!(r.p50_ms <= r.p99_ms && r.p99_ms <= r.p999_ms);
        // Writes with fdatasync: the fdatasync latency, the write IOPS.
        let w = Latency::from_fio(&fio_fixture("fsync-raw.json")).unwrap();
        assert!((w.iops - 458.316673).abs() < 1e-6, "{w:?}");
        assert!((w.p99_ms - 8.716288).abs() < 1e-9, "{w:?}");
        assert!(Latency::from_fio(&fio_fixture("fsync-pool.json")).is_ok());
        assert!(Latency::from_fio("{}").is_err());
    }

    #[test]
    fn import_time_from_apply_output() {
        let out = "imported pool rpool in 0.78 s\n1. write a GPT\n";
        assert_eq!(import_seconds(out), Some(0.78));
        assert_eq!(import_seconds("nothing to do: ...\n"), None);
    }
}

//! Persistence: `results.json` (read back by later sweeps and reports), `results.csv`, and the
//! files written from them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::measure::fill_from_records;
use super::report::summary;
use crate::cell::CellResult;
use crate::ZfsPair;

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
pub(super) struct CsvRow<'a> {
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

//! `zevac-bench sweep`: the benchmark harness. Each cell of a matrix (pool data size, EBS
//! throttle, profile, cap) boots the golden image from a throttled EBS with two instance stores,
//! runs `zevac apply` as the initrd would and `zevac watch` after it, and measures what users
//! choose a profile by: how long the boot is held, how fast the copy runs against the throttle
//! and the cap. The disks are emulated, so the harness reports ratios; absolute seconds are the
//! lab's, not EC2's.

mod matrix;
mod measure;
mod report;
mod results;
#[cfg(test)]
mod tests;

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::Lab;

pub use crate::cell::{CapSpec, Cell, CellResult, Latency, Workload, FIO_SECONDS};
pub use matrix::{Matrix, Work};
pub use measure::run_cell;
pub(crate) use measure::status_report;
pub use report::{goals, machine, summary, Goal};
pub use results::{load, write_results};

const MIB: f64 = 1_048_576.0;

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
        "  boot held {:.1} s (import {}) + root mount {:.1} s,{} copy {:.1} s after boot at {:.2} MiB/s = {:.2} of the throttle{}{}{}",
        r.boot_blocking_seconds,
        r.import_seconds.map_or("?".into(), |s| format!("{s:.2} s")),
        r.root_mount_seconds,
        r.copy_waited_seconds.map_or(String::new(), |w| format!(" the copy waited {w:.1} s for the watcher,")),
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

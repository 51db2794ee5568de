//! The peers zevac is compared with, in the same lab as the sweep's cells. So far the eager
//! copy: before the root is mounted, the whole pool goes from EBS onto a new pool on the
//! instance stores (`zfs send -R | zfs recv`), and the boot waits for it. What it costs the
//! boot, against data size, is what zevac exists to avoid.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::events::Events;
use crate::sweep::CellResult;
use crate::{golden, BootSpec, Lab, Throttle, ZfsPair};

const MIB: f64 = 1048576.0;

/// A peer of the matrix (`peers = ["eager"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Peer {
    /// `zfs send | zfs recv` onto the instance stores before the root is mounted.
    Eager,
}

/// What one peer cell measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerResult {
    pub peer: Peer,
    pub zfs: String,
    pub data_mib: u64,
    pub throttle_mib: u64,
    /// From the import on EBS to the copy's pool ready: what the boot waits for.
    pub boot_blocking_seconds: f64,
    /// Of which the copy (`zfs send | zfs recv`).
    pub copy_seconds: f64,
    /// Mounting the root's four file systems from the copy afterwards.
    pub root_mount_seconds: f64,
    /// Bytes read from the EBS disk during the copy, and their rate.
    pub ebs_read_bytes: u64,
    pub rate_mib_per_second: f64,
    pub rate_to_throttle: f64,
    pub manifest_ok: bool,
    pub run_dir: PathBuf,
}

/// Runs the eager copy for `data_mib` behind an EBS throttled to `throttle_mib`.
pub fn run_eager(lab: &Lab, data_mib: u64, throttle_mib: u64) -> Result<PeerResult> {
    let g = golden::golden(lab, data_mib)?;
    let run = lab.new_run(&format!("peer-eager-{data_mib}mib-{throttle_mib}mibps"))?;
    let disks = run.ec2_disks(
        &g,
        Some(Throttle::mib_per_second(throttle_mib)),
        2,
        (data_mib * 3 / 2).max(1024),
    )?;
    let spec = BootSpec::new("eager", disks, include_str!("../guest/peer-eager.sh"))
        .file("/lab/manifest.sha256", g.manifest.clone());
    let outcome = lab.run(&run, &spec)?;
    let result = measure_eager(lab.pair, data_mib, throttle_mib, &outcome.events, &run.dir)?;
    if result.manifest_ok {
        run.remove_images()?;
    }
    Ok(result)
}

fn measure_eager(
    pair: ZfsPair,
    data_mib: u64,
    throttle_mib: u64,
    ev: &Events,
    run_dir: &Path,
) -> Result<PeerResult> {
    for step in ["import", "snapshot", "create", "copy", "export"] {
        let c = ev.cmd(step)?;
        if c.rc != 0 {
            bail!(
                "the eager copy's {step} failed (exit {}): {}",
                c.rc,
                c.stderr
            );
        }
    }
    let counter = |name: &str| -> Result<u64> {
        let out = ev.cmd(name)?.stdout;
        out.trim()
            .parse()
            .with_context(|| format!("{name}: {out:?}"))
    };
    let copy = ev.cmd("copy")?;
    let ebs_read = counter("ebs_read_after")?.saturating_sub(counter("ebs_read_before")?);
    let rate = ebs_read as f64 / copy.seconds() / MIB;
    Ok(PeerResult {
        peer: Peer::Eager,
        zfs: pair.pins().zfs_version.to_string(),
        data_mib,
        throttle_mib,
        boot_blocking_seconds: ev.cmd("export")?.end - ev.cmd("import")?.start,
        copy_seconds: copy.seconds(),
        root_mount_seconds: ev.cmd("mount_root")?.seconds(),
        ebs_read_bytes: ebs_read,
        rate_mib_per_second: rate,
        rate_to_throttle: rate / throttle_mib as f64,
        manifest_ok: ev.cmd("verify")?.rc == 0,
        run_dir: run_dir.to_path_buf(),
    })
}

/// Every peer for every data size and throttle of the matrix.
pub fn run_all(
    lab: &Lab,
    peers: &[Peer],
    data_mib: &[u64],
    throttle_mib: &[u64],
) -> Result<Vec<PeerResult>> {
    let mut out = Vec::new();
    for &peer in peers {
        for &d in data_mib {
            for &t in throttle_mib {
                println!("peer {peer:?}: {d} MiB, EBS {t} MiB/s");
                let r = match peer {
                    Peer::Eager => run_eager(lab, d, t)?,
                };
                println!(
                    "  boot held {:.1} s (copy {:.1} s at {:.2} MiB/s = {:.2} of the throttle){}",
                    r.boot_blocking_seconds,
                    r.copy_seconds,
                    r.rate_mib_per_second,
                    r.rate_to_throttle,
                    if r.manifest_ok { "" } else { "; DATA CHANGED" }
                );
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// The mean of `values`, if any.
fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The markdown section comparing boot blocking: zevac's cells against the peers, per data
/// size and throttle, and how each grows from the smallest size to the largest.
pub fn section(peers: &[PeerResult], zevac: &[CellResult]) -> String {
    let mut s = String::from(
        "\n## Boot blocking against the peers\n\nWhat holds the boot, in seconds of the \
         emulated guest: zevac's `apply` plus the root mount under the copy (mean over the \
         sweep's cells of that size and throttle), against the eager copy (`zfs send -R | zfs \
         recv` onto the instance stores before the root is mounted, then the mount).\n\n\
         | data | EBS throttle | zevac | eager copy | eager / zevac |\n|---|---|---|---|---|\n",
    );
    let mut sizes: Vec<(u64, u64)> = peers.iter().map(|p| (p.data_mib, p.throttle_mib)).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let zevac_at = |d: u64, t: u64| {
        mean(
            zevac
                .iter()
                .filter(|r| r.ok() && r.cell.data_mib == d && r.cell.throttle_mib == t)
                .map(|r| r.boot_blocking_seconds + r.root_mount_seconds),
        )
    };
    let eager_at = |d: u64, t: u64| {
        mean(
            peers
                .iter()
                .filter(|p| p.manifest_ok && p.data_mib == d && p.throttle_mib == t)
                .map(|p| p.boot_blocking_seconds + p.root_mount_seconds),
        )
    };
    for &(d, t) in &sizes {
        let (z, e) = (zevac_at(d, t), eager_at(d, t));
        let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1} s"));
        let ratio = z
            .zip(e)
            .map_or("-".into(), |(z, e)| format!("{:.1}x", e / z));
        s.push_str(&format!(
            "| {d} MiB | {t} MiB/s | {} | {} | {ratio} |\n",
            f(z),
            f(e)
        ));
    }
    let throttles: std::collections::BTreeSet<u64> = sizes.iter().map(|&(_, t)| t).collect();
    for t in throttles {
        let at_t: Vec<u64> = sizes
            .iter()
            .filter(|&&(_, x)| x == t)
            .map(|&(d, _)| d)
            .collect();
        if let (Some(&lo), Some(&hi)) = (at_t.first(), at_t.last()) {
            if hi > lo {
                let growth = |at: &dyn Fn(u64, u64) -> Option<f64>| {
                    at(hi, t)
                        .zip(at(lo, t))
                        .map_or("-".into(), |(h, l)| format!("{:.2}x", h / l))
                };
                s.push_str(&format!(
                    "\nAt EBS {t} MiB/s, from {lo} MiB to {hi} MiB of data, zevac's boot blocking \
                     grows {} (goal: at most 1.2x) and the eager copy's {}.\n",
                    growth(&zevac_at),
                    growth(&eager_at)
                ));
            }
        }
    }
    s
}

/// `peers.json` in `out` (the summary's section and the plot are written with the cells').
pub fn write(peers: &[PeerResult], out: &Path) -> Result<()> {
    std::fs::write(out.join("peers.json"), serde_json::to_string_pretty(peers)?)?;
    Ok(())
}

/// The `peers.json` of earlier sweeps (none where a sweep had no peers).
pub fn load(dirs: &[PathBuf]) -> Result<Vec<PeerResult>> {
    let mut all = Vec::new();
    for d in dirs {
        let path = d.join("peers.json");
        if path.exists() {
            let text = std::fs::read_to_string(&path)?;
            let mut some: Vec<PeerResult> =
                serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
            all.append(&mut some);
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two eager cells of `bench/results/peers/peers.json` (lab, 2026-11-23).
    fn recorded() -> Vec<PeerResult> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/peers/peers.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_section_says_how_the_eager_copy_grows_with_data() {
        let s = section(&recorded(), &[]);
        // 24.92 s + a 0.26 s mount, and 72.14 s + 0.23 s.
        assert!(s.contains("| 256 MiB | 16 MiB/s | - | 25.2 s | - |"), "{s}");
        assert!(
            s.contains("| 1024 MiB | 16 MiB/s | - | 72.4 s | - |"),
            "{s}"
        );
        assert!(s.contains("the eager copy's 2.87x"), "{s}");
    }
}

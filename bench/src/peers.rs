//! The peers zevac is compared with, in the same lab, on the same disks and with the same
//! workloads as the sweep's cells (`bench/guest/peer.sh`):
//! - `ebs`: no zevac, the pool stays on the EBS volume;
//! - `l2arc`: the same, with the instance stores as L2ARC (cache) devices;
//! - `eager`: before the root is mounted, the whole pool goes from EBS onto a new pool on the
//!   instance stores (`zfs send -R | zfs recv`), and the boot waits for it.
//!
//! What each costs the boot, against data size, and how fast the foreground runs right after the
//! boot and later, is what zevac is judged against.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::apply_log::{self, Part};
use crate::cell::{CellResult, Latency, Workload, FIO_SECONDS};
use crate::events::Events;
use crate::{golden, BootSpec, Lab, Throttle, Versions};

const MIB: f64 = 1048576.0;

/// A peer of the matrix (`peers = ["ebs", "l2arc", "eager"]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Peer {
    /// The pool on EBS alone: what the machine does without zevac.
    Ebs,
    /// The pool on EBS with both instance stores as L2ARC devices.
    L2arc,
    /// `zfs send | zfs recv` onto the instance stores before the root is mounted.
    Eager,
    /// dm-cache (what lvmcache sets up) in writeback mode: EBS as the origin, an instance
    /// store as the cache; ZFS on top.
    Lvmcache,
}

impl Peer {
    /// Its name in the guest script and the matrix.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Ebs => "ebs",
            Peer::L2arc => "l2arc",
            Peer::Eager => "eager",
            Peer::Lvmcache => "lvmcache",
        }
    }

    /// How the summary and the plots call it.
    pub fn title(self) -> &'static str {
        match self {
            Peer::Ebs => "EBS alone",
            Peer::L2arc => "L2ARC on the instance stores",
            Peer::Eager => "eager copy",
            Peer::Lvmcache => "dm-cache (lvmcache)",
        }
    }
}

/// One peer cell: a peer at a data size, throttle and workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerCell {
    pub peer: Peer,
    pub data_mib: u64,
    pub throttle_mib: u64,
    pub workload: Workload,
}

impl PeerCell {
    /// How long the workload keeps running between its `first` and `later` runs: as long as
    /// zevac's copy takes at the full throttle (20 s at least), so an L2ARC has the same time
    /// to fill as zevac has to copy.
    pub fn warm_seconds(&self) -> u64 {
        (self.data_mib / self.throttle_mib.max(1)).max(20)
    }

    pub fn label(&self) -> String {
        format!(
            "peer {}: {} MiB, EBS {} MiB/s, workload {}",
            self.peer.name(),
            self.data_mib,
            self.throttle_mib,
            self.workload
        )
    }
}

/// What one peer cell measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerResult {
    pub peer: Peer,
    pub zfs: String,
    /// The Debian versions the cell ran on (not recorded before the lab resolved them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<Versions>,
    pub data_mib: u64,
    pub throttle_mib: u64,
    #[serde(default = "no_workload")]
    pub workload: Workload,
    /// From the import on EBS to the pool ready to mount: what the boot waits for.
    pub boot_blocking_seconds: f64,
    /// Of which the import.
    #[serde(default)]
    pub import_seconds: Option<f64>,
    /// The eager copy (`zfs send | zfs recv`).
    pub copy_seconds: Option<f64>,
    /// Mounting the root's four file systems afterwards.
    pub root_mount_seconds: f64,
    /// The eager copy: bytes read from the EBS disk during it, and their rate.
    pub ebs_read_bytes: Option<u64>,
    pub rate_mib_per_second: Option<f64>,
    pub rate_to_throttle: Option<f64>,
    /// The workload right after the root is mounted, and again after `warm_seconds` more of it.
    #[serde(default)]
    pub first: Option<Latency>,
    #[serde(default)]
    pub later: Option<Latency>,
    #[serde(default)]
    pub warm_seconds: Option<u64>,
    /// fsync: the same job on a raw instance store, and `later` IOPS over it.
    #[serde(default)]
    pub raw: Option<Latency>,
    #[serde(default)]
    pub fsync_iops_to_raw: Option<f64>,
    /// The ARC's size limit.
    #[serde(default)]
    pub arc_max_bytes: Option<u64>,
    /// The L2ARC's or dm-cache's: what it held at the end, and its hit ratio over reads.
    #[serde(default, alias = "l2arc_bytes")]
    pub cache_bytes: Option<u64>,
    #[serde(default, alias = "l2arc_hit_ratio")]
    pub cache_hit_ratio: Option<f64>,
    /// dm-cache: the written blocks it held that EBS had not had yet.
    #[serde(default)]
    pub cache_dirty_bytes: Option<u64>,
    pub manifest_ok: bool,
    pub run_dir: PathBuf,
}

fn no_workload() -> Workload {
    Workload::None
}

impl PeerResult {
    pub fn cell(&self) -> PeerCell {
        PeerCell {
            peer: self.peer,
            data_mib: self.data_mib,
            throttle_mib: self.throttle_mib,
            workload: self.workload,
        }
    }

    /// What holds the boot: the peer's step and the root mount.
    pub fn boot_held_seconds(&self) -> f64 {
        self.boot_blocking_seconds + self.root_mount_seconds
    }
}

/// Runs one peer cell.
pub fn run_peer(lab: &Lab, cell: &PeerCell) -> Result<PeerResult> {
    let g = golden::golden(lab, cell.data_mib)?;
    let run = lab.new_run(&format!(
        "peer-{}-{}mib-{}mibps-{}",
        cell.peer.name(),
        cell.data_mib,
        cell.throttle_mib,
        cell.workload
    ))?;
    let mut disks = run.ec2_disks(
        &g,
        Some(Throttle::mib_per_second(cell.throttle_mib)),
        2,
        (cell.data_mib * 3 / 2).max(1024),
    )?;
    if cell.workload == Workload::Fsync {
        disks.push(crate::cell::raw_disk(&run)?);
    }
    let env = format!(
        "PEER={}\nWORKLOAD={}\nFIO_SECONDS={FIO_SECONDS}\nWARM_SECONDS={}\n",
        cell.peer.name(),
        cell.workload,
        cell.warm_seconds()
    );
    let mut spec = BootSpec::new("peer", disks, include_str!("../guest/peer.sh"))
        .file(crate::golden::MANIFEST, g.manifest.clone())
        .file("/lab/sweep.env", env)
        .file("/lab/workload.sh", include_str!("../guest/workload.sh"));
    if cell.workload != Workload::None {
        spec = crate::cell::with_fio(spec)?;
    }
    let outcome = lab.run(&run, &spec)?;
    let result = measure(&lab.versions(), cell, &outcome.events, &run.dir)?;
    if result.manifest_ok {
        run.remove_images()?;
    }
    Ok(result)
}

fn measure(
    versions: &Versions,
    cell: &PeerCell,
    ev: &Events,
    run_dir: &Path,
) -> Result<PeerResult> {
    if let Some(reason) = ev.failure() {
        bail!("the {} peer failed: {reason}", cell.peer.name());
    }
    let import = ev.cmd("import")?;
    // The boot starts with the dm-cache's set-up, if any, or else with the import.
    let start = match ev.find("mark", Some("cache_ready")) {
        Ok(m) => m.number("started")?,
        Err(_) => import.start,
    };
    let ready = ev.find("mark", Some("ready"))?.number("uptime")?;
    let (copy_seconds, ebs_read_bytes) = match cell.peer {
        Peer::Eager => {
            let copy = ev.cmd("copy")?;
            let read = ev
                .cmd_number("ebs_read_after")?
                .saturating_sub(ev.cmd_number("ebs_read_before")?);
            (Some(copy.seconds()), Some(read))
        }
        _ => (None, None),
    };
    let rate = copy_seconds
        .zip(ebs_read_bytes)
        .map(|(s, b)| b as f64 / s / MIB);
    let fio = |phase: &str| crate::cell::fio_phase(ev, phase);
    let (first, later, raw) = (fio("first")?, fio("later")?, fio("raw")?);
    let arc = arcstats(&ev.cmd("arcstats")?.stdout);
    let (cache_bytes, cache_hit_ratio, cache_dirty_bytes) = cache_numbers(cell.peer, &arc, ev)?;
    Ok(PeerResult {
        peer: cell.peer,
        zfs: versions.zfs.clone(),
        versions: Some(versions.clone()),
        data_mib: cell.data_mib,
        throttle_mib: cell.throttle_mib,
        workload: cell.workload,
        boot_blocking_seconds: ready - start,
        import_seconds: Some(import.seconds()),
        copy_seconds,
        root_mount_seconds: ev.cmd("mount_root")?.seconds(),
        ebs_read_bytes,
        rate_mib_per_second: rate,
        rate_to_throttle: rate.map(|r| r / cell.throttle_mib as f64),
        first,
        later,
        warm_seconds: (cell.workload != Workload::None).then(|| cell.warm_seconds()),
        fsync_iops_to_raw: later.zip(raw).map(|(l, r)| l.iops / r.iops),
        raw,
        arc_max_bytes: arc.get("c_max").copied(),
        cache_bytes,
        cache_hit_ratio,
        cache_dirty_bytes,
        manifest_ok: ev.cmd("verify")?.rc == 0,
        run_dir: run_dir.to_path_buf(),
    })
}

/// The cache's size, read hit ratio and dirty bytes: the L2ARC's from the ARC's counters, the
/// dm-cache's from its status; none for the other peers.
fn cache_numbers(
    peer: Peer,
    arc: &BTreeMap<String, u64>,
    ev: &Events,
) -> Result<(Option<u64>, Option<f64>, Option<u64>)> {
    let l2 = |k: &str| arc.get(k).copied();
    let ratio = |h: u64, m: u64| (h + m > 0).then(|| h as f64 / (h + m) as f64);
    Ok(match peer {
        Peer::L2arc => (
            l2("l2_size"),
            l2("l2_hits")
                .zip(l2("l2_misses"))
                .and_then(|(h, m)| ratio(h, m)),
            None,
        ),
        Peer::Lvmcache => {
            let out = ev.cmd("cache_status")?.stdout;
            let st = DmCacheStatus::parse(&out)
                .with_context(|| format!("dmsetup status of the dm-cache: {out:?}"))?;
            (
                Some(st.used_blocks * st.block_bytes),
                ratio(st.read_hits, st.read_misses),
                Some(st.dirty_blocks * st.block_bytes),
            )
        }
        _ => (None, None, None),
    })
}

/// `/proc/spl/kstat/zfs/arcstats`: `name type data` rows after two header lines.
fn arcstats(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (name, _type, value) = (it.next()?, it.next()?, it.next()?);
            Some((name.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The counters of a dm-cache's `dmsetup status` line the bench reads (the kernel's
/// `Documentation/admin-guide/device-mapper/cache.rst`): `<start> <len> cache <metadata block
/// size> <used>/<total metadata blocks> <cache block size> <used>/<total cache blocks> <read
/// hits> <read misses> <write hits> <write misses> <demotions> <promotions> <dirty> ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DmCacheStatus {
    block_bytes: u64,
    used_blocks: u64,
    read_hits: u64,
    read_misses: u64,
    dirty_blocks: u64,
}

impl DmCacheStatus {
    fn parse(line: &str) -> Option<Self> {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(2) != Some(&"cache") {
            return None;
        }
        let n = |i: usize| f.get(i)?.parse::<u64>().ok();
        let used = |i: usize| f.get(i)?.split('/').next()?.parse::<u64>().ok();
        Some(Self {
            block_bytes: n(5)? * 512,
            used_blocks: used(6)?,
            read_hits: n(7)?,
            read_misses: n(8)?,
            dirty_blocks: n(13)?,
        })
    }
}

/// Prints what a peer cell measured, on one line.
pub fn print(r: &PeerResult) {
    let mut line = format!(
        "  boot held {:.1} s (import {}) + root mount {:.1} s",
        r.boot_blocking_seconds,
        r.import_seconds.map_or("?".into(), |s| format!("{s:.2} s")),
        r.root_mount_seconds
    );
    if let (Some(c), Some(rate), Some(x)) =
        (r.copy_seconds, r.rate_mib_per_second, r.rate_to_throttle)
    {
        line.push_str(&format!(
            ", copy {c:.1} s at {rate:.2} MiB/s = {x:.2} of the throttle"
        ));
    }
    if let (Some(f), Some(l)) = (r.first, r.later) {
        line.push_str(&format!(
            ", p99 {:.2} ms first, {:.2} ms after {} s ({:.0} IOPS)",
            f.p99_ms,
            l.p99_ms,
            r.warm_seconds.unwrap_or(0),
            l.iops
        ));
    }
    if let Some(b) = r.cache_bytes {
        line.push_str(&format!(", cache {:.0} MiB", b as f64 / MIB));
    }
    if let Some(h) = r.cache_hit_ratio {
        line.push_str(&format!(" ({:.0} % of reads hit)", h * 100.0));
    }
    if !r.manifest_ok {
        line.push_str("; DATA CHANGED");
    }
    println!("{line}");
}

/// The mean of `values`, if any.
fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The markdown sections comparing zevac with its peers: what holds the boot, per data size and
/// throttle, and how each grows from the smallest size to the largest; then the foreground
/// workloads right after the boot and later.
pub fn section(peers: &[PeerResult], zevac: &[CellResult]) -> String {
    let t = BootTable::new(peers, zevac);
    let mut s = String::from(
        "\n## Boot blocking against the peers\n\nWhat holds the boot, in seconds of the \
         emulated guest, from the import to the root mounted: zevac's `apply` plus the root \
         mount after it, under the copy unless the watcher starts it (mean over the sweep's cells of that size and throttle), against \
         each peer (mean over its workloads).\n\n",
    );
    s.push_str(&t.header());
    for &(d, th) in &t.sizes {
        s.push_str(&t.row(d, th));
    }
    let throttles: std::collections::BTreeSet<u64> = t.sizes.iter().map(|&(_, th)| th).collect();
    for th in throttles {
        s.push_str(&t.growth(th));
    }
    s.push_str(&t.breakdown());
    s.push_str(&foreground_section(peers, zevac));
    s
}

/// Boot blocking by data size and throttle: zevac's cells against each kind of peer.
struct BootTable<'a> {
    peers: &'a [PeerResult],
    zevac: &'a [CellResult],
    kinds: Vec<Peer>,
    /// (data MiB, throttle MiB/s), in order.
    sizes: Vec<(u64, u64)>,
}

fn secs(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1} s"))
}

impl<'a> BootTable<'a> {
    fn new(peers: &'a [PeerResult], zevac: &'a [CellResult]) -> Self {
        let mut kinds: Vec<Peer> = peers.iter().map(|p| p.peer).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let mut sizes: Vec<(u64, u64)> =
            peers.iter().map(|p| (p.data_mib, p.throttle_mib)).collect();
        sizes.sort_unstable();
        sizes.dedup();
        Self {
            peers,
            zevac,
            kinds,
            sizes,
        }
    }

    fn zevac_at(&self, d: u64, t: u64) -> Option<f64> {
        mean(
            self.zevac
                .iter()
                .filter(|r| r.ok() && r.cell.data_mib == d && r.cell.throttle_mib == t)
                .map(|r| r.boot_blocking_seconds + r.root_mount_seconds),
        )
    }

    fn peer_at(&self, k: Peer, d: u64, t: u64) -> Option<f64> {
        mean(
            self.peers
                .iter()
                .filter(|p| p.manifest_ok && p.peer == k && p.data_mib == d && p.throttle_mib == t)
                .map(PeerResult::boot_held_seconds),
        )
    }

    fn has_eager(&self) -> bool {
        self.kinds.contains(&Peer::Eager)
    }

    fn has_ebs(&self) -> bool {
        self.kinds.contains(&Peer::Ebs)
    }

    /// zevac's boot blocking over EBS alone's at a size and throttle (goal: at most 1.3x).
    fn to_ebs(&self, d: u64, t: u64) -> Option<f64> {
        self.zevac_at(d, t)
            .zip(self.peer_at(Peer::Ebs, d, t))
            .map(|(z, e)| z / e)
    }

    fn header(&self) -> String {
        let mut s = String::from("| data | EBS throttle | zevac |");
        for k in &self.kinds {
            s.push_str(&format!(" {} |", k.title()));
        }
        if self.has_eager() {
            s.push_str(" eager / zevac |");
        }
        if self.has_ebs() {
            s.push_str(" zevac / EBS alone |");
        }
        s.push('\n');
        let ratios = usize::from(self.has_eager()) + usize::from(self.has_ebs());
        s.push_str(&"|---".repeat(3 + self.kinds.len() + ratios));
        s.push_str("|\n");
        s
    }

    fn row(&self, d: u64, t: u64) -> String {
        let mut s = format!("| {d} MiB | {t} MiB/s | {} |", secs(self.zevac_at(d, t)));
        for &k in &self.kinds {
            s.push_str(&format!(" {} |", secs(self.peer_at(k, d, t))));
        }
        if self.has_eager() {
            let ratio = self
                .zevac_at(d, t)
                .zip(self.peer_at(Peer::Eager, d, t))
                .map_or("-".into(), |(z, e)| format!("{:.1}x", e / z));
            s.push_str(&format!(" {ratio} |"));
        }
        if self.has_ebs() {
            let ratio = self.to_ebs(d, t).map_or("-".into(), |r| format!("{r:.1}x"));
            s.push_str(&format!(" {ratio} |"));
        }
        s.push('\n');
        s
    }

    /// Where zevac's boot blocking goes, by part of `apply` (from its log; cells that recorded
    /// it), against EBS alone.
    fn breakdown(&self) -> String {
        let logged: Vec<&CellResult> = self
            .zevac
            .iter()
            .filter(|r| r.ok() && r.apply_commands.is_some())
            .collect();
        if logged.is_empty() {
            return String::new();
        }
        let parts: Vec<Part> = Part::ALL
            .into_iter()
            .filter(|p| logged.iter().any(|r| part_seconds(r, *p) > 0.0))
            .collect();
        let mut s = String::from(
            "\n### Where zevac holds the boot\n\nMean seconds per cell: each part of `apply` \
             (its commands' times, from its log), what its commands do not account for, the \
             root mount after it, and the sum against EBS alone (goal: at most 1.3x).\n\n\
             | data | EBS throttle |",
        );
        for p in &parts {
            s.push_str(&format!(" {p} |"));
        }
        s.push_str(" zevac itself | apply | root mount | held | EBS alone | held / EBS alone |\n");
        s.push_str(&"|---".repeat(parts.len() + 8));
        s.push_str("|\n");
        for &(d, t) in &self.sizes {
            s.push_str(&breakdown_row(
                &logged,
                &parts,
                d,
                t,
                self.peer_at(Peer::Ebs, d, t),
            ));
        }
        s
    }

    /// At throttle `t`, how boot blocking grows from the smallest data size to the largest.
    fn growth(&self, t: u64) -> String {
        let at_t: Vec<u64> = self
            .sizes
            .iter()
            .filter(|&&(_, x)| x == t)
            .map(|&(d, _)| d)
            .collect();
        let (Some(&lo), Some(&hi)) = (at_t.first(), at_t.last()) else {
            return String::new();
        };
        if hi <= lo {
            return String::new();
        }
        let growth = |h: Option<f64>, l: Option<f64>| {
            h.zip(l)
                .map_or("-".into(), |(h, l)| format!("{:.2}x", h / l))
        };
        let mut line = format!(
            "\nAt EBS {t} MiB/s, from {lo} MiB to {hi} MiB of data, zevac's boot blocking \
             grows {} (goal: at most 1.2x)",
            growth(self.zevac_at(hi, t), self.zevac_at(lo, t))
        );
        for &k in &self.kinds {
            line.push_str(&format!(
                ", {}'s {}",
                k.title(),
                growth(self.peer_at(k, hi, t), self.peer_at(k, lo, t))
            ));
        }
        line.push_str(".\n");
        line
    }
}

/// Seconds of one part of `apply` in one cell.
fn part_seconds(r: &CellResult, part: Part) -> f64 {
    r.apply_commands
        .as_deref()
        .and_then(|c| apply_log::by_part(c).get(&part).copied())
        .unwrap_or(0.0)
}

/// One size and throttle of [`BootTable::breakdown`].
fn breakdown_row(
    logged: &[&CellResult],
    parts: &[Part],
    d: u64,
    t: u64,
    ebs: Option<f64>,
) -> String {
    let cells: Vec<&CellResult> = logged
        .iter()
        .copied()
        .filter(|r| r.cell.data_mib == d && r.cell.throttle_mib == t)
        .collect();
    if cells.is_empty() {
        return String::new();
    }
    let avg = |f: &dyn Fn(&CellResult) -> f64| mean(cells.iter().map(|r| f(r)));
    let num = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
    let mut s = format!("| {d} MiB | {t} MiB/s |");
    for &p in parts {
        s.push_str(&format!(" {} |", num(avg(&|r| part_seconds(r, p)))));
    }
    let logged = |r: &CellResult| {
        r.apply_commands
            .as_deref()
            .map_or(0.0, apply_log::logged_seconds)
    };
    let held = avg(&|r| r.boot_blocking_seconds + r.root_mount_seconds);
    s.push_str(&format!(
        " {} | {} | {} | {} | {} | {} |\n",
        num(avg(&|r| r.boot_blocking_seconds - logged(r))),
        num(avg(&|r| r.boot_blocking_seconds)),
        num(avg(&|r| r.root_mount_seconds)),
        num(held),
        num(ebs),
        held.zip(ebs)
            .map_or("-".into(), |(h, e)| format!("{:.1}x", h / e)),
    ));
    s
}

/// The foreground workloads: each peer right after its boot and `warm_seconds` later, against
/// zevac's default (`balanced`, no cap) during the copy and after it.
fn foreground_section(peers: &[PeerResult], zevac: &[CellResult]) -> String {
    let with_io: Vec<&PeerResult> = peers
        .iter()
        .filter(|p| p.manifest_ok && p.first.is_some())
        .collect();
    if with_io.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n## Foreground I/O against the peers\n\nfio's p99 (ms) and IOPS right after the \
         boot and later: for a peer, its first run and one after the workload kept going as \
         long as zevac's copy takes at the full throttle (the L2ARC fills meanwhile); for \
         zevac (`balanced`, no cap), during the copy and after the verified end. fsync: IOPS \
         later / the same job on a raw instance store.\n\n\
         | data | EBS throttle | workload | setup | right after boot: p99 | IOPS | later: p99 | IOPS | fsync / raw |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let mut keys: Vec<(u64, u64, Workload)> = with_io
        .iter()
        .map(|p| (p.data_mib, p.throttle_mib, p.workload))
        .collect();
    keys.sort_unstable_by_key(|&(d, t, w)| (d, t, w.name()));
    keys.dedup();
    let ms = |l: Option<Latency>| l.map_or("-".into(), |l| format!("{:.2}", l.p99_ms));
    let iops = |l: Option<Latency>| l.map_or("-".into(), |l| format!("{:.0}", l.iops));
    let ratio = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.2}"));
    for (d, t, w) in keys {
        // (setup, right after boot, later, fsync IOPS later / raw)
        type Row = (String, Option<Latency>, Option<Latency>, Option<f64>);
        let mut rows: Vec<Row> = with_io
            .iter()
            .filter(|p| (p.data_mib, p.throttle_mib, p.workload) == (d, t, w))
            .map(|p| {
                (
                    p.peer.title().to_string(),
                    p.first,
                    p.later,
                    p.fsync_iops_to_raw,
                )
            })
            .collect();
        rows.extend(
            zevac
                .iter()
                .filter(|r| {
                    r.ok()
                        && (r.cell.data_mib, r.cell.throttle_mib, r.cell.workload) == (d, t, w)
                        && r.cell.profile == "balanced"
                        && r.cap_mib_per_second.is_none()
                })
                .map(|r| ("zevac".to_string(), r.during, r.after, r.fsync_iops_to_raw)),
        );
        for (name, first, later, to_raw) in rows {
            s.push_str(&format!(
                "| {d} MiB | {t} MiB/s | {w} | {name} | {} | {} | {} | {} | {} |\n",
                ms(first),
                iops(first),
                ms(later),
                iops(later),
                ratio(to_raw)
            ));
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

    /// The two eager cells of `bench/results/peers/peers.json` (lab, 2026-11-23), written
    /// before peers had workloads: they still load.
    fn recorded() -> Vec<PeerResult> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/peers/peers.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_breakdown_parts_apply_by_its_log_against_ebs_alone() {
        let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/full");
        let peers = load(std::slice::from_ref(&full)).unwrap();
        let mut cells = crate::sweep::load(std::slice::from_ref(&full)).unwrap();
        assert!(
            !section(&peers, &cells).contains("Where zevac holds the boot"),
            "no cell logged its commands"
        );
        // One cell with the demo's recorded log (lab, OpenZFS 2.3.2).
        let log = include_str!("../fixtures/zfs-2.3.2/demo-apply-stderr.log");
        let cell = cells
            .iter_mut()
            .find(|r| r.ok() && r.cell.data_mib == 256 && r.cell.throttle_mib == 16)
            .unwrap();
        cell.apply_commands = Some(crate::apply_log::commands(log));
        let (apply, mount) = (cell.boot_blocking_seconds, cell.root_mount_seconds);
        let text = section(&peers, &cells);
        let after = text.split("### Where zevac holds the boot").nth(1).unwrap();
        let table: String = after
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(table.contains("| discover | probe import | export | import | inspect | devices | add | remove | zevac itself |"), "{table}");
        let ebs = BootTable::new(&peers, &cells)
            .peer_at(Peer::Ebs, 256, 16)
            .unwrap();
        let row = "| 256 MiB | 16 MiB/s | 0.14 | 0.80 | 0.09 | 1.28 |";
        let line = table.lines().find(|l| l.starts_with(row)).unwrap();
        assert!(
            line.ends_with(&format!(
                "| {apply:.2} | {mount:.2} | {:.2} | {ebs:.2} | {:.1}x |",
                apply + mount,
                (apply + mount) / ebs
            )),
            "{line}"
        );
        assert_eq!(
            table.lines().count(),
            3,
            "a row only where a cell logged: {table}"
        );
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
        assert!(s.contains("eager copy's 2.87x"), "{s}");
    }

    #[test]
    fn warm_time_is_zevacs_copy_at_the_full_throttle_and_at_least_20_s() {
        let cell = |data_mib, throttle_mib| PeerCell {
            peer: Peer::L2arc,
            data_mib,
            throttle_mib,
            workload: Workload::Randread,
        };
        assert_eq!(cell(1024, 16).warm_seconds(), 64);
        assert_eq!(cell(256, 16).warm_seconds(), 20);
        assert_eq!(cell(256, 64).warm_seconds(), 20);
    }

    #[test]
    fn arcstats_are_read_by_name() {
        // The first lines of /proc/spl/kstat/zfs/arcstats, OpenZFS 2.3.2 in the lab.
        let text = "9 1 0x01 147 39984 6412066170 231497541358\n\
                    name                            type data\n\
                    hits                            4    41785\n\
                    c_max                           4    67108864\n\
                    l2_size                         4    0\n";
        let a = arcstats(text);
        assert_eq!(a.get("c_max"), Some(&67108864));
        assert_eq!(a.get("l2_size"), Some(&0));
        assert_eq!(a.get("name"), None);
    }

    #[test]
    fn a_dm_cache_status_gives_its_blocks_hits_and_dirty_blocks() {
        // `dmsetup status` of the lvmcache peer after random reads (kernel 6.12, in the lab).
        let line = include_str!("../fixtures/linux-6.12/dm-cache-status.txt");
        let st = DmCacheStatus::parse(line).unwrap();
        assert_eq!(
            st,
            DmCacheStatus {
                block_bytes: 128 * 512,
                used_blocks: 1864,
                read_hits: 4246,
                read_misses: 6123,
                dirty_blocks: 24,
            }
        );
        assert_eq!(
            DmCacheStatus::parse("0 2097152 snapshot 16/524288 16"),
            None
        );
        assert_eq!(DmCacheStatus::parse(""), None);
    }
}

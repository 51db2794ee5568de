//! The report: the goals judged on the cells that measure them, and `summary.md`.

use crate::cell::{CapSpec, Cell, CellResult, Latency, Workload, FIO_SECONDS};
use crate::ZfsPair;

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
    let fast: Vec<f64> = ok
        .iter()
        .filter(|r| r.cell.profile == "fast" && r.cap_mib_per_second.is_none())
        .map(|r| r.rate_to_throttle)
        .collect();
    let fsync: Vec<f64> = ok.iter().filter_map(|r| r.fsync_iops_to_raw).collect();
    vec![
        goal(
            "boot blocking flat in data size",
            "at most 1.2x",
            boot_blocking_flat(&ok),
        ),
        goal(
            "copy rate / throttle with `fast`, no cap",
            "at least 0.95",
            lowest_at_least(&fast, 0.95),
        ),
        cap_alone(&ok),
        cap_with_foreground(&ok),
        gentle_p99(&ok),
        goal(
            "fsync IOPS after the copy / raw instance store",
            "at least 0.8",
            lowest_at_least(&fsync, 0.8),
        ),
    ]
}

/// The cells where a cap binds, with or without a foreground, and how many more ended before the
/// watcher came. Only caps below the throttle bind: a 40 MiB/s cap on a 16 MiB/s volume says
/// nothing. And only where the copy outlasted the initrd: the cap is the watcher's, in stage 2,
/// and a copy whose last read came before the watcher did ran uncapped throughout.
fn binding<'a>(ok: &[&'a CellResult], foreground: bool) -> (Vec<&'a CellResult>, usize) {
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
}

fn unheld_note(n: usize) -> String {
    if n > 0 {
        format!(" ({n} more ended before the watcher came)")
    } else {
        String::new()
    }
}

/// The copy alone: all of EBS's reads are the copy's, and the cap holds them at its rate.
fn cap_alone(ok: &[&CellResult]) -> Goal {
    let (alone, unheld) = binding(ok, false);
    let accuracy: Vec<f64> = alone.iter().filter_map(|r| r.cap_accuracy).collect();
    goal(
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
    )
}

/// With a foreground, the cap counts its reads too, so the copy yields to it: the copy's own
/// rate is the cap at most, and below it by the foreground's share. A foreground faster than the
/// cap on its own overruns it whatever the copy does; the EBS reads over the cap are shown beside.
fn cap_with_foreground(ok: &[&CellResult]) -> Goal {
    let (busy, unheld) = binding(ok, true);
    let copy: Vec<f64> = busy.iter().filter_map(|r| r.copy_rate_to_cap()).collect();
    let all_reads: Vec<f64> = busy.iter().filter_map(|r| r.cap_accuracy).collect();
    goal(
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
    )
}

/// gentle's random-read p99 during the copy against before it.
pub(super) fn gentle_p99(ok: &[&CellResult]) -> Goal {
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
pub(super) fn spread(cells: &[&CellResult], f: impl Fn(&CellResult) -> Option<f64>) -> String {
    let v: Vec<f64> = cells.iter().filter_map(|r| f(r)).collect();
    if v.is_empty() {
        return "-".into();
    }
    let (lo, hi) = min_max(&v);
    format!("{lo:.2} to {hi:.2} ({})", v.len())
}

/// The spread of each cell that ran more than once, for claims that rest on repeats.
pub(super) fn repeats_section(results: &[CellResult]) -> String {
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
pub(super) const MIN_OVERLAP: f64 = 0.5;

/// Boot blocking flat in data size: each cell at the largest size against the cell of the
/// smallest size with the same throttle, profile, cap and workload; judged on the worst pair.
pub(super) fn boot_blocking_flat(ok: &[&CellResult]) -> Option<(String, bool)> {
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
pub(super) fn lowest_at_least(values: &[f64], floor: f64) -> Option<(String, bool)> {
    let worst = values.iter().cloned().reduce(f64::min)?;
    Some((
        format!("worst {worst:.2} over {} cells", values.len()),
        worst >= floor,
    ))
}

pub(super) fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// The highest of `values` (ratios) against a ceiling.
pub(super) fn highest_at_most(values: &[f64], ceiling: f64) -> Option<(String, bool)> {
    let worst = values.iter().cloned().reduce(f64::max)?;
    Some((
        format!("worst {worst:.2}x over {} cells", values.len()),
        worst <= ceiling,
    ))
}

pub(super) fn goal(name: &'static str, target: &'static str, m: Option<(String, bool)>) -> Goal {
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
pub(super) fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen: Vec<String> = vec![];
    for v in values {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen
}

/// The hosts the cells ran on, each once.
pub(super) fn machines_line(results: &[CellResult]) -> String {
    let seen = distinct(results.iter().filter_map(|r| r.machine.clone()));
    match (seen.is_empty(), results.iter().any(|r| r.machine.is_none())) {
        (true, _) => "on machines these results do not record".into(),
        (false, false) => format!("on {}", seen.join("; ")),
        (false, true) => format!("on {} (and machines not recorded)", seen.join("; ")),
    }
}

/// The versions the cells ran on, each once, as the summary's first words.
pub(super) fn versions_line(results: &[CellResult], pair: ZfsPair) -> String {
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

/// A row's first columns: data size, throttle, profile.
fn size_and_profile(c: &Cell) -> String {
    format!(
        "| {} MiB | {} MiB/s | {} |",
        c.data_mib, c.throttle_mib, c.profile
    )
}

/// The table of every cell.
fn cells_table(results: &[CellResult]) -> String {
    let mut s = String::new();
    s.push_str(
        "| data | EBS throttle | profile | cap | workload | boot held | import | root mount | copy after boot | rate | rate / throttle | rate / cap | cap accuracy | the copy's own / cap | mapping memory | verified |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in results {
        s.push_str(&format!(
            "{} {} | {} | {:.1} s | {} | {:.1} s | {:.1} s | {:.2} MiB/s | {:.2} | {} | {} | {} | {} | {} |\n",
            size_and_profile(&r.cell),
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
    s
}

/// fio before, during and after the copy, where a cell ran it.
fn foreground_section(results: &[CellResult]) -> String {
    let mut s = String::new();
    let with_io: Vec<&CellResult> = results.iter().filter(|r| r.before.is_some()).collect();
    if with_io.is_empty() {
        return s;
    }
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
            "{} {} | {} | {} | {} | {} | {} / {} / {} | {} | {} | {} |\n",
            size_and_profile(&r.cell),
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
    s
}

/// The goals, judged.
fn goals_table(results: &[CellResult]) -> String {
    let mut s = String::new();
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
    s.push_str(&cells_table(results));
    s.push_str(&foreground_section(results));
    s.push_str(&repeats_section(results));
    s.push_str(&goals_table(results));
    s
}

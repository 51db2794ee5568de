//! The sweep's SVG plots (plotters, SVG backend only: no font or system library needed).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::cell::{CapSpec, CellResult, Latency, Workload};
use crate::peers::{Peer, PeerResult};

const SIZE: (u32, u32) = (720, 440);
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The peers' markers: black, grey, dark red.
const PEER_COLORS: [RGBColor; 3] = [
    RGBColor(0, 0, 0),
    RGBColor(128, 128, 128),
    RGBColor(140, 20, 20),
];

/// Writes every plot the results have data for into `out`; returns the file names.
pub fn write(results: &[CellResult], peers: &[PeerResult], out: &Path) -> Result<Vec<String>> {
    let ok: Vec<&CellResult> = results.iter().filter(|r| r.ok()).collect();
    let peers: Vec<&PeerResult> = peers.iter().filter(|p| p.manifest_ok).collect();
    let mut written = Vec::new();
    if !ok.is_empty() {
        copy_rate(&ok, &out.join("copy-rate.svg"))?;
        written.push("copy-rate.svg".to_string());
        boot_blocking(&ok, &peers, &out.join("boot-blocking.svg"))?;
        written.push("boot-blocking.svg".to_string());
    }
    for workload in [Workload::Randread, Workload::Fsync] {
        let name = format!("latency-{workload}.svg");
        if latency(&ok, &peers, workload, &out.join(&name))? {
            written.push(name);
        }
    }
    Ok(written)
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing a plot: {e:?}")
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The frame every plot shares: caption, margins, label areas, f64 axes.
fn frame<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: &str,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Result<Chart<'a, 'b>> {
    ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(x, y)
        .map_err(err)
}

/// The series legend, boxed, at `position`.
fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>, position: SeriesLabelPosition) -> Result<()> {
    chart
        .configure_series_labels()
        .border_style(BLACK.mix(0.3))
        .background_style(WHITE.mix(0.8))
        .position(position)
        .draw()
        .map_err(err)
}

/// Groups `items` into named series, in a stable order.
fn series<'a, K: Ord>(
    items: &[&'a CellResult],
    key: impl Fn(&CellResult) -> K,
) -> BTreeMap<K, Vec<&'a CellResult>> {
    let mut m: BTreeMap<K, Vec<&CellResult>> = BTreeMap::new();
    for r in items {
        m.entry(key(r)).or_default().push(r);
    }
    m
}

/// The copy's rate against the cap asked for, both as shares of the EBS throttle (no cap: 1):
/// a cap held exactly lies on the diagonal.
fn copy_rate(results: &[&CellResult], path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = frame(
        &root,
        "copy rate against the cap (shares of the EBS throttle)",
        0f64..1.1f64,
        0f64..1.2f64,
    )?;
    chart
        .configure_mesh()
        .x_desc("cap / throttle (no cap: 1)")
        .y_desc("rate / throttle")
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            vec![(0.0, 0.0), (1.1, 1.1)],
            BLACK.mix(0.3),
        ))
        .map_err(err)?;
    let groups = series(results, |r| {
        format!("{}, EBS {} MiB/s", r.cell.profile, r.cell.throttle_mib)
    });
    for (i, (name, cells)) in groups.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points: Vec<(f64, f64)> = cells
            .iter()
            .map(|r| {
                let cap = r
                    .cap_mib_per_second
                    .map_or(1.0, |c| (c / r.cell.throttle_mib as f64).min(1.0));
                (cap, r.rate_to_throttle)
            })
            .collect();
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
            .map_err(err)?
            .label(name.clone())
            .legend(move |(x, y)| Circle::new((x + 5, y), 4, color.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    root.present().map_err(err)
}

/// What holds the boot (apply, then mounting the root under the copy) against the data size.
fn boot_blocking(results: &[&CellResult], peers: &[&PeerResult], path: &Path) -> Result<()> {
    let max_mib = results.iter().map(|r| r.cell.data_mib).max().unwrap_or(256) as f64;
    let max_s = results
        .iter()
        .map(|r| r.boot_blocking_seconds + r.root_mount_seconds)
        .chain(peers.iter().map(|p| p.boot_held_seconds()))
        .fold(1.0, f64::max);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = frame(
        &root,
        "boot blocking: zevac apply + the root mount under the copy, and the eager copy",
        0f64..max_mib * 1.15,
        0f64..max_s * 1.2,
    )?;
    chart
        .configure_mesh()
        .x_desc("pool data, MiB")
        .y_desc("seconds (emulated)")
        .draw()
        .map_err(err)?;
    let groups = series(results, |r| r.cell.profile.clone());
    for (i, (name, cells)) in groups.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        for (what, value, filled) in [
            (
                "apply",
                &(|r: &CellResult| r.boot_blocking_seconds) as &dyn Fn(&CellResult) -> f64,
                true,
            ),
            (
                "apply + root mount",
                &|r: &CellResult| r.boot_blocking_seconds + r.root_mount_seconds,
                false,
            ),
        ] {
            let style = if filled {
                color.filled()
            } else {
                color.stroke_width(2)
            };
            chart
                .draw_series(
                    cells
                        .iter()
                        .map(|r| Circle::new((r.cell.data_mib as f64, value(r)), 4, style)),
                )
                .map_err(err)?
                .label(format!("{name}: {what}"))
                .legend(move |(x, y)| Circle::new((x + 5, y), 4, style));
        }
    }
    let mut kinds: Vec<Peer> = peers.iter().map(|p| p.peer).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for (i, kind) in kinds.into_iter().enumerate() {
        let style = PEER_COLORS[i % PEER_COLORS.len()].stroke_width(2);
        chart
            .draw_series(
                peers.iter().filter(|p| p.peer == kind).map(|p| {
                    TriangleMarker::new((p.data_mib as f64, p.boot_held_seconds()), 6, style)
                }),
            )
            .map_err(err)?
            .label(format!("{}: boot waits for it", kind.title()))
            .legend(move |(x, y)| TriangleMarker::new((x + 5, y), 6, style));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present().map_err(err)
}

/// p99 latency of one foreground workload before, during and after the copy: zevac's cells
/// without a cap (one line per profile, data size and throttle), and the peers right after
/// their boot and later (dashed). Returns whether there was anything to draw.
fn latency(
    results: &[&CellResult],
    peers: &[&PeerResult],
    workload: Workload,
    path: &Path,
) -> Result<bool> {
    let cells: Vec<&CellResult> = results
        .iter()
        .copied()
        .filter(|r| {
            r.cell.workload == workload && r.cell.cap == CapSpec::None && r.before.is_some()
        })
        .collect();
    let peers: Vec<&PeerResult> = peers
        .iter()
        .copied()
        .filter(|p| p.workload == workload && p.first.is_some())
        .collect();
    if cells.is_empty() && peers.is_empty() {
        return Ok(false);
    }
    let max_ms = cells
        .iter()
        .flat_map(|r| [p99(r.before), p99(r.during), p99(r.after)])
        .chain(peers.iter().flat_map(|p| [p99(p.first), p99(p.later)]))
        .flatten()
        .fold(1.0, f64::max);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = frame(
        &root,
        &format!("{workload}: p99 before, during and after the copy (peers: after boot, later)"),
        -0.2f64..2.2f64,
        0f64..max_ms * 1.15,
    )?;
    chart
        .configure_mesh()
        .x_labels(3)
        .x_label_formatter(&|x| match x.round() as i32 {
            0 => "before (EBS alone)".into(),
            1 => "during / right after boot".into(),
            2 => "after / later".into(),
            _ => String::new(),
        })
        .y_desc("p99, ms (emulated)")
        .draw()
        .map_err(err)?;
    zevac_latency_lines(&mut chart, &cells)?;
    peer_latency_lines(&mut chart, &peers)?;
    legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    root.present().map_err(err)?;
    Ok(true)
}

/// The points of a before / during / after line, skipping what was not measured.
fn latency_line(values: [Option<f64>; 3]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .filter_map(|(x, v)| v.map(|v| (x as f64, v)))
        .collect()
}

fn p99(l: Option<Latency>) -> Option<f64> {
    l.map(|l| l.p99_ms)
}

/// zevac's cells: solid lines, before, during and after the copy.
fn zevac_latency_lines(chart: &mut Chart, cells: &[&CellResult]) -> Result<()> {
    for (i, r) in cells.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                latency_line([p99(r.before), p99(r.during), p99(r.after)]),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!(
                "zevac {}, {} MiB, EBS {} MiB/s",
                r.cell.profile, r.cell.data_mib, r.cell.throttle_mib
            ))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], color));
    }
    Ok(())
}

/// The peers: dashed lines, right after boot and later.
fn peer_latency_lines(chart: &mut Chart, peers: &[&PeerResult]) -> Result<()> {
    for (i, p) in peers.iter().enumerate() {
        let color = PEER_COLORS[i % PEER_COLORS.len()];
        let points = latency_line([None, p99(p.first), p99(p.later)]);
        chart
            .draw_series(DashedLineSeries::new(points, 6, 4, color.stroke_width(2)))
            .map_err(err)?
            .label(format!(
                "{}, {} MiB, EBS {} MiB/s",
                p.peer.title(),
                p.data_mib,
                p.throttle_mib
            ))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], color));
    }
    Ok(())
}

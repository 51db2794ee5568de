//! The benchmark harness in the lab.

use zevac_bench::ZfsPair;

use crate::scene::*;

/// The benchmark harness's quick sweep (what CI runs so the harness does not rot): zevac's cell
/// and the L2ARC peer's, both with random reads, end with their data intact, and the results
/// files are written. Their numbers are printed, not asserted: speed is the sweep's to report.
#[test]
#[ignore = "lab: boots QEMU; run with --include-ignored"]
fn sweep_quick_runs_its_cells_and_writes_the_results() {
    use zevac_bench::sweep::{self, Matrix};
    let Scene { lab, _turn, .. } = scene(ZfsPair::V2_3);
    let out = lab.new_run("sweep-quick").unwrap();
    let zevac = std::path::Path::new(env!("CARGO_BIN_EXE_zevac"));
    let done = sweep::run(&lab, &Matrix::quick(), zevac, &out.dir, false).unwrap();
    assert!(done.failed.is_empty(), "{:?}", done.failed);
    assert_eq!((done.cells.len(), done.peers.len()), (1, 1));
    let r = &done.cells[0];
    assert!(r.ok(), "{r:?}");
    assert!(r.ebs_read_bytes > 0 && r.rate_to_cap.is_some(), "{r:?}");
    assert!(
        r.before.is_some() && r.during.is_some() && r.after.is_some(),
        "{r:?}"
    );
    let p = &done.peers[0];
    assert!(p.manifest_ok, "{p:?}");
    assert!(p.first.is_some() && p.later.is_some(), "{p:?}");
    // The ARC was held to 64 MiB, and the L2ARC caught some of the reads.
    assert_eq!(p.arc_max_bytes, Some(64 << 20), "{p:?}");
    assert!(p.cache_bytes.is_some_and(|b| b > 0), "{p:?}");
    for file in [
        "results.json",
        "results.csv",
        "summary.md",
        "peers.json",
        "matrix.toml",
    ] {
        assert!(out.path(file).exists(), "{file}");
    }
    let summary = std::fs::read_to_string(out.path("summary.md")).unwrap();
    println!("{summary}");
    assert!(
        summary.contains("| 256 MiB | 16 MiB/s | randread | L2ARC on the instance stores |"),
        "{summary}"
    );
    // The capped cell with random reads measures the copy's own rate against the cap, and the
    // summary reports that measure (not "not measured").
    let goals = sweep::goals(&done.cells);
    let own = goals
        .iter()
        .find(|g| g.name.starts_with("the copy's own rate / cap"))
        .expect("the goal of the copy's own rate");
    let measured = own.measured.as_deref().expect("measured by the quick cell");
    assert!(summary.contains(measured), "{measured} not in {summary}");
    assert!(r.copy_rate_to_cap().is_some(), "{r:?}");
}

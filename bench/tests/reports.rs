//! The reports a sweep writes are a function of its `results.json`: regenerated from the
//! checked-in full sweep they are byte for byte the files checked in beside it. A change to the
//! harness that changes a published table or plot fails here, not silently in `bench/RESULTS.md`.

use std::path::Path;

#[test]
fn the_full_sweeps_reports_regenerate_identically() {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/full");
    let out = std::env::temp_dir().join(format!("zevac-reports-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let cells = zevac_bench::sweep::load(std::slice::from_ref(&full)).unwrap();
    let peers = zevac_bench::peers::load(std::slice::from_ref(&full)).unwrap();
    assert!(!cells.is_empty() && !peers.is_empty());
    zevac_bench::sweep::write_results(&cells, &peers, zevac_bench::ZfsPair::V2_3, &out).unwrap();
    for file in [
        "summary.md",
        "results.csv",
        "results.json",
        "peers.json",
        "boot-blocking.svg",
        "copy-rate.svg",
        "latency-fsync.svg",
        "latency-randread.svg",
    ] {
        let want = std::fs::read(full.join(file)).unwrap();
        let got = std::fs::read(out.join(file)).unwrap();
        assert!(
            want == got,
            "{file} regenerates differently (see {})",
            out.display()
        );
    }
    std::fs::remove_dir_all(&out).unwrap();
}

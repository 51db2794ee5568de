//! `bench/RESULTS.md` quotes the checked-in results: each of its table rows keyed as a sweep
//! summary's rows are (data, throttle, profile, cap, workload) holds only values that a row with
//! the same key holds in one of the `bench/results/*/summary.md` files, which the harness
//! generates from that directory's `results.json` (`zevac-bench sweep --report-from`).

use std::collections::BTreeMap;
use std::path::Path;

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().replace("**", ""))
        .collect()
}

/// A row of a cell table: its first cell is a data size.
fn is_cell_row(line: &str) -> bool {
    line.starts_with("| ")
        && cells(line)
            .first()
            .is_some_and(|c| c.ends_with(" MiB") && c[..c.len() - 4].parse::<u64>().is_ok())
}

type Rows = BTreeMap<Vec<String>, Vec<Vec<String>>>;

fn summary_rows(results: &Path) -> Rows {
    let mut rows = Rows::new();
    for dir in std::fs::read_dir(results).unwrap() {
        let summary = dir.unwrap().path().join("summary.md");
        let Ok(text) = std::fs::read_to_string(&summary) else {
            continue;
        };
        for line in text.lines().filter(|l| is_cell_row(l)) {
            let c = cells(line);
            rows.entry(c[..5].to_vec())
                .or_default()
                .push(c[5..].to_vec());
        }
    }
    rows
}

#[test]
fn results_tables_quote_the_checked_in_summaries() {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rows = summary_rows(&bench.join("results"));
    let prose = std::fs::read_to_string(bench.join("RESULTS.md")).unwrap();
    let (mut checked, mut wrong) = (0, Vec::new());
    for line in prose.lines().filter(|l| is_cell_row(l)) {
        let c = cells(line);
        let Some(candidates) = c.get(..5).and_then(|k| rows.get(k)) else {
            continue; // a table of another shape (peers, repeats), keyed differently
        };
        checked += 1;
        let quoted = |row: &Vec<String>| c[5..].iter().all(|v| row.contains(v));
        if !candidates.iter().any(quoted) {
            wrong.push(line.to_string());
        }
    }
    assert!(
        wrong.is_empty(),
        "RESULTS.md rows no checked-in summary holds:\n{}",
        wrong.join("\n")
    );
    // The sections' tables of sweeps 1 to 9: most of RESULTS.md's rows.
    assert!(checked >= 40, "only {checked} rows checked");
}

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

/// Every decimal in `text` (`16.58`), apart from versions and other dotted names (`6.12.117`,
/// `2.3.2-2`, `v1.0`).
fn decimals(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || ".~+-_".contains(c))) {
        let token = token.trim_end_matches(['.', '-']);
        let (whole, frac) = match token.split_once('.') {
            Some(p) => p,
            None => continue,
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        // A plain number, or one with a unit glued on (`1.42x`, `0.5s`).
        let frac = frac.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        if digits(whole)
            && digits(frac)
            && !token.contains(['~', '+', '_'])
            && token.matches('.').count() == 1
            && !token[whole.len() + 1..].contains('-')
        {
            found.push(format!("{whole}.{frac}"));
        }
    }
    found
}

/// Each number of `text`, as written and rounded to one, two and three decimals (what prose may
/// quote of it), and whole numbers with a `.0`.
fn quotable(text: &str, into: &mut std::collections::BTreeSet<String>) {
    let mut number = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || (c == '.' && !number.is_empty() && !number.contains('.')) {
            number.push(c);
            continue;
        }
        let n = std::mem::take(&mut number);
        let n = n.trim_end_matches('.');
        let Ok(value) = n.parse::<f64>() else {
            continue;
        };
        into.insert(n.to_string());
        for places in 1..=3 {
            into.insert(format!("{value:.places$}"));
        }
    }
}

/// What a line of prose may quote: every number of the results directories it may draw on.
struct Corpus {
    by_dir: BTreeMap<String, std::collections::BTreeSet<String>>,
}

impl Corpus {
    fn load(results: &Path) -> Corpus {
        let mut by_dir = BTreeMap::new();
        for dir in std::fs::read_dir(results).unwrap() {
            let dir = dir.unwrap().path();
            let mut set = std::collections::BTreeSet::new();
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                let text_file = f
                    .extension()
                    .is_some_and(|e| ["md", "json", "csv", "toml"].contains(&e.to_str().unwrap()));
                if text_file {
                    quotable(&std::fs::read_to_string(&f).unwrap(), &mut set);
                }
            }
            by_dir.insert(dir.file_name().unwrap().to_str().unwrap().to_string(), set);
        }
        Corpus { by_dir }
    }

    /// Whether one of `dirs` (all of them if empty) holds `number`.
    fn holds(&self, dirs: &[String], number: &str) -> bool {
        self.by_dir
            .iter()
            .filter(|(d, _)| dirs.is_empty() || dirs.contains(d))
            .any(|(_, set)| set.contains(number))
    }
}

/// The `results/<dir>` names of `section`'s text.
fn dirs_named(section: &str, corpus: &Corpus) -> Vec<String> {
    corpus
        .by_dir
        .keys()
        .filter(|d| {
            let name = format!("results/{d}");
            section.match_indices(&name).any(|(i, _)| {
                let next = section[i + name.len()..].chars().next();
                !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
            })
        })
        .cloned()
        .collect()
}

/// The results directories each prose line of a document may quote. In RESULTS.md: those its
/// section names, and those of the sections the line refers to ("section 9", "sweep 2": the
/// first three sections are sweeps 1 to 3); all of them where that names none. Elsewhere (the
/// README, the profiles, which quote RESULTS.md's sections): all of them.
struct Scopes<'a> {
    lines: Vec<(&'a str, Vec<String>)>,
}

impl<'a> Scopes<'a> {
    fn of(doc: &str, text: &'a str, corpus: &Corpus) -> Scopes<'a> {
        let sectioned = doc.ends_with("RESULTS.md");
        let sections: Vec<&str> = text.split("\n## ").collect();
        let number_of = |s: &str| s.split('.').next().and_then(|n| n.parse::<usize>().ok());
        let dirs_of = |n: usize| -> Vec<String> {
            sections
                .iter()
                .find(|s| number_of(s) == Some(n))
                .map(|s| dirs_named(s, corpus))
                .unwrap_or_default()
        };
        let mut lines = Vec::new();
        for section in &sections {
            let own = if sectioned {
                dirs_named(section, corpus)
            } else {
                Vec::new()
            };
            for paragraph in paragraphs(section) {
                let mut dirs = own.clone();
                let joined = paragraph.join(" ");
                for word in ["section ", "sweep ", "sections "] {
                    for (i, _) in joined.match_indices(word) {
                        let rest = &joined[i + word.len()..];
                        let digits: String =
                            rest.chars().take_while(char::is_ascii_digit).collect();
                        if let Ok(n) = digits.parse() {
                            dirs.extend(dirs_of(n));
                        }
                    }
                }
                let dirs = if sectioned { dirs } else { Vec::new() };
                for line in paragraph.into_iter().filter(|l| !is_cell_row(l)) {
                    lines.push((line, dirs.clone()));
                }
            }
        }
        Scopes { lines }
    }
}

/// The paragraphs of `text`: runs of lines between blank lines, a list item starting a new one.
fn paragraphs(text: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = vec![Vec::new()];
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with("- ") || line.starts_with("| ") {
            out.push(Vec::new());
        }
        out.last_mut().unwrap().push(line);
    }
    out.retain(|p| !p.is_empty());
    out
}

/// In `SOURCED`: the README and any file of `docs/`.
const USER_DOCS: &str = "README.md, docs/";

/// The documents a `SOURCED` entry names.
fn named_docs(root: &Path, entry: &str) -> Vec<String> {
    if entry != USER_DOCS {
        return vec![entry.to_string()];
    }
    let mut docs = vec!["README.md".to_string()];
    let mut files: Vec<String> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|p| format!("docs/{}", p.unwrap().file_name().into_string().unwrap()))
        .filter(|p| p.ends_with(".md"))
        .collect();
    files.sort();
    docs.extend(files);
    docs
}

/// Numbers the prose quotes that no results file holds, each with where it comes from: a lab
/// test's printed output (one run), a figure derived from results, or what a number names.
const SOURCED: &[(&str, &str, &str)] = &[
    (USER_DOCS, "24.05", "nixpkgs' release"),
    (USER_DOCS, "25.05", "nixpkgs' release"),
    (USER_DOCS, "1.77", "rustc of nixpkgs 24.05"),
    (USER_DOCS, "1.85", "rust-version, and Debian's rustc-web"),
    (USER_DOCS, "1.86", "rustc of nixpkgs 25.05"),
    ("bench/RESULTS.md", "2.1", "OpenZFS 2.1, a release"),
    (
        "bench/RESULTS.md",
        "37.4",
        "results/full at commit 3673011: copy_seconds_from_start",
    ),
    (
        "bench/RESULTS.md",
        "15.7",
        "a_foreground_heavier_than_the_cap_leaves_the_copy_no_debt",
    ),
    (
        "bench/RESULTS.md",
        "1.015",
        "watch::cap::tests::a_copy_ends_near_the_cap (printed)",
    ),
    (
        "bench/RESULTS.md",
        "0.999",
        "watch::cap::tests::a_copy_ends_near_the_cap (printed)",
    ),
    (
        USER_DOCS,
        "0.16",
        "zevac_watch_drives_the_copy_to_a_verified_end_openzfs_2_3",
    ),
    (
        USER_DOCS,
        "0.20",
        "zevac_watch_drives_the_copy_to_a_verified_end_openzfs_2_3",
    ),
    (
        USER_DOCS,
        "8.04",
        "a_share_cap_measures_the_origin_then_holds_the_copy_to_its_share",
    ),
    (
        USER_DOCS,
        "2.01",
        "a_share_cap_measures_the_origin_then_holds_the_copy_to_its_share",
    ),
    (
        USER_DOCS,
        "23.0",
        "a_foreground_heavier_than_the_cap_leaves_the_copy_no_debt (printed)",
    ),
    (
        USER_DOCS,
        "44.7",
        "under_nixos_units_a_crash_mid_copy_resumes_and_a_stop_start_starts_over (printed)",
    ),
    (
        USER_DOCS,
        "28.2",
        "a_foreground_heavier_than_the_cap_leaves_the_copy_no_debt (printed)",
    ),
    (
        "bench/RESULTS.md",
        "16.2",
        "a_foreground_heavier_than_the_cap_leaves_the_copy_no_debt (printed in CI)",
    ),
    (
        "bench/RESULTS.md",
        "12.0",
        "a_foreground_heavier_than_the_cap_leaves_the_copy_no_debt (from CI's records)",
    ),
    (
        "bench/RESULTS.md",
        "22.3",
        "a_foreground_heavier_than_the_cap_leaves_the_copy_no_debt",
    ),
    (
        USER_DOCS,
        "0.02",
        "killed_three_times_mid_copy_the_pool_resumes_and_ebs_stays_golden (printed)",
    ),
    (
        USER_DOCS,
        "30.6",
        "killed_three_times_mid_copy_the_pool_resumes_and_ebs_stays_golden (printed)",
    ),
    (
        USER_DOCS,
        "30.61",
        "killed_three_times_mid_copy_the_pool_resumes_and_ebs_stays_golden (printed)",
    ),
    (
        USER_DOCS,
        "61.74",
        "killed_three_times_mid_copy_the_pool_resumes_and_ebs_stays_golden (printed)",
    ),
];

/// Figures the prose derives from a sweep's `results.json`, checked here: (document, the figure,
/// sweep, data MiB, throttle MiB/s) for the mean of `boot_blocking_seconds` over that size and
/// throttle's cells.
const MEAN_BOOT_HELD: &[(&str, &str, &str, u64, u64)] = &[
    ("bench/RESULTS.md", "11.73", "full", 256, 16),
    ("bench/RESULTS.md", "11.47", "full", 1024, 16),
    ("bench/RESULTS.md", "12.15", "full", 256, 64),
    ("bench/RESULTS.md", "10.93", "full", 1024, 64),
];

fn mean_boot_held(results: &Path, sweep: &str, data: u64, throttle: u64) -> String {
    let text = std::fs::read_to_string(results.join(sweep).join("results.json")).unwrap();
    let cells: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let held: Vec<f64> = cells
        .iter()
        .filter(|c| c["data_mib"] == data && c["throttle_mib"] == throttle)
        .map(|c| c["boot_blocking_seconds"].as_f64().unwrap())
        .collect();
    assert!(
        !held.is_empty(),
        "no {sweep} cells at {data} MiB, {throttle} MiB/s"
    );
    format!("{:.2}", held.iter().sum::<f64>() / held.len() as f64)
}

#[test]
fn derived_figures_follow_from_the_results() {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (doc, figure, sweep, data, throttle) in MEAN_BOOT_HELD {
        let text = std::fs::read_to_string(bench.parent().unwrap().join(doc)).unwrap();
        assert!(
            decimals(&text).iter().any(|d| d == figure),
            "{doc} no longer quotes {figure}"
        );
        let mean = mean_boot_held(&bench.join("results"), sweep, *data, *throttle);
        assert_eq!(
            &mean, figure,
            "{doc}: the mean boot held at {data} MiB, {throttle} MiB/s"
        );
    }
}

/// Decimals of README.md, docs/, bench/RESULTS.md (outside the cell rows the test above checks) and the
/// shipped profiles that neither a results file (of the section's own sweeps, where a RESULTS.md
/// section names them) nor `SOURCED` accounts for. Finding a number is not proving it: the table
/// test and the closing notes do that; this keeps a typed or stale figure from passing unseen.
#[test]
fn prose_numbers_are_found_in_the_results() {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = bench.parent().unwrap();
    let corpus = Corpus::load(&bench.join("results"));
    let mut docs = named_docs(root, USER_DOCS);
    docs.push("bench/RESULTS.md".to_string());
    for p in std::fs::read_dir(root.join("zfs-profiles")).unwrap() {
        let name = p.unwrap().file_name().into_string().unwrap();
        docs.push(format!("zfs-profiles/{name}"));
    }
    // (document, number) for each SOURCED entry, its document group expanded once.
    let sourced: std::collections::BTreeSet<(String, &str)> = SOURCED
        .iter()
        .flat_map(|(d, n, _)| named_docs(root, d).into_iter().map(move |doc| (doc, *n)))
        .collect();
    let (mut checked, mut missing) = (0, Vec::new());
    for doc in &docs {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        let scopes = Scopes::of(doc, &text, &corpus);
        for (line, dirs) in scopes.lines {
            for n in decimals(line) {
                checked += 1;
                let sourced = sourced.contains(&(doc.clone(), n.as_str()))
                    || MEAN_BOOT_HELD.iter().any(|(d, s, ..)| d == doc && *s == n);
                if !sourced && !corpus.holds(&dirs, &n) {
                    missing.push(format!("{doc}: {n} in: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "numbers no results file holds:\n{}",
        missing.join("\n")
    );
    assert!(checked >= 300, "only {checked} numbers checked");
}

#[test]
fn each_sourced_number_is_still_quoted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for (doc, n, source) in SOURCED {
        let quoted = named_docs(root, doc).iter().any(|d| {
            let text = std::fs::read_to_string(root.join(d)).unwrap();
            decimals(&text).iter().any(|d| d == n)
        });
        assert!(
            quoted,
            "{doc} no longer quotes {n} ({source}): drop it from SOURCED"
        );
    }
}

#[test]
fn decimals_skip_versions() {
    let found = decimals("1.42x (23.5 ms), kernel 6.12.117, 2.3.2-2~bpo12+2, v1.0, 0.5 s.");
    assert_eq!(found, ["1.42", "23.5", "0.5"]);
}

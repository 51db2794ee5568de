//! The sweep's reading of recorded guest output and its reports.

use super::measure::*;
use super::*;
use crate::events::Events;

/// A cell of gentle at a quarter of a 16 MiB/s volume, as the lab recorded it: the copy
/// started at 24.13 s of uptime, ran uncapped until the watcher came at about 30 s, paused
/// and ran by turns, and read its last byte at 94.66 s (`zpool wait` returned at 94.76 s).
#[test]
fn the_copy_start_and_its_last_read_come_from_the_guests_records() {
    let (at, bytes0) = copy_start_uptime(include_str!(
        "../../fixtures/zfs-2.3.2/sweep-copy-start.json"
    ))
    .unwrap();
    assert_eq!((at, bytes0), (24.130369917, 20443136));
    let samples = include_str!("../../fixtures/zfs-2.3.2/sweep-ebs-reads.txt");
    assert_eq!(last_read_at(samples, 296472576), Some(94.66));
    // A counter that never reached the end's value (a sampler that died early): no answer.
    assert_eq!(last_read_at(samples, 296472577), None);
    assert!(
        copy_start_uptime("{\"pool\": \"rpool\", \"at\": 1.0, \"origin_read_bytes\": 0}")
            .unwrap_err()
            .to_string()
            .contains("no since_boot")
    );
}

/// A cell of the sweep (256 MiB, EBS 64 MiB/s, gentle, cap 25 %, randread; apply's output
/// left out): `zpool remove` returned at 35.44 s, and the guest's records of the counter and
/// copy-start.json took 1.5 s before the root mount, which ended at 37.72 s. The estimate
/// from apply's end and the mount's length said 0.67 s; the copy, done reading at 4.12 s,
/// ended in the watcher's first pause's drain.
#[test]
fn the_watchers_start_comes_from_the_guests_records() {
    let text = include_str!("../../fixtures/zfs-2.3.2/sweep-watcher-start.jsonl");
    let ev = Events(text.lines().filter_map(crate::Event::parse).collect());
    let watcher = watcher_from_copy_start(&ev, copy_start(&ev).unwrap())
        .unwrap()
        .unwrap();
    assert!((watcher - 2.28).abs() < 0.01, "{watcher}");
    let none = Events(Vec::new());
    assert_eq!(
        watcher_from_copy_start(&none, copy_start(&none).unwrap()).unwrap(),
        None
    );
}

#[test]
fn caps_parse_and_print() {
    assert_eq!("none".parse(), Ok(CapSpec::None));
    assert_eq!("profile".parse(), Ok(CapSpec::Profile));
    assert_eq!("25%".parse(), Ok(CapSpec::OfThrottle(0.25)));
    assert_eq!("8 MiB/s".parse(), Ok(CapSpec::MibPerSecond(8.0)));
    assert!("0%".parse::<CapSpec>().is_err());
    assert!("fast".parse::<CapSpec>().unwrap_err().contains("25%"));
    assert_eq!(CapSpec::OfThrottle(0.5).to_string(), "50%");
}

#[test]
fn the_full_matrix_has_every_combination() {
    let cells = Matrix::full().cells();
    assert_eq!(cells.len(), 2 * 2 * 3 * 3 * 3);
    assert_eq!(cells[0].data_mib, 256);
    let m: Matrix = toml::from_str(
        "data_mib = [256]\nthrottle_mib = [16, 64]\nprofiles = [\"fast\"]\ncaps = [\"none\", \"50%\"]\n",
    )
    .unwrap();
    assert_eq!(m.cells().len(), 4);
    assert!(m.cells().iter().all(|c| c.workload == Workload::None));
    let w: Matrix = toml::from_str(
        "data_mib = [256]\nthrottle_mib = [16]\nprofiles = [\"gentle\"]\ncaps = [\"none\"]\nworkloads = [\"randread\", \"fsync\"]\n",
    )
    .unwrap();
    assert_eq!(w.cells().len(), 2);
    assert!(toml::from_str::<Matrix>("data_mib = [1]\nbogus = 1\n").is_err());
    assert!(w.peers.is_empty(), "no peers unless asked");
    let p: Matrix = toml::from_str(
        "data_mib = [256, 1024]\nthrottle_mib = [16]\nprofiles = [\"balanced\"]\ncaps = [\"none\"]\npeers = [\"eager\"]\n",
    )
    .unwrap();
    assert_eq!(p.peers, [crate::peers::Peer::Eager]);
    assert_eq!(p.peer_cells().len(), 2, "one eager cell per data size");
    // zevac's cell at 256 MiB, the eager copy at 256 MiB, then the same at 1 GiB.
    let sizes: Vec<(bool, u64)> = p
        .order()
        .iter()
        .map(|w| match w {
            Work::Zevac(c) => (true, c.data_mib),
            Work::Peer(c) => (false, c.data_mib),
        })
        .collect();
    assert_eq!(
        sizes,
        [(true, 256), (false, 256), (true, 1024), (false, 1024)]
    );
    let full = Matrix::full();
    assert_eq!((full.cells().len(), full.peer_cells().len()), (108, 48));
    assert_eq!(full.order().len(), 156);
    // What a sweep records and --resume reads back is the same matrix.
    let again: Matrix = toml::from_str(&toml::to_string(&full).unwrap()).unwrap();
    assert_eq!(again.cells(), full.cells());
    assert_eq!(again.peer_cells(), full.peer_cells());
}

#[test]
fn repeats_make_one_cell_per_boot_and_read_back() {
    let text = "data_mib = [1024]\nthrottle_mib = [16, 64]\nprofiles = [\"gentle\"]\n\
                caps = [\"profile\"]\nworkloads = [\"randread\"]\nrepeats = 3\n";
    let m: Matrix = toml::from_str(text).unwrap();
    let cells = m.cells();
    assert_eq!(cells.len(), 6);
    assert_eq!(
        cells.iter().map(|c| c.repeat).collect::<Vec<_>>(),
        [0, 1, 2, 0, 1, 2]
    );
    assert!(cells[0].same_settings(&cells[2]) && !cells[0].same_settings(&cells[3]));
    let again: Matrix = toml::from_str(&toml::to_string(&m).unwrap()).unwrap();
    assert_eq!(again.cells(), cells);
    // A result of an earlier sweep has no repeat field: it is boot 0.
    let old: Cell = serde_json::from_str(
        r#"{"data_mib":256,"throttle_mib":16,"profile":"gentle","cap":"none","workload":"none"}"#,
    )
    .unwrap();
    assert_eq!(old.repeat, 0);
}

#[test]
fn a_cell_config_names_its_cap() {
    let cell = |profile: &str, cap| Cell {
        data_mib: 256,
        throttle_mib: 16,
        profile: profile.into(),
        cap,
        workload: Workload::None,
        repeat: 0,
    };
    use zevac::config::{CapSetting, Config};
    use zevac::units::{Cap, Rate};
    let cap_of = |c: &Cell| Config::parse(&c.config(&[]).unwrap()).unwrap().tunables.cap;
    let quarter = cell("balanced", CapSpec::OfThrottle(0.25));
    assert_eq!(
        cap_of(&quarter),
        Some(CapSetting::Cap(Cap::Rate(Rate(4 << 20))))
    );
    assert!(quarter.config(&[]).unwrap().contains("cap = \"4 MiB/s\""));
    let a_tenth = cell("balanced", CapSpec::OfThrottle(0.1));
    assert_eq!(
        cap_of(&a_tenth),
        Some(CapSetting::Cap(Cap::Rate(Rate(1638 << 10))))
    );
    assert_eq!(
        cap_of(&cell("gentle", CapSpec::None)),
        Some(CapSetting::NoCap)
    );
    // The profile's own cap: nothing in the config; gentle's is a share of the origin's
    // rate, known once the watcher measured it (`measure` reads it from its record).
    let g = cell("gentle", CapSpec::Profile);
    assert_eq!(cap_of(&g), None);
    assert!(!g.config(&[]).unwrap().contains("cap ="));
    assert_eq!(g.cap_mib().unwrap(), None);
    // Every generated config is one zevac accepts.
    for profile in ["gentle", "balanced", "fast"] {
        for cap in Matrix::full().caps {
            let text = cell(profile, cap)
                .config(&["/dev/disk/by-id/nvme-x".into()])
                .unwrap();
            zevac::config::Config::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }
}

/// fio 3.33's JSON, recorded in the lab (sweep boots).
fn fio_fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/fio-3.33")
            .join(name),
    )
    .unwrap()
}

#[test]
fn latency_from_recorded_fio_runs() {
    // Reads: the read completion latency.
    let r = Latency::from_fio(&fio_fixture("randread.json")).unwrap();
    assert!((r.iops - 118.517038).abs() < 1e-6, "{r:?}");
    assert!((r.p99_ms - 33.816576).abs() < 1e-9, "{r:?}");
    assert!(r.p50_ms <= r.p99_ms && r.p99_ms <= r.p999_ms);
    // Writes with fdatasync: the fdatasync latency, the write IOPS.
    let w = Latency::from_fio(&fio_fixture("fsync-raw.json")).unwrap();
    assert!((w.iops - 458.316673).abs() < 1e-6, "{w:?}");
    assert!((w.p99_ms - 8.716288).abs() < 1e-9, "{w:?}");
    assert!(Latency::from_fio(&fio_fixture("fsync-pool.json")).is_ok());
    assert!(Latency::from_fio("{}").is_err());
}

/// `zevac apply --json` of a sweep cell, recorded in the lab.
#[test]
fn import_time_from_apply_json() {
    let out = include_str!("../../fixtures/zfs-2.3.2/sweep-apply.json");
    let seconds = import_seconds(out).unwrap().unwrap();
    assert!(seconds > 0.0 && seconds < 60.0, "{seconds}");
    assert!(
        out.contains(&format!("\"import_seconds\":{seconds}")),
        "{out}"
    );
    assert_eq!(import_seconds("{\"import_seconds\":null}").unwrap(), None);
    assert!(import_seconds("imported pool rpool in 0.78 s").is_err());
}

//! `zevac-bench lab selftest`: the golden image evacuated onto two instance stores with plain
//! zpool commands, timed, verified and scrubbed; reported as one JSON object.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::disks::Throttle;
use crate::events::Events;
use crate::vm::BootSpec;
use crate::{golden, Lab};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub data_mib: u64,
    pub throttle_mib: u64,
    pub instance_stores: usize,
    pub instance_store_mib: u64,
    /// The zevac binary to carry into the guest (it runs `zevac --version` there).
    pub zevac: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            data_mib: 256,
            throttle_mib: 32,
            instance_stores: 2,
            instance_store_mib: 1024,
            zevac: None,
        }
    }
}

/// The self-test's result line.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub zfs_version: String,
    pub kernel: String,
    /// The Debian versions the lab resolved for this guest.
    pub versions: crate::Versions,
    pub data_mib: u64,
    /// Bytes the removal copied: `removal_stats.copied` on 2.3; on 2.1, which has no such
    /// counter, what the other vdevs' ALLOC grew by from `zpool add` to the removal's end.
    pub evacuated_bytes: u64,
    /// Where `evacuated_bytes` comes from.
    pub evacuated_from: Evacuated,
    /// What the other vdevs' ALLOC grew by (both versions), beside ZFS's own counter on 2.3.
    pub other_vdevs_growth_bytes: u64,
    /// The EBS vdev is no longer in `zpool list -v` once the removal is done.
    pub origin_gone: bool,
    /// ALLOC of the EBS vdev before the removal (`zpool list -Hpv`).
    pub origin_alloc_bytes: u64,
    /// From `zpool remove` starting to `zpool wait -t remove` returning: what a user waits, including
    /// the txg syncs of `zpool remove` itself.
    pub evacuation_seconds: f64,
    pub throttle_bytes_per_second: u64,
    /// `evacuated_bytes / evacuation_seconds` divided by the EBS throttle.
    pub rate_to_throttle: f64,
    /// The copy alone, by ZFS' own `removal_stats` clock (`end_time - start_time`, whole seconds;
    /// OpenZFS 2.3+ only).
    pub zfs_copy_seconds: Option<f64>,
    /// `evacuated_bytes / zfs_copy_seconds` divided by the EBS throttle.
    pub zfs_rate_to_throttle: Option<f64>,
    pub import_seconds: f64,
    /// Guest uptime when udev had settled and the scenario began.
    pub boot_seconds: f64,
    pub manifest_ok: bool,
    pub scrub_errors: u64,
    /// What `zevac --version` printed in the guest, if the binary was carried in.
    pub zevac_version: Option<String>,
}

/// How the self-test knows what was copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evacuated {
    /// `zpool status -j`'s `removal_stats.copied` (OpenZFS 2.3+).
    RemovalStats,
    /// The growth of the other vdevs' ALLOC (2.1, no JSON).
    OtherVdevsAlloc,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.manifest_ok && self.scrub_errors == 0 && self.evacuated_bytes > 0
    }
}

/// Runs the self-test on `lab`.
pub fn run(lab: &Lab, opts: &Options) -> Result<Report> {
    let golden = golden::golden(lab, opts.data_mib)?;
    let run = lab.new_run("selftest")?;
    let throttle = Throttle::mib_per_second(opts.throttle_mib);
    let disks = run.ec2_disks(
        &golden,
        Some(throttle),
        opts.instance_stores,
        opts.instance_store_mib,
    )?;
    let origin_serial = disks[0].serial.clone();
    let mut spec = BootSpec::new("selftest", disks, include_str!("../guest/selftest.sh"))
        .file(crate::golden::MANIFEST, golden.manifest.clone());
    if let Some(zevac) = &opts.zevac {
        spec = spec.binary("/bin/zevac", zevac);
    }
    let outcome = lab.run(&run, &spec)?;
    let json_expected = lab.pair == crate::ZfsPair::V2_3;
    let report = report(
        &outcome.events,
        &origin_serial,
        opts,
        throttle,
        lab.versions(),
        json_expected,
    )?;
    if report.passed() {
        run.remove_images()?;
    }
    Ok(report)
}

fn report(
    ev: &Events,
    origin_serial: &str,
    opts: &Options,
    throttle: Throttle,
    versions: crate::Versions,
    json_expected: bool,
) -> Result<Report> {
    let origin_alloc = vdev_alloc(&ev.cmd("list_before")?.stdout, origin_serial)?;
    let list_after = ev.cmd("list_after")?.stdout;
    let growth = other_vdevs_alloc(&list_after, origin_serial)?.saturating_sub(other_vdevs_alloc(
        &ev.cmd("list_added")?.stdout,
        origin_serial,
    )?);
    let remove = ev.cmd("remove")?;
    let wait = ev.cmd("wait")?;
    let json = ev.cmd("status_json")?;
    if json_expected && json.rc != 0 {
        bail!(
            "zpool status -j failed (exit {}) on a release that has it: {}",
            json.rc,
            json.stderr.trim()
        );
    }
    let stats = (json.rc == 0)
        .then(|| removal_stats(&json.stdout))
        .transpose()?;
    let (evacuated, evacuated_from) = match &stats {
        Some(s) => (s.copied, Evacuated::RemovalStats),
        None => (growth, Evacuated::OtherVdevsAlloc),
    };
    let zfs_copy_seconds = stats.as_ref().map(|s| (s.end_time - s.start_time) as f64);
    let bps = throttle.bytes_per_second as f64;
    let evacuation_seconds = wait.end - remove.start;
    let ready = ev.find("ready", None)?;
    let boot = ev.find("boot", None)?;
    Ok(Report {
        zfs_version: ready.field("zfs_version")?.to_string(),
        kernel: boot.field("kernel")?.to_string(),
        versions,
        data_mib: opts.data_mib,
        evacuated_bytes: evacuated,
        evacuated_from,
        other_vdevs_growth_bytes: growth,
        origin_gone: vdev_alloc(&list_after, origin_serial).is_err(),
        origin_alloc_bytes: origin_alloc,
        evacuation_seconds,
        throttle_bytes_per_second: throttle.bytes_per_second,
        rate_to_throttle: evacuated as f64 / evacuation_seconds / bps,
        zfs_copy_seconds,
        zfs_rate_to_throttle: zfs_copy_seconds.map(|s| evacuated as f64 / s / bps),
        import_seconds: ev.cmd("import")?.seconds(),
        boot_seconds: ready.number("uptime")?,
        manifest_ok: ev.cmd("verify")?.rc == 0,
        scrub_errors: scrub_errors(&ev.cmd("status_scrubbed")?.stdout)?,
        zevac_version: ev
            .cmd("zevac_version")
            .ok()
            .map(|c| c.stdout.trim().to_string()),
    })
}

/// The vdev rows of `zpool list -Hpv` (tab-separated, indented with a tab): each name and its
/// ALLOC, `None` where ZFS prints `-` (the removed vdev's remains, `indirect-0`).
fn vdev_rows(list: &str) -> Result<Vec<(&str, Option<u64>)>> {
    let mut rows = vec![];
    for line in list.lines().filter(|l| l.starts_with('\t')) {
        let fields: Vec<&str> = line.split('\t').filter(|f| !f.is_empty()).collect();
        let (Some(name), Some(alloc)) = (fields.first(), fields.get(2)) else {
            bail!("zpool list: vdev row without ALLOC: {line:?}");
        };
        let alloc = match *alloc {
            "-" => None,
            a => Some(
                a.parse()
                    .with_context(|| format!("zpool list: ALLOC {a:?}"))?,
            ),
        };
        rows.push((*name, alloc));
    }
    Ok(rows)
}

/// ALLOC of the vdev whose name holds `serial`, from `zpool list -Hpv`.
pub fn vdev_alloc(list: &str, serial: &str) -> Result<u64> {
    match vdev_rows(list)?
        .into_iter()
        .find(|(name, _)| name.contains(serial))
    {
        Some((_, Some(alloc))) => Ok(alloc),
        Some((name, None)) => bail!("zpool list shows no ALLOC for {name}"),
        None => bail!("zpool list shows no vdev with serial {serial}:\n{list}"),
    }
}

/// The ALLOC of every vdev but the one whose name holds `origin_serial`, from `zpool list -Hpv`.
pub fn other_vdevs_alloc(list: &str, origin_serial: &str) -> Result<u64> {
    Ok(vdev_rows(list)?
        .into_iter()
        .filter(|(name, _)| !name.contains(origin_serial))
        .filter_map(|(_, alloc)| alloc)
        .sum())
}

/// The fields of `removal_stats` the self-test reads.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct RemovalStats {
    pub state: String,
    pub copied: u64,
    pub to_copy: u64,
    pub start_time: u64,
    pub end_time: u64,
}

/// `removal_stats` of the first pool in `zpool status -j --json-int -p`.
pub fn removal_stats(json: &str) -> Result<RemovalStats> {
    let v: serde_json::Value = serde_json::from_str(json).context("zpool status -j is not JSON")?;
    let pools = v
        .get("pools")
        .and_then(|p| p.as_object())
        .context("zpool status -j: no pools")?;
    let (_, pool) = pools.iter().next().context("zpool status -j: no pool")?;
    serde_json::from_value(pool["removal_stats"].clone()).context("zpool status -j: removal_stats")
}

/// The error count of the last scrub, from `zpool status`' `scan:` line
/// (`scrub repaired 0B in 00:00:05 with 0 errors on ...`).
pub fn scrub_errors(status: &str) -> Result<u64> {
    let scan = status
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("scan: scrub repaired"))
        .with_context(|| format!("zpool status shows no finished scrub:\n{status}"))?;
    let n = scan
        .split(" with ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .with_context(|| format!("cannot read the error count in {scan:?}"))?;
    n.parse()
        .with_context(|| format!("error count {n:?} in {scan:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded by `zevac-bench lab record` from a self-test on OpenZFS 2.3.2.
    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/zfs-2.3.2/selftest/");

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{DIR}{name}")).unwrap()
    }

    #[test]
    fn origin_alloc_from_zpool_list() {
        let list = fixture("list_before.stdout");
        assert_eq!(
            vdev_alloc(&list, "vol0b2bbaafa22850faa").unwrap(),
            280080384
        );
        assert!(vdev_alloc(&list, "AWS0000").is_err());
    }

    #[test]
    fn the_other_vdevs_alloc_leaves_the_origin_out() {
        // Recorded on OpenZFS 2.1.11 right after `zpool add`: the instance stores hold nothing yet.
        let added = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/zfs-2.1.11/states/added_list.stdout"
        ))
        .unwrap();
        assert_eq!(
            other_vdevs_alloc(&added, "vol0b2bbaafa22850faa").unwrap(),
            0
        );
        let before = fixture("list_before.stdout");
        assert_eq!(
            other_vdevs_alloc(&before, "vol0b2bbaafa22850faa").unwrap(),
            0
        );
        assert_eq!(other_vdevs_alloc(&before, "AWS").unwrap(), 280080384);
    }

    #[test]
    fn after_the_removal_2_1_lists_the_indirect_vdev_without_alloc() {
        // Recorded by `zevac-bench lab record` from a self-test on OpenZFS 2.1.11.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/zfs-2.1.11/selftest/");
        let read = |name: &str| std::fs::read_to_string(format!("{dir}{name}")).unwrap();
        let serial = "vol0b2bbaafa22850faa";
        let after = read("list_after.stdout");
        assert!(after.contains("\tindirect-0\t-\t-"), "{after}");
        let grown = other_vdevs_alloc(&after, serial).unwrap()
            - other_vdevs_alloc(&read("list_added.stdout"), serial).unwrap();
        assert_eq!(grown, 131190784 + 149200896);
        let origin = vdev_alloc(&read("list_before.stdout"), serial).unwrap();
        assert!(grown >= origin * 9 / 10 && grown <= origin * 11 / 10);
        assert!(vdev_alloc(&after, serial).is_err(), "the EBS vdev is gone");
    }

    #[test]
    fn removal_stats_from_status_json() {
        let stats = removal_stats(&fixture("status_json.stdout")).unwrap();
        assert_eq!(stats.state, "FINISHED");
        assert_eq!(stats.copied, stats.to_copy);
        assert_eq!(stats.copied, 279658496);
        assert_eq!(stats.end_time - stats.start_time, 9);
    }

    #[test]
    fn scrub_errors_from_status() {
        assert_eq!(scrub_errors(&fixture("status_scrubbed.stdout")).unwrap(), 0);
        // Before any scrub there is no scan line: that is an error, not zero errors.
        assert!(scrub_errors(&fixture("status_removed.stdout")).is_err());
    }
}

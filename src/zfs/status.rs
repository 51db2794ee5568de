//! A pool's topology and removal state, as zevac needs them, and their parser from OpenZFS 2.3's
//! `zpool status -j --json-int -p -g`.
//!
//! Why `-g`: the JSON writer (`fill_vdev_info` in `cmd/zpool/zpool_main.c`) adds a vdev's type,
//! guid, path, class and state only after looking the vdev up again by the name it prints
//! (`zpool_find_vdev`). For a vdev ZFS made on a whole disk that name is the path's last
//! component with the partition suffix stripped, and the lookup appends a suffix again
//! (`zfs_strcmp_pathname`, `zfs_append_partition`: `-part1`, `p1` or `1`). A device whose name
//! has no such suffix, such as zevac's snapshot `/dev/mapper/zevac-origin` of a whole-disk
//! pool's partition, is then not found, and its entry holds only its name and counters. With
//! `-g` the printed name is the guid, which the lookup always finds.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// What a top-level vdev is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VdevKind {
    Disk,
    File,
    Mirror,
    Raidz,
    Draid,
    Other(String),
}

impl VdevKind {
    pub fn from_type(t: &str) -> Self {
        match t {
            "disk" => Self::Disk,
            "file" => Self::File,
            "mirror" => Self::Mirror,
            "raidz" => Self::Raidz,
            "draid" => Self::Draid,
            other => Self::Other(other.to_string()),
        }
    }

    /// The vdev kind from its name in `zpool status` (`raidz1-0`, `mirror-1`, `draid2:...`, a device).
    pub fn from_name(name: &str) -> Self {
        if name.starts_with("raidz") {
            Self::Raidz
        } else if name.starts_with("draid") {
            Self::Draid
        } else if name.starts_with("mirror") {
            Self::Mirror
        } else if name.starts_with('/') && !name.starts_with("/dev/") {
            Self::File
        } else {
            Self::Disk
        }
    }
}

/// The allocation class of a top-level vdev.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VdevClass {
    Normal,
    Special,
    Dedup,
    Log,
    Cache,
    Spare,
}

impl VdevClass {
    pub fn from_json(class: &str) -> Self {
        match class {
            "special" => Self::Special,
            "dedup" => Self::Dedup,
            "log" | "logs" => Self::Log,
            "l2cache" | "cache" => Self::Cache,
            "spare" | "spares" => Self::Spare,
            _ => Self::Normal,
        }
    }

    /// The word `zpool add` takes before devices of this class; none for the normal class.
    pub fn zpool_word(self) -> Option<&'static str> {
        match self {
            Self::Normal => None,
            Self::Special => Some("special"),
            Self::Dedup => Some("dedup"),
            Self::Log => Some("log"),
            Self::Cache => Some("cache"),
            Self::Spare => Some("spare"),
        }
    }
}

/// A top-level vdev (or cache/spare device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopVdev {
    /// How zevac names it: a leaf's device path; a mirror's or raidz's name in the text form
    /// (`raidz1-0`), or its type and guid from the JSON (`raidz 1378...`).
    pub name: String,
    /// The device path for a leaf (`/dev/disk/by-id/...`), `None` for mirrors/raidz.
    pub path: Option<String>,
    pub kind: VdevKind,
    pub class: VdevClass,
    /// Allocated and total bytes (`None` for cache and spare devices).
    pub alloc: Option<u64>,
    pub size: Option<u64>,
    /// ZFS is evacuating this vdev.
    pub removing: bool,
    /// Device paths (or names) of the leaves under it.
    pub leaves: Vec<String>,
}

/// Where a device removal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalState {
    InProgress,
    Finished,
    Canceled,
}

/// The pool's last (or current) device removal.
#[derive(Debug, Clone, PartialEq)]
pub struct Removal {
    pub state: RemovalState,
    /// The removed vdev's path, when ZFS still says it (2.3 JSON; 2.1 text while running or canceled).
    pub path: Option<String>,
    pub copied: u64,
    pub to_copy: u64,
    /// Epoch seconds (JSON only).
    pub start_time: Option<u64>,
    pub end_time: Option<u64>,
    pub mapping_memory: Option<u64>,
}

impl Removal {
    /// Percent of the bytes to copy that are copied (0 before ZFS knows the total).
    pub fn percent(&self) -> f64 {
        if self.to_copy > 0 {
            self.copied as f64 * 100.0 / self.to_copy as f64
        } else {
            0.0
        }
    }
}

/// A pool's state as `zpool status` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolStatus {
    pub name: String,
    pub vdevs: Vec<TopVdev>,
    pub removal: Option<Removal>,
}

impl PoolStatus {
    /// The top-level vdev whose path is `path`, or whose leaves include it.
    pub fn vdev_with_path(&self, path: &str) -> Option<&TopVdev> {
        self.vdevs
            .iter()
            .find(|v| v.path.as_deref() == Some(path) || v.leaves.iter().any(|l| l == path))
    }
}

#[derive(Deserialize)]
struct JsonStatus {
    pools: BTreeMap<String, JsonPool>,
}

#[derive(Deserialize)]
struct JsonPool {
    removal_stats: Option<JsonRemoval>,
    vdevs: BTreeMap<String, JsonVdev>,
    #[serde(default)]
    l2cache: BTreeMap<String, JsonVdev>,
    #[serde(default)]
    spares: BTreeMap<String, JsonVdev>,
    #[serde(default)]
    logs: BTreeMap<String, JsonVdev>,
}

#[derive(Deserialize)]
struct JsonRemoval {
    /// The removed vdev's full path (printed with `VDEV_NAME_PATH`), or `indirect` once done.
    name: Option<String>,
    path: Option<String>,
    state: String,
    start_time: u64,
    end_time: u64,
    to_copy: u64,
    copied: u64,
    mapping_memory: u64,
}

#[derive(Deserialize)]
struct JsonVdev {
    name: String,
    /// Absent when libzfs could not look the vdev up by its printed name (see the module's doc).
    vdev_type: Option<String>,
    path: Option<String>,
    class: Option<String>,
    alloc_space: Option<u64>,
    total_space: Option<u64>,
    #[serde(default)]
    removing: u8,
    #[serde(default)]
    vdevs: BTreeMap<String, JsonVdev>,
}

impl JsonVdev {
    fn leaves(&self) -> Vec<String> {
        if self.vdevs.is_empty() {
            return vec![self.path.clone().unwrap_or_else(|| self.name.clone())];
        }
        self.vdevs.values().flat_map(JsonVdev::leaves).collect()
    }

    fn top(&self, class: VdevClass) -> Result<TopVdev> {
        let Some(vdev_type) = &self.vdev_type else {
            bail!(
                "`zpool status -j`: vdev {} has no type or path (libzfs could not find it by the \
                 name it printed; run with -g)",
                self.name
            );
        };
        let name = match (&self.path, self.vdevs.is_empty()) {
            (Some(path), true) => path.clone(),
            _ if self.name.bytes().all(|b| b.is_ascii_digit()) => {
                format!("{vdev_type} {}", self.name)
            }
            _ => self.name.clone(),
        };
        Ok(TopVdev {
            name,
            path: self.path.clone(),
            kind: VdevKind::from_type(vdev_type),
            class: self.class.as_deref().map_or(class, VdevClass::from_json),
            // The JSON leaves alloc_space out when it is 0 (a vdev just added).
            alloc: self.alloc_space.or(self.total_space.map(|_| 0)),
            size: self.total_space,
            removing: self.removing != 0,
            leaves: self.leaves(),
        })
    }
}

/// Parses `zpool status -j --json-int -p -g POOL`.
pub fn from_json(json: &str, pool: &str) -> Result<PoolStatus> {
    let status: JsonStatus = serde_json::from_str(json).context("parsing `zpool status -j`")?;
    let p = status
        .pools
        .get(pool)
        .with_context(|| format!("`zpool status -j` has no pool {pool}"))?;
    let root = p
        .vdevs
        .get(pool)
        .with_context(|| format!("`zpool status -j`: pool {pool} has no root vdev"))?;
    let mut vdevs: Vec<TopVdev> = root
        .vdevs
        .values()
        .map(|v| v.top(VdevClass::Normal))
        .collect::<Result<_>>()?;
    for (map, class) in [
        (&p.logs, VdevClass::Log),
        (&p.l2cache, VdevClass::Cache),
        (&p.spares, VdevClass::Spare),
    ] {
        for v in map.values() {
            vdevs.push(v.top(class)?);
        }
    }
    let removal = p
        .removal_stats
        .as_ref()
        .map(|r| {
            let state = match r.state.as_str() {
                "SCANNING" => RemovalState::InProgress,
                "FINISHED" => RemovalState::Finished,
                "CANCELED" => RemovalState::Canceled,
                other => bail!("unknown removal state {other:?}"),
            };
            Ok(Removal {
                state,
                path: r
                    .path
                    .clone()
                    .or_else(|| r.name.clone().filter(|n| n.starts_with('/'))),
                copied: r.copied,
                to_copy: r.to_copy,
                start_time: Some(r.start_time),
                end_time: (r.end_time != 0).then_some(r.end_time),
                mapping_memory: Some(r.mapping_memory),
            })
        })
        .transpose()?;
    Ok(PoolStatus {
        name: pool.to_string(),
        vdevs,
        removal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;

    const EBS: &str = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0b2bbaafa22850faa-part2";

    #[test]
    fn imported_pool_has_one_disk_vdev_and_no_removal() {
        let s = from_json(&fixture("2.3.2", "imported_status_json.stdout"), "rpool").unwrap();
        assert_eq!(s.vdevs.len(), 1);
        assert_eq!(s.vdevs[0].path.as_deref(), Some(EBS));
        assert_eq!(s.vdevs[0].kind, VdevKind::Disk);
        assert!(s.vdevs[0].alloc.unwrap() > 256 << 20);
        assert!(s.removal.is_none());
    }

    #[test]
    fn removal_states_from_json() {
        let removing =
            from_json(&fixture("2.3.2", "removing_status_json.stdout"), "rpool").unwrap();
        let r = removing.removal.as_ref().unwrap();
        assert_eq!(r.state, RemovalState::InProgress);
        assert_eq!(r.path.as_deref(), Some(EBS));
        assert!(removing.vdev_with_path(EBS).unwrap().removing);
        assert_eq!(removing.vdevs.len(), 3);

        let done = from_json(&fixture("2.3.2", "finished_status_json.stdout"), "rpool").unwrap();
        let r = done.removal.clone().unwrap();
        assert_eq!(r.state, RemovalState::Finished);
        assert_eq!(r.copied, r.to_copy);
        assert!(
            done.vdev_with_path(EBS).is_none(),
            "the origin is gone after the removal"
        );

        let canceled =
            from_json(&fixture("2.3.2", "canceled_status_json.stdout"), "rpool").unwrap();
        assert_eq!(canceled.removal.unwrap().state, RemovalState::Canceled);
    }

    #[test]
    fn raidz_is_seen() {
        let s = from_json(&fixture("2.3.2", "raidz_status_json.stdout"), "tank").unwrap();
        assert_eq!(s.vdevs.len(), 1);
        assert_eq!(s.vdevs[0].kind, VdevKind::Raidz);
        assert_eq!(s.vdevs[0].leaves.len(), 3);
    }

    /// nixpkgs' whole-disk pool `tank` reached through zevac's snapshot, mid-copy, recorded on
    /// 2.3.2 (`tests/guest/apply.sh`). Without `-g` the snapshot vdev's entry has only its name
    /// (`zevac-origin`) and counters: the parser says so rather than guess. With `-g` it is
    /// complete, and the removal names it by its path.
    #[test]
    fn a_whole_disk_vdev_through_the_snapshot_is_complete_only_by_guid() {
        let rec = |name: &str| crate::testing::fixture_in("2.3.2", "whole-disk", name);
        let short = rec("applied_status_json_short.stdout");
        assert!(short.contains(r#""name":"zevac-origin""#), "{short}");
        let err = from_json(&short, "tank").unwrap_err().to_string();
        assert!(
            err.contains("vdev zevac-origin has no type or path"),
            "{err}"
        );
        let s = from_json(&rec("applied_status_json.stdout"), "tank").unwrap();
        let origin = s.vdev_with_path(SNAPSHOT).unwrap();
        assert_eq!(origin.name, SNAPSHOT);
        assert_eq!(origin.kind, VdevKind::Disk);
        assert!(origin.removing);
        assert_eq!(s.removal.unwrap().path.as_deref(), Some(SNAPSHOT));
        // The instance stores: the partitions zevac made.
        assert_eq!(s.vdevs.len(), 3, "{:?}", s.vdevs);
        assert!(s
            .vdevs
            .iter()
            .filter(|v| !v.removing)
            .all(|v| v.path.as_deref().is_some_and(|p| p.ends_with("-part1"))));
    }

    const SNAPSHOT: &str = "/dev/mapper/zevac-origin";
}

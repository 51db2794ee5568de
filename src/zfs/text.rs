//! Strict parsers of OpenZFS' text output, for 2.1/2.2 (no `-j`): `zpool status -p -P`,
//! `zpool list -Hpv -P` and `zdb -l`. Anything unexpected is an error, never a guess.
//!
//! `-P`: without it libzfs prints a device's last path component, and for a vdev made on a
//! whole disk it also strips the partition ZFS made (`zfs_strip_partition`), so the name says
//! the disk (`nvme-...`) where the labels are on its `-part1`.

use anyhow::{bail, Context, Result};

use super::status::{PoolStatus, Removal, RemovalState, TopVdev, VdevClass, VdevKind};

/// Bytes from a `zpool status` size such as `267M`, `1.50K` or `0B` (base 1024; rounded).
pub fn human_bytes(s: &str) -> Result<u64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let n: f64 = num.parse().with_context(|| format!("size {s:?}"))?;
    let shift = match unit {
        "" | "B" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        "P" => 50,
        _ => bail!("size {s:?}: unknown unit"),
    };
    Ok((n * (1u64 << shift) as f64).round() as u64)
}

/// The `remove:` section of `zpool status`.
fn removal(text: &str) -> Result<Option<Removal>> {
    let mut lines = text.lines();
    let Some(head) = lines
        .by_ref()
        .find(|l| l.trim_start().starts_with("remove:"))
    else {
        return Ok(None);
    };
    let head = head.trim_start().trim_start_matches("remove:").trim();
    let next = lines.next().unwrap_or("").trim();
    let removal = |state, path: Option<&str>, copied, to_copy| Removal {
        state,
        path: path.map(str::to_string),
        copied,
        to_copy,
        start_time: None,
        end_time: None,
        mapping_memory: None,
    };
    if let Some(rest) = head.strip_prefix("Evacuation of ") {
        // "Evacuation of PATH in progress since DATE" / "226M copied out of 267M at 6.85M/s, ..."
        let path = rest
            .split(" in progress since")
            .next()
            .context("remove: line")?;
        let mut words = next.split_whitespace();
        let copied = human_bytes(words.next().context("remove progress line")?)?;
        let to_copy = human_bytes(words.nth(3).context("remove progress line")?)?;
        if !next.contains(" copied out of ") {
            bail!("unexpected removal progress line {next:?}");
        }
        return Ok(Some(removal(
            RemovalState::InProgress,
            Some(path),
            copied,
            to_copy,
        )));
    }
    if let Some(rest) = head.strip_prefix("Removal of ") {
        if let Some((path, _)) = rest.split_once(" canceled on ") {
            return Ok(Some(removal(RemovalState::Canceled, Some(path), 0, 0)));
        }
        // "Removal of vdev 0 copied 267M in 0h0m, completed on DATE"
        if rest.contains(", completed on ") {
            let copied = rest
                .split(" copied ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .context("remove: line")?;
            let copied = human_bytes(copied)?;
            return Ok(Some(removal(RemovalState::Finished, None, copied, copied)));
        }
    }
    bail!("unexpected `remove:` line {head:?}")
}

/// One row of the `config:` tree: depth (0 = the pool or a class heading) and name.
fn config_rows(text: &str) -> Result<Vec<(usize, String, bool)>> {
    let mut rows = Vec::new();
    let mut in_config = false;
    for line in text.lines() {
        if line.starts_with("config:") {
            in_config = true;
            continue;
        }
        if !in_config {
            continue;
        }
        if line.starts_with("errors:") {
            break;
        }
        let Some(body) = line.strip_prefix('\t') else {
            continue;
        };
        if body.trim().is_empty() || body.trim_start().starts_with("NAME ") {
            continue;
        }
        let indent = body.len() - body.trim_start().len();
        if indent % 2 != 0 {
            bail!("unexpected indentation in `zpool status`: {line:?}");
        }
        let name = body
            .split_whitespace()
            .next()
            .context("empty config row")?
            .to_string();
        rows.push((indent / 2, name, body.trim_end().ends_with("(removing)")));
    }
    if rows.is_empty() {
        bail!("`zpool status` has no config section");
    }
    Ok(rows)
}

/// `(name, size, alloc)` of the top-level rows of `zpool list -Hpv` (indented by one tab).
fn list_vdevs(list: &str) -> Vec<(String, Option<u64>, Option<u64>)> {
    list.lines()
        .filter_map(|l| l.strip_prefix('\t'))
        .filter(|l| !l.starts_with('\t'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let num = |i: usize| f.get(i).and_then(|v| v.parse().ok());
            (f[0].to_string(), num(1), num(2))
        })
        .collect()
}

/// Builds a [`PoolStatus`] from `zpool status -p -P POOL` and `zpool list -Hpv -P POOL` text.
pub fn status_from_text(status: &str, list: &str, pool: &str) -> Result<PoolStatus> {
    let rows = config_rows(status)?;
    let sizes = list_vdevs(list);
    let mut vdevs: Vec<TopVdev> = Vec::new();
    let mut class = None;
    for (depth, name, removing) in rows {
        match depth {
            0 if name == pool => class = Some(VdevClass::Normal),
            0 => {
                class = Some(match name.as_str() {
                    "special" => VdevClass::Special,
                    "dedup" => VdevClass::Dedup,
                    "logs" => VdevClass::Log,
                    "cache" => VdevClass::Cache,
                    "spares" => VdevClass::Spare,
                    other => bail!("unexpected heading {other:?} in `zpool status`"),
                })
            }
            1 => {
                let class = class.context("a vdev before the pool in `zpool status`")?;
                let kind = VdevKind::from_name(&name);
                let (size, alloc) = sizes
                    .iter()
                    .find(|(n, ..)| *n == name)
                    .map_or((None, None), |(_, s, a)| (*s, *a));
                let path = match kind {
                    VdevKind::Disk | VdevKind::File => device_path(&name)?,
                    _ => None,
                };
                vdevs.push(TopVdev {
                    leaves: path.clone().into_iter().collect(),
                    path,
                    name,
                    kind,
                    class,
                    alloc,
                    size,
                    removing,
                });
            }
            _ => {
                let top = vdevs
                    .last_mut()
                    .context("a leaf before its vdev in `zpool status`")?;
                top.leaves.extend(device_path(&name)?);
            }
        }
    }
    let removal = removal(status)?;
    // 2.3 marks the vdev "(removing)"; 2.1 does not, and names it only in the `remove:` line.
    if let Some(Removal {
        state,
        path: Some(path),
        ..
    }) = &removal
    {
        for v in vdevs.iter_mut().filter(|v| v.path.as_ref() == Some(path)) {
            v.removing = *state == RemovalState::InProgress;
        }
    }
    Ok(PoolStatus {
        name: pool.to_string(),
        vdevs,
        removal,
    })
}

/// The path of a device row: with `-P` it is the row's name; a device ZFS cannot open is
/// named by its guid and has none. A short name is refused rather than guessed: it may lack a
/// whole disk's partition suffix.
fn device_path(name: &str) -> Result<Option<String>> {
    if name.starts_with('/') {
        Ok(Some(name.to_string()))
    } else if name.bytes().all(|b| b.is_ascii_digit()) {
        Ok(None)
    } else {
        bail!("`zpool status -P` names a device {name:?} without its path")
    }
}

/// The top-level vdev's `ashift` from `zdb -l` output.
pub fn label_ashift(text: &str) -> Result<u32> {
    let mut in_tree = false;
    for line in text.lines() {
        let t = line.trim();
        if t == "vdev_tree:" {
            in_tree = true;
        } else if in_tree {
            if let Some(v) = t.strip_prefix("ashift: ") {
                return v.parse().with_context(|| format!("ashift {v:?}"));
            }
        }
    }
    bail!("no ashift in the vdev tree of the label")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fixture, fixture_in};

    #[test]
    fn sizes() {
        assert_eq!(human_bytes("267M").unwrap(), 267 << 20);
        assert_eq!(human_bytes("1.50K").unwrap(), 1536);
        assert_eq!(human_bytes("0B").unwrap(), 0);
        assert!(human_bytes("12Q").is_err());
    }

    #[test]
    fn ashift_from_the_label() {
        assert_eq!(
            label_ashift(&fixture("2.3.2", "zdb_label.stdout")).unwrap(),
            12
        );
        assert!(label_ashift("failed to unpack label 0").is_err());
    }

    /// OpenZFS 2.1.11's text, in every recorded state.
    #[test]
    fn states_from_2_1_text() {
        let parse = |state: &str| {
            status_from_text(
                &fixture("2.1.11", &format!("{state}_status.stdout")),
                &fixture("2.1.11", &format!("{state}_list.stdout")),
                "rpool",
            )
            .unwrap()
        };
        let imported = parse("imported");
        assert_eq!(imported.vdevs.len(), 1);
        assert!(imported.vdevs[0].alloc.unwrap() > 256 << 20);
        assert!(imported.removal.is_none());
        let removing = parse("removing");
        let r = removing.removal.as_ref().unwrap();
        assert_eq!(r.state, RemovalState::InProgress);
        assert_eq!(r.to_copy, 267 << 20);
        assert!(removing.vdevs.iter().filter(|v| v.removing).count() == 1);
        let finished = parse("finished");
        assert_eq!(
            finished.removal.as_ref().unwrap().state,
            RemovalState::Finished
        );
        assert_eq!(finished.vdevs.len(), 2);
        assert_eq!(
            parse("canceled").removal.unwrap().state,
            RemovalState::Canceled
        );
        let raidz =
            status_from_text(&fixture("2.1.11", "raidz_status.stdout"), "", "tank").unwrap();
        assert_eq!(raidz.vdevs[0].kind, VdevKind::Raidz);
        assert_eq!(raidz.vdevs[0].leaves.len(), 3);
        assert_eq!(
            label_ashift(&fixture("2.1.11", "zdb_label.stdout")).unwrap(),
            12
        );
    }

    /// 2.1.11's text with full paths, of nixpkgs' whole-disk pool through zevac's snapshot
    /// mid-copy (`tests/guest/apply.sh`): the snapshot vdev, and the instance stores' partitions.
    #[test]
    fn a_whole_disk_pool_through_the_snapshot_on_2_1() {
        let rec = |name: &str| fixture_in("2.1.11", "whole-disk", name);
        let s = status_from_text(
            &rec("applied_status.stdout"),
            &rec("applied_list.stdout"),
            "tank",
        )
        .unwrap();
        let origin = s.vdev_with_path("/dev/mapper/zevac-origin").unwrap();
        assert!(origin.removing, "{s:?}");
        assert!(origin.alloc.unwrap() > 0);
        assert_eq!(s.vdevs.len(), 3);
        assert_eq!(
            s.removal.unwrap().path.as_deref(),
            Some("/dev/mapper/zevac-origin")
        );
        // A short name is refused, not guessed into a path.
        let short =
            rec("applied_status.stdout").replace("/dev/mapper/zevac-origin", "zevac-origin");
        assert!(status_from_text(&short, &rec("applied_list.stdout"), "tank").is_err());
    }

    /// The text parser agrees with the JSON one on every recorded 2.3 state.
    #[test]
    fn text_and_json_agree_on_2_3() {
        for state in [
            "imported",
            "added",
            "removing",
            "paused",
            "finished",
            "canceled",
            "checkpointed",
        ] {
            let text = status_from_text(
                &fixture("2.3.2", &format!("{state}_status.stdout")),
                &fixture("2.3.2", &format!("{state}_list.stdout")),
                "rpool",
            )
            .unwrap();
            let json = super::super::status::from_json(
                &fixture("2.3.2", &format!("{state}_status_json.stdout")),
                "rpool",
            )
            .unwrap();
            // Both name a leaf by its full path (a whole disk's `-part1` included).
            let key = |s: &PoolStatus| {
                let mut k: Vec<_> = s
                    .vdevs
                    .iter()
                    .map(|v| {
                        (
                            v.name.clone(),
                            v.path.clone(),
                            v.kind.clone(),
                            v.removing,
                            v.alloc,
                        )
                    })
                    .collect();
                k.sort_by(|a, b| a.0.cmp(&b.0));
                k
            };
            assert_eq!(key(&text), key(&json), "{state}");
            assert_eq!(
                text.removal.as_ref().map(|r| r.state),
                json.removal.as_ref().map(|r| r.state),
                "{state}"
            );
        }
    }
}

/// What the `scan:` line of `zpool status` says about the last scrub (the same text on 2.1 and
/// 2.3; JSON would be 2.3 only).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Scrub {
    /// No scrub (or the last scan was a resilver).
    None,
    Running,
    /// Done: bytes repaired and errors found.
    Finished {
        repaired: u64,
        errors: u64,
    },
    Canceled,
}

/// Reads the `scan:` line of `zpool status POOL`.
pub fn scrub_from_status(status: &str) -> Result<Scrub> {
    let Some(line) = status
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("scan:"))
        .map(str::trim)
    else {
        return Ok(Scrub::None);
    };
    if !line.starts_with("scrub") {
        return Ok(Scrub::None);
    }
    if line.starts_with("scrub in progress") || line.starts_with("scrub paused") {
        return Ok(Scrub::Running);
    }
    if line.starts_with("scrub canceled") {
        return Ok(Scrub::Canceled);
    }
    // "scrub repaired 0B in 00:00:02 with 0 errors on Sun Nov 22 08:30:04 2026"
    let words: Vec<&str> = line.split_whitespace().collect();
    let after = |w: &str| {
        words
            .iter()
            .position(|x| *x == w)
            .and_then(|i| words.get(i + 1))
    };
    let repaired = after("repaired").with_context(|| format!("unexpected scan line {line:?}"))?;
    let errors = after("with").with_context(|| format!("unexpected scan line {line:?}"))?;
    Ok(Scrub::Finished {
        repaired: human_bytes(repaired)?,
        errors: errors
            .parse()
            .with_context(|| format!("unexpected scan line {line:?}"))?,
    })
}

#[cfg(test)]
mod scrub_tests {
    use super::*;
    use crate::testing::fixture_in;

    #[test]
    fn a_recorded_clean_scrub() {
        let text = fixture_in("2.3.2", "selftest", "status_scrubbed.stdout");
        assert_eq!(
            scrub_from_status(&text).unwrap(),
            Scrub::Finished {
                repaired: 0,
                errors: 0
            }
        );
        let before = fixture_in("2.3.2", "selftest", "status_removed.stdout");
        assert_eq!(scrub_from_status(&before).unwrap(), Scrub::None);
    }
}

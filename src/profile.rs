//! Tunables profiles (`zfs-profiles/*.toml`): for each phase of an evacuation, the OpenZFS
//! module parameters to set, plus an optional bandwidth cap for the copy and a delay before the
//! steady phase. Shipped in the binary; a file `NAME.toml` in the profile directory overrides
//! (or adds) one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::units::ConfigError;
pub use crate::units::{Cap, Rate};

/// The profiles built into zevac, by name.
pub const SHIPPED: [(&str, &str); 3] = [
    ("gentle", include_str!("../zfs-profiles/gentle.toml")),
    ("balanced", include_str!("../zfs-profiles/balanced.toml")),
    ("fast", include_str!("../zfs-profiles/fast.toml")),
];

/// The phases of an evacuation, in order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Set by `zevac apply` in the initrd, before `zpool remove`.
    Boot,
    /// From when the system is up (after `steady_delay`) until the copy ends.
    Steady,
    /// During the scrub that verifies the copy.
    Verify,
}

impl Phase {
    pub const ALL: [Phase; 3] = [Phase::Boot, Phase::Steady, Phase::Verify];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Boot => "boot",
            Phase::Steady => "steady",
            Phase::Verify => "verify",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// A module parameter a profile may set, and the values it accepts.
pub struct ParamSpec {
    pub name: &'static str,
    pub min: u64,
    pub max: u64,
    pub what: &'static str,
}

/// Every parameter a profile may set. They exist in OpenZFS 2.1 and 2.3 alike; a module that
/// lacks one is reported when the phase is applied. `zfs_removal_suspend_progress` is zevac's own
/// (the cap controller and the import pause) and `zfs_removal_ignore_errors` is never set.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "zfs_vdev_removal_max_active",
        min: 1,
        max: 1000,
        what: "removal I/Os per queue when nothing else runs (the main rate knob)",
    },
    ParamSpec {
        name: "zfs_vdev_removal_min_active",
        min: 0,
        max: 1000,
        what: "removal I/Os per queue while other I/O runs",
    },
    ParamSpec {
        name: "zfs_remove_max_segment",
        min: 4096,
        max: 16 << 20,
        what: "largest copy chunk, bytes",
    },
    ParamSpec {
        name: "vdev_removal_max_span",
        min: 0,
        max: 16 << 20,
        what: "free gap copied to merge two segments, bytes",
    },
    ParamSpec {
        // Queued copy reads are merged up to this size (128 KiB on SSDs and EBS, OpenZFS's
        // default), whatever `zfs_remove_max_segment` is: a foreground read waits behind one such
        // merged read. Global: it applies to every vdev while the phase lasts.
        name: "zfs_vdev_aggregation_limit_non_rotating",
        min: 0,
        max: 16 << 20,
        what: "largest merged I/O on non-rotating disks, bytes (0: no merging)",
    },
    ParamSpec {
        name: "zfs_vdev_scrub_max_active",
        min: 1,
        max: 1000,
        what: "scrub I/Os per queue when nothing else runs",
    },
    ParamSpec {
        name: "zfs_vdev_scrub_min_active",
        min: 0,
        max: 1000,
        what: "scrub I/Os per queue while other I/O runs",
    },
    ParamSpec {
        name: "zfs_scan_vdev_limit",
        min: 1 << 16,
        max: 1 << 30,
        what: "scrub bytes in flight per leaf vdev",
    },
    ParamSpec {
        name: "zfs_scrub_min_time_ms",
        min: 1,
        max: 60_000,
        what: "least time a txg spends scrubbing",
    },
    ParamSpec {
        name: "zfs_resilver_min_time_ms",
        min: 1,
        max: 60_000,
        what: "least time a txg spends resilvering",
    },
    ParamSpec {
        name: "zfs_txg_timeout",
        min: 1,
        max: 300,
        what: "seconds between txg syncs (the copied counter moves at each)",
    },
    ParamSpec {
        name: "zfs_vdev_max_active",
        min: 1,
        max: 100_000,
        what: "I/Os in flight per leaf vdev, all classes",
    },
];

/// Parameters no profile may set, and why.
const FORBIDDEN: &[(&str, &str)] = &[
    (
        "zfs_removal_ignore_errors",
        "it lets a removal finish past read errors and can damage the pool for good",
    ),
    (
        "zfs_removal_suspend_progress",
        "zevac drives it itself (the import pause and the bandwidth cap)",
    ),
];

/// The profile file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    description: String,
    cap: Option<Cap>,
    steady_delay: Option<String>,
    #[serde(default = "default_apply")]
    apply: BTreeMap<String, u64>,
    #[serde(default)]
    boot: BTreeMap<String, u64>,
    #[serde(default)]
    steady: BTreeMap<String, u64>,
    #[serde(default)]
    verify: BTreeMap<String, u64>,
}

/// What a profile without an `[apply]` table sets while `apply` changes the pool: the shortest
/// txg timeout. The first configuration change after `zpool add` (`zpool remove`, or setting
/// `allocating=off`) waits in `spa_reset_logs` for the open txg to sync by its timeout, because
/// nothing asks for that sync (docs/usage.md says where in OpenZFS); an empty `[apply]` keeps
/// OpenZFS's timeout.
fn default_apply() -> BTreeMap<String, u64> {
    BTreeMap::from([("zfs_txg_timeout".to_string(), 1)])
}

/// A checked profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub name: String,
    pub description: String,
    /// Where it came from: `built-in` or a file path.
    pub source: String,
    pub cap: Option<Cap>,
    #[serde(with = "humantime_serde_secs")]
    pub steady_delay: Duration,
    /// Set while `apply` changes the pool's configuration, then put back (not a phase: it ends
    /// with `apply`'s steps).
    pub apply: BTreeMap<String, u64>,
    pub boot: BTreeMap<String, u64>,
    pub steady: BTreeMap<String, u64>,
    pub verify: BTreeMap<String, u64>,
}

/// Durations shown as humantime text in JSON.
mod humantime_serde_secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

impl Profile {
    /// Parses and checks a profile; errors say which key is wrong and why.
    pub fn parse(name: &str, source: &str, text: &str) -> Result<Self> {
        let file: ProfileFile = toml::from_str(text)
            .map_err(|e| ConfigError(format!("profile {name} ({source}): {e}")))?;
        let steady_delay = match &file.steady_delay {
            None => Duration::ZERO,
            Some(s) => humantime::parse_duration(s).map_err(|e| {
                ConfigError(format!(
                    "profile {name} ({source}): steady_delay {s:?}: {e}"
                ))
            })?,
        };
        let profile = Profile {
            name: name.to_string(),
            description: file.description,
            source: source.to_string(),
            cap: file.cap,
            steady_delay,
            apply: file.apply,
            boot: file.boot,
            steady: file.steady,
            verify: file.verify,
        };
        for (table, params) in profile.tables() {
            check_phase(params)
                .map_err(|e| ConfigError(format!("profile {name} ({source}), [{table}]: {e:#}")))?;
        }
        Ok(profile)
    }

    pub fn phase(&self, phase: Phase) -> &BTreeMap<String, u64> {
        match phase {
            Phase::Boot => &self.boot,
            Phase::Steady => &self.steady,
            Phase::Verify => &self.verify,
        }
    }

    /// Each table of parameters with its name: `[apply]`, then the phases in order.
    pub fn tables(&self) -> impl Iterator<Item = (&'static str, &BTreeMap<String, u64>)> {
        std::iter::once(("apply", &self.apply))
            .chain(Phase::ALL.map(|phase| (phase.name(), self.phase(phase))))
    }

    /// Every parameter any table sets (what a restore must cover).
    pub fn all_params(&self) -> impl Iterator<Item = &str> {
        self.tables()
            .flat_map(|(_, params)| params.keys())
            .map(String::as_str)
    }
}

fn check_phase(params: &BTreeMap<String, u64>) -> Result<()> {
    for (name, &value) in params {
        if let Some((_, why)) = FORBIDDEN.iter().find(|(n, _)| n == name) {
            bail!("{name} may not be set by a profile: {why}");
        }
        let Some(spec) = PARAMS.iter().find(|p| p.name == name) else {
            let known: Vec<&str> = PARAMS.iter().map(|p| p.name).collect();
            bail!("unknown parameter {name} (known: {})", known.join(", "));
        };
        if !(spec.min..=spec.max).contains(&value) {
            bail!(
                "{name} = {value} is out of range {}..={}",
                spec.min,
                spec.max
            );
        }
    }
    for (min, max) in [
        ("zfs_vdev_removal_min_active", "zfs_vdev_removal_max_active"),
        ("zfs_vdev_scrub_min_active", "zfs_vdev_scrub_max_active"),
    ] {
        if let (Some(lo), Some(hi)) = (params.get(min), params.get(max)) {
            if lo > hi {
                bail!("{min} = {lo} is above {max} = {hi}");
            }
        }
    }
    Ok(())
}

/// The shipped profiles with the files in `dir` laid over them (a missing directory is fine).
pub fn all(dir: &Path) -> Result<BTreeMap<String, Profile>> {
    let mut out = BTreeMap::new();
    for (name, text) in SHIPPED {
        out.insert(name.to_string(), Profile::parse(name, "built-in", text)?);
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(ConfigError(format!("cannot read {}: {e}", dir.display())).into()),
    };
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".toml"))
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        out.insert(
            name.to_string(),
            Profile::parse(name, &path.display().to_string(), &text)?,
        );
    }
    Ok(out)
}

/// The profile called `name`.
pub fn find(dir: &Path, name: &str) -> Result<Profile> {
    let mut all = all(dir)?;
    let names: Vec<String> = all.keys().cloned().collect();
    all.remove(name).ok_or_else(|| {
        ConfigError(format!(
            "no profile named {name:?} (there are: {}; files go in {})",
            names.join(", "),
            dir.display()
        ))
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Profile> {
        Profile::parse("t", "test", text)
    }

    #[test]
    fn shipped_profiles_parse_and_differ() {
        let all = all(Path::new("/nonexistent")).unwrap();
        assert_eq!(
            all.keys().collect::<Vec<_>>(),
            ["balanced", "fast", "gentle"]
        );
        let gentle = &all["gentle"];
        assert_eq!(gentle.cap, Some(Cap::Share(50)));
        assert_eq!(gentle.steady_delay, Duration::from_secs(60));
        let depth = |p: &Profile| p.steady["zfs_vdev_removal_max_active"];
        assert!(
            depth(gentle) < depth(&all["balanced"])
                && depth(&all["balanced"]) < depth(&all["fast"])
        );
        // gentle's small copy reads only reach the disk small if ZFS does not merge them back.
        for phase in [&gentle.boot, &gentle.steady] {
            assert!(
                phase["zfs_remove_max_segment"] <= phase["zfs_vdev_aggregation_limit_non_rotating"]
                    && phase["zfs_vdev_aggregation_limit_non_rotating"] < 128 << 10
            );
        }
    }

    #[test]
    fn rates_read_as_people_write_them() {
        assert_eq!(Rate::parse("40 MiB/s").unwrap(), Rate(40 << 20));
        assert_eq!(Rate::parse("512KiB/s").unwrap(), Rate(512 << 10));
        assert_eq!(Rate(40 << 20).to_string(), "40 MiB/s");
        for bad in ["40 MiB", "fast/s", "0 MiB/s", "40 MB/s"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn caps_are_a_rate_or_a_share_of_the_origin() {
        assert_eq!(Cap::parse("40 MiB/s").unwrap(), Cap::Rate(Rate(40 << 20)));
        assert_eq!(Cap::parse("50%").unwrap(), Cap::Share(50));
        assert_eq!(Cap::parse(" 25 % ").unwrap(), Cap::Share(25));
        assert_eq!(Cap::Share(50).to_string(), "50%");
        for bad in ["0%", "101%", "half%", "-5%", "40"] {
            assert!(Cap::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Cap::Share(50).resolve(None),
            None,
            "a share waits for the measure"
        );
        assert_eq!(
            Cap::Share(50).resolve(Some(64.0 * 1048576.0)),
            Some(32 << 20)
        );
        assert_eq!(Cap::Rate(Rate(8 << 20)).resolve(None), Some(8 << 20));
    }

    #[test]
    fn bad_profiles_are_refused_with_the_reason() {
        let cases = [
            ("description='x'\n[boot]\nzfs_removal_ignore_errors = 1", "damage the pool"),
            ("description='x'\n[steady]\nzfs_removal_suspend_progress = 1", "drives it itself"),
            ("description='x'\n[boot]\nzfs_vdev_removel_max_active = 1", "unknown parameter zfs_vdev_removel_max_active"),
            ("description='x'\n[verify]\nzfs_vdev_scrub_max_active = 0", "out of range 1..=1000"),
            ("description='x'\n[boot]\nzfs_vdev_removal_max_active = 1\nzfs_vdev_removal_min_active = 2", "is above"),
            ("description='x'\ncap = '40 MB/s'", "is not a rate"),
            ("description='x'\ncap = '150%'", "1% to 100%"),
            ("description='x'\nsteady_delay = 'soon'", "steady_delay"),
            ("description='x'\n[boost]\n", "unknown field `boost`"),
        ];
        for (text, want) in cases {
            let err = format!("{:#}", parse(text).unwrap_err());
            assert!(err.contains(want), "{text:?}: {err}");
            assert!(err.contains("profile t"), "names the profile: {err}");
        }
    }

    #[test]
    fn a_file_overrides_a_shipped_profile_and_adds_new_ones() {
        let dir = std::env::temp_dir().join(format!("zevac-profiles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("balanced.toml"),
            "description = 'mine'\ncap = '10 MiB/s'",
        )
        .unwrap();
        std::fs::write(
            dir.join("night.toml"),
            "description = 'night'\n[steady]\nzfs_txg_timeout = 2",
        )
        .unwrap();
        let all = all(&dir).unwrap();
        assert_eq!(all["balanced"].description, "mine");
        assert_eq!(all["balanced"].cap, Some(Cap::Rate(Rate(10 << 20))));
        assert_eq!(all["night"].steady["zfs_txg_timeout"], 2);
        assert_eq!(all["fast"].source, "built-in");
        let err = format!("{:#}", find(&dir, "nope").unwrap_err());
        assert!(err.contains("balanced, fast, gentle, night"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

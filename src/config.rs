//! The configuration file (`/etc/zevac.toml`; every field has a default) and the kernel command
//! line switches `zevac=off` and `zevac.profile=NAME`.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

pub use crate::units::{parse_size, CapSetting, ConfigError, DiskPattern, Size};

/// The smallest copy-on-write store zevac accepts: 30 times the 1.9 MiB ZFS wrote there during
/// a whole copy in the lab (its label writes, bounded: nothing is allocated on a vdev under
/// removal).
pub const MIN_COW_BYTES: u64 = 64 << 20;

/// Where zevac looks for its configuration by default.
pub const DEFAULT_PATH: &str = "/etc/zevac.toml";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The root pool.
    pub pool: String,
    pub origin: OriginConfig,
    pub local: LocalConfig,
    pub layout: Layout,
    pub tunables: TunablesConfig,
    pub watch: WatchConfig,
}

/// `[origin]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OriginConfig {
    /// `[]`: the disks cloud rules call network storage (EBS...). Otherwise path patterns.
    pub disks: Vec<DiskPattern>,
    /// How the pool reaches the origin while it is evacuated.
    pub mode: OriginMode,
}

/// `origin.mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OriginMode {
    /// Through a device-mapper snapshot whose copy-on-write store is a partition on a local
    /// disk: EBS is never written, so a boot with blank local disks (stop/start) finds the pool
    /// as it was.
    #[default]
    Immutable,
    /// The EBS partition itself: ZFS writes its labels there and, once the copy is done, the
    /// pool needs the local disks to import (the plain add-then-remove).
    InPlace,
}

impl OriginMode {
    /// Its name, as the configuration spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Immutable => "immutable",
            Self::InPlace => "in-place",
        }
    }
}

/// `[local]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalConfig {
    /// `[]`: the disks cloud rules call local (instance stores...). Otherwise `/dev/disk/by-id`
    /// paths or globs (OpenStack/SCS ephemeral disks have no telling model).
    pub disks: Vec<DiskPattern>,
    /// Use local disks that are not blank (their contents are destroyed).
    pub allow_wipe: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Layout {
    /// A special-vdev partition of this size on every local disk (`"0"`: none), e.g. `"8GiB"`.
    pub special_size: Size,
    /// An L2ARC partition of this size on every local disk (`"0"`: none).
    pub cache_size: Size,
    /// The L2ARC partitions only serve the copy: `zevac watch` removes the cache vdevs once the
    /// copy is verified.
    pub cache_for_copy_only: bool,
    /// The copy-on-write partition of the immutable origin, on the first local disk. ZFS writes
    /// about 2 MiB there during a copy (its labels; lab); a snapshot whose store fills up becomes
    /// invalid, so the default is a hundred times that.
    pub cow_size: Size,
}

/// `[tunables]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TunablesConfig {
    /// The tunables profile: `gentle`, `balanced`, `fast`, or one of `profile_dir`'s files.
    pub profile: String,
    /// Where profile files (`NAME.toml`) override or add to the shipped ones.
    pub profile_dir: String,
    /// A bandwidth cap for the copy in place of the profile's: a rate (`"40 MiB/s"`), a share
    /// of the rate the origin delivers uncapped (`"50%"`), or `"none"`: no cap even if the
    /// profile has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap: Option<CapSetting>,
}

/// The stage-2 watcher (`zevac watch`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchConfig {
    /// A node_exporter textfile to keep up to date (e.g.
    /// `/var/lib/prometheus-node-exporter/zevac.prom`); none by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_file: Option<String>,
    /// How often the watcher reads the pool's progress (`"2s"`).
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// The watcher starts the copy: `apply` starts the removal with the copy paused
    /// (`zfs_removal_suspend_progress`), so the rest of the boot, the root's mounts first, has
    /// EBS to itself, and the first `zevac watch` lets it go. For a boot whose stage 2 runs the
    /// watcher (the NixOS module sets it); without a watcher the copy waits.
    pub starts_copy: bool,
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            metrics_file: None,
            interval: Duration::from_secs(2),
            starts_copy: false,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            pool: "rpool".into(),
            origin: OriginConfig::default(),
            local: LocalConfig::default(),
            layout: Layout::default(),
            tunables: TunablesConfig::default(),
            watch: WatchConfig::default(),
        }
    }
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            special_size: Size(0),
            cache_size: Size(0),
            cache_for_copy_only: false,
            cow_size: Size::mib(256),
        }
    }
}

impl Default for TunablesConfig {
    fn default() -> Self {
        Self {
            profile: "balanced".into(),
            profile_dir: "/etc/zevac/profiles".into(),
            cap: None,
        }
    }
}

impl Config {
    /// Parses TOML text; errors ([`ConfigError`]) name the line and the reason.
    pub fn parse(text: &str) -> Result<Self> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        cfg.validate().map_err(|e| ConfigError(format!("{e:#}")))?;
        Ok(cfg)
    }

    /// Reads `path`; a missing default file means all defaults.
    pub fn load(path: &Path, explicit: bool) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).with_context(|| format!("in {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(Self::default()),
            Err(e) => Err(ConfigError(format!("cannot read {}: {e}", path.display())).into()),
        }
    }

    fn validate(&self) -> Result<()> {
        if self.pool.is_empty() || self.pool.contains(['/', ' ', '@', '#']) {
            bail!("pool: {:?} is not a pool name", self.pool);
        }
        if self.origin.mode == OriginMode::Immutable && self.layout.cow_size.0 < MIN_COW_BYTES {
            bail!(
                "layout.cow_size: the immutable origin needs at least {}MiB of copy-on-write \
                 store. ZFS writes about 2 MiB through the snapshot; a store that fills up \
                 invalidates it, and ZFS then suspends the pool (in the lab a 1 MiB store did, \
                 during zevac apply)",
                MIN_COW_BYTES >> 20
            );
        }
        Ok(())
    }

    /// The profile to use: the kernel command line's `zevac.profile=`, else the config's.
    pub fn profile(&self, cmdline: &Cmdline) -> Result<crate::profile::Profile> {
        let name = cmdline.profile.as_deref().unwrap_or(&self.tunables.profile);
        crate::profile::find(Path::new(&self.tunables.profile_dir), name)
    }

    /// The cap in force: the config's `tunables.cap` if set, else the profile's.
    pub fn cap(&self, profile: &crate::profile::Profile) -> Option<crate::profile::Cap> {
        CapSetting::over(self.tunables.cap, profile.cap)
    }

    pub fn special_bytes(&self) -> u64 {
        self.layout.special_size.0
    }

    pub fn cache_bytes(&self) -> u64 {
        self.layout.cache_size.0
    }

    /// Bytes of the copy-on-write partition: 0 in place.
    pub fn cow_bytes(&self) -> u64 {
        match self.origin.mode {
            OriginMode::Immutable => self.layout.cow_size.0,
            OriginMode::InPlace => 0,
        }
    }

    /// The configuration as a file: what tests and the benchmark write to a guest's
    /// `/etc/zevac.toml`, through the same types zevac reads it with.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a Config always serializes")
    }
}

/// What the kernel command line says to zevac.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmdline {
    /// `zevac=off` (or `=0`, `=no`).
    pub disabled: bool,
    /// `zevac.profile=NAME`.
    pub profile: Option<String>,
}

impl Cmdline {
    pub fn parse(cmdline: &str) -> Self {
        let mut c = Self::default();
        for word in cmdline.split_whitespace() {
            if let Some(v) = word.strip_prefix("zevac=") {
                c.disabled = matches!(v, "off" | "0" | "no" | "false");
            } else if let Some(v) = word.strip_prefix("zevac.profile=") {
                c.profile = Some(v.to_string());
            }
        }
        c
    }

    pub fn read() -> Self {
        Self::parse(&std::fs::read_to_string("/proc/cmdline").unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_a_full_file() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
        let c = Config::parse(
            r#"
pool = "tank"
[local]
disks = ["/dev/disk/by-id/virtio-eph*"]
allow_wipe = true
[layout]
special_size = "8GiB"
cache_size = "0"
"#,
        )
        .unwrap();
        assert_eq!(c.pool, "tank");
        assert!(c.local.allow_wipe);
        assert_eq!(c.special_bytes(), 8 << 30);
        // What tests and the benchmark write is read back as the same configuration.
        assert_eq!(Config::parse(&c.to_toml()).unwrap(), c);
        let mut capped = Config::default();
        capped.tunables.cap = Some(CapSetting::NoCap);
        capped.watch.interval = Duration::from_millis(1500);
        assert_eq!(Config::parse(&capped.to_toml()).unwrap(), capped);
    }

    #[test]
    fn errors_name_the_line_and_reason() {
        let e = Config::parse("pool = \"rpool\"\n[local]\nallow_wype = true\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("allow_wype"), "{e}");
        let e = Config::parse("[layout]\nspecial_size = \"8 parsecs\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("unknown unit"), "{e:#}");
        let e = Config::parse("[layout]\ncow_size = \"1MiB\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("at least 64MiB"), "{e:#}");
        let in_place = "[origin]\nmode = \"in-place\"\n[layout]\ncow_size = \"1MiB\"\n";
        assert!(
            Config::parse(in_place).is_ok(),
            "in place there is no store"
        );
        let e = Config::parse("pool = 3\n").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn origin_mode_names_are_the_configs() {
        for m in [OriginMode::Immutable, OriginMode::InPlace] {
            assert_eq!(toml::Value::try_from(m).unwrap().as_str(), Some(m.name()));
        }
    }

    #[test]
    fn kernel_command_line() {
        let c = Cmdline::parse(
            "BOOT_IMAGE=/k root=zfs:rpool/system/root zevac=off zevac.profile=gentle",
        );
        assert!(c.disabled);
        assert_eq!(c.profile.as_deref(), Some("gentle"));
        assert!(!Cmdline::parse("quiet").disabled);
    }
}

//! OpenZFS' command line, wrapped: every `zpool`/`zdb` invocation zevac makes is built here, and
//! what they print is parsed into the types of [`status`]. OpenZFS 2.3+ answers in JSON
//! (`zpool status -j`); 2.1/2.2 in text, parsed strictly.

pub mod dbgmsg;
pub mod props;
pub mod status;
pub mod text;

use anyhow::{bail, Context, Result};

use crate::exec::{Cmd, Executor};
pub use props::PoolProps;
pub use status::{PoolStatus, Removal, RemovalState, TopVdev, VdevClass, VdevKind};

/// `zpool` and `zdb`, through an executor.
pub struct Zpool<'a> {
    exec: &'a dyn Executor,
}

/// The user-space OpenZFS release, from `zpool version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ZfsVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl ZfsVersion {
    /// `zpool status -j` exists from 2.3 on.
    pub fn has_json(self) -> bool {
        (self.major, self.minor) >= (2, 3)
    }

    /// Vdev properties (`zpool set allocating=off POOL VDEV`) exist from 2.2 on.
    pub fn has_vdev_props(self) -> bool {
        (self.major, self.minor) >= (2, 2)
    }

    /// Parses `zpool version` (`zfs-2.3.2-2~bpo12+2` then `zfs-kmod-...`).
    pub fn parse(text: &str) -> Result<Self> {
        let line = text
            .lines()
            .find(|l| l.starts_with("zfs-") && !l.starts_with("zfs-kmod-"));
        let v = line
            .and_then(|l| l.strip_prefix("zfs-"))
            .with_context(|| format!("unexpected `zpool version`: {text:?}"))?;
        let mut nums = v
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(str::parse::<u32>);
        let mut next = || {
            nums.next()
                .transpose()
                .ok()
                .flatten()
                .with_context(|| format!("no version in {v:?}"))
        };
        Ok(Self {
            major: next()?,
            minor: next()?,
            patch: next()?,
        })
    }
}

fn zpool(args: &[&str]) -> Cmd {
    Cmd::new("zpool").args(args.iter().copied())
}

impl<'a> Zpool<'a> {
    pub fn new(exec: &'a dyn Executor) -> Self {
        Self { exec }
    }

    fn stdout(&self, cmd: Cmd) -> Result<String> {
        Ok(self.exec.check(&cmd)?.stdout)
    }

    pub fn version(&self) -> Result<ZfsVersion> {
        ZfsVersion::parse(&self.stdout(zpool(&["version"]))?)
    }

    /// Whether `pool` is imported.
    pub fn is_imported(&self, pool: &str) -> Result<bool> {
        let out = self.exec.run(&zpool(&["list", "-H", "-o", "name", pool]))?;
        Ok(out.success() && out.stdout.lines().any(|l| l.trim() == pool))
    }

    /// Imports `pool` ([`commands::import`]).
    pub fn import(&self, pool: &str, devices: &[String], readonly: bool) -> Result<()> {
        self.stdout(commands::import(pool, devices, readonly))
            .map(drop)
    }

    pub fn export(&self, pool: &str) -> Result<()> {
        self.stdout(zpool(&["export", pool])).map(drop)
    }

    /// The pool's topology and removal state: JSON on 2.3+ (by guid, [`status`] says why), text
    /// plus `zpool list` before (full paths: the short names drop a whole disk's `-part1`).
    pub fn status(&self, pool: &str, version: ZfsVersion) -> Result<PoolStatus> {
        if version.has_json() {
            let json = self.stdout(zpool(&["status", "-j", "--json-int", "-p", "-g", pool]))?;
            return status::from_json(&json, pool);
        }
        let text = self.stdout(zpool(&["status", "-p", "-P", pool]))?;
        let list = self.stdout(zpool(&["list", "-Hpv", "-P", pool]))?;
        text::status_from_text(&text, &list, pool)
    }

    /// All pool properties (`zpool get -Hp all`), including `feature@...` and `checkpoint`.
    pub fn properties(&self, pool: &str) -> Result<PoolProps> {
        PoolProps::parse(&self.stdout(zpool(&["get", "-Hp", "all", pool]))?)
    }

    /// Datasets whose encryption key is not loaded (`zfs get keystatus`).
    pub fn locked_datasets(&self, pool: &str) -> Result<Vec<String>> {
        let cmd = Cmd::new("zfs").args([
            "get",
            "-H",
            "-r",
            "-o",
            "name,value",
            "-t",
            "filesystem,volume",
            "keystatus",
            pool,
        ]);
        let out = self.stdout(cmd)?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .filter(|(_, v)| v.trim() == "unavailable")
            .map(|(n, _)| n.to_string())
            .collect())
    }

    /// Bytes the pool's datasets use (`used` of the root dataset). Unlike the vdevs' `alloc`, it is
    /// right under a read-only import, where OpenZFS reports 0 allocated (recorded in the lab).
    pub fn used_bytes(&self, pool: &str) -> Result<u64> {
        let out = self.stdout(Cmd::new("zfs").args(["get", "-Hp", "-o", "value", "used", pool]))?;
        out.trim()
            .parse()
            .with_context(|| format!("`zfs get used {pool}` printed {out:?}"))
    }

    /// The ashift of the top-level vdev `device` belongs to, from its label (`zdb -l`).
    pub fn label_ashift(&self, device: &str) -> Result<u32> {
        let out = self.stdout(Cmd::new("zdb").args(["-l", device]))?;
        text::label_ashift(&out).with_context(|| format!("reading the ZFS label of {device}"))
    }

    /// The ashift of top-level vdev `vdev` (its path or name), from the vdev property (2.2+):
    /// one ioctl, where `zdb -l` starts a user-space ZFS to read a label.
    pub fn vdev_ashift(&self, pool: &str, vdev: &str) -> Result<u32> {
        let out = self.stdout(zpool(&["get", "-Hp", "-o", "value", "ashift", pool, vdev]))?;
        out.trim()
            .parse()
            .with_context(|| format!("`zpool get ashift {pool} {vdev}` printed {out:?}"))
    }

    /// Whether top-level vdev `vdev` takes new blocks: its `allocating` property (2.2+).
    pub fn vdev_allocating(&self, pool: &str, vdev: &str) -> Result<bool> {
        let out = self.stdout(zpool(&[
            "get",
            "-Hp",
            "-o",
            "value",
            "allocating",
            pool,
            vdev,
        ]))?;
        match out.trim() {
            "on" => Ok(true),
            "off" => Ok(false),
            other => bail!("`zpool get allocating {pool} {vdev}` printed {other:?}"),
        }
    }

    /// The last scrub's state, from the `scan:` line of `zpool status` (2.1 and 2.3 alike).
    pub fn scrub_state(&self, pool: &str) -> Result<text::Scrub> {
        text::scrub_from_status(&self.stdout(zpool(&["status", pool]))?)
    }

    /// `zpool scrub POOL`: starts a scrub; returns at once.
    pub fn scrub(&self, pool: &str) -> Result<()> {
        self.stdout(zpool(&["scrub", pool])).map(drop)
    }

    /// Starts the evacuation ([`commands::remove`]).
    pub fn remove(&self, pool: &str, vdev: &str) -> Result<()> {
        self.stdout(commands::remove(pool, vdev)).map(drop)
    }

    /// Stops new allocations on `vdev` ([`commands::stop_allocating`]).
    pub fn stop_allocating(&self, pool: &str, vdev: &str) -> Result<()> {
        self.stdout(commands::stop_allocating(pool, vdev)).map(drop)
    }
}

/// The `zpool` commands a plan's steps run, and `zevac plan --import` prints.
pub mod commands {
    use super::{zpool, Cmd, VdevClass};

    /// `zpool import -N [-o readonly=on] -d DEV... POOL`: imports without mounting, looking only
    /// at `devices`. Read-only writes nothing to the disks (and does not resume a removal).
    pub fn import(pool: &str, devices: &[String], readonly: bool) -> Cmd {
        let mut cmd = zpool(&["import", "-N"]);
        if readonly {
            cmd = cmd.args(["-o", "readonly=on"]);
        }
        for d in devices {
            cmd = cmd.arg("-d").arg(d);
        }
        cmd.arg(pool)
    }

    /// `zpool add [-o ashift=N] POOL [special|cache|...] DEV...`.
    pub fn add(pool: &str, ashift: u32, class: VdevClass, devices: &[String]) -> Cmd {
        let mut cmd = zpool(&["add"]);
        if class != VdevClass::Cache {
            // Cache devices are not top-level vdevs of the normal class; ashift is meaningless there.
            cmd = cmd.args(["-o".to_string(), format!("ashift={ashift}")]);
        }
        cmd = cmd.arg(pool);
        if let Some(word) = class.zpool_word() {
            cmd = cmd.arg(word);
        }
        cmd.args(devices.iter().cloned())
    }

    /// `zpool remove POOL VDEV`: starts the evacuation; returns when ZFS has taken it on.
    pub fn remove(pool: &str, vdev: &str) -> Cmd {
        zpool(&["remove", pool, vdev])
    }

    /// `zpool set allocating=off POOL VDEV` (a vdev property, OpenZFS 2.2+): ZFS puts no new
    /// blocks on the vdev.
    pub fn stop_allocating(pool: &str, vdev: &str) -> Cmd {
        zpool(&["set", "allocating=off", pool, vdev])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_zpool_version() {
        let v23 = ZfsVersion::parse(include_str!(
            "../../bench/fixtures/zfs-2.3.2/states/version.stdout"
        ))
        .unwrap();
        assert_eq!(
            v23,
            ZfsVersion {
                major: 2,
                minor: 3,
                patch: 2
            }
        );
        assert!(v23.has_json());
        let v21 = ZfsVersion::parse(include_str!(
            "../../bench/fixtures/zfs-2.1.11/states/version.stdout"
        ))
        .unwrap();
        assert_eq!(
            v21,
            ZfsVersion {
                major: 2,
                minor: 1,
                patch: 11
            }
        );
        assert!(!v21.has_json());
        assert!(ZfsVersion::parse("garbage").is_err());
    }

    #[test]
    fn commands_as_zpool_takes_them() {
        let devs = vec!["/dev/a-part1".to_string(), "/dev/b-part1".to_string()];
        assert_eq!(
            commands::add("rpool", 12, VdevClass::Normal, &devs).to_string(),
            "zpool add -o ashift=12 rpool /dev/a-part1 /dev/b-part1"
        );
        assert_eq!(
            commands::add("rpool", 12, VdevClass::Special, &devs[..1]).to_string(),
            "zpool add -o ashift=12 rpool special /dev/a-part1"
        );
        assert_eq!(
            commands::add("rpool", 12, VdevClass::Cache, &devs[..1]).to_string(),
            "zpool add rpool cache /dev/a-part1"
        );
        assert_eq!(
            commands::import("rpool", &devs, false).to_string(),
            "zpool import -N -d /dev/a-part1 -d /dev/b-part1 rpool"
        );
        assert_eq!(
            commands::import("rpool", &devs[..1], true).to_string(),
            "zpool import -N -o readonly=on -d /dev/a-part1 rpool"
        );
    }
}

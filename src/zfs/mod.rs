//! OpenZFS' command line, wrapped: every `zpool`/`zdb` invocation zevac makes is built here, and
//! what they print is parsed into the types of [`status`]. OpenZFS 2.3+ answers in JSON
//! (`zpool status -j`); 2.1/2.2 in text, parsed strictly.

pub mod dbgmsg;
pub mod props;
pub mod status;
pub mod text;

use anyhow::{bail, Context, Result};

use crate::exec::Executor;
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

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|a| a.to_string()).collect()
}

impl<'a> Zpool<'a> {
    pub fn new(exec: &'a dyn Executor) -> Self {
        Self { exec }
    }

    fn zpool(&self, args: Vec<String>) -> Result<String> {
        Ok(self.exec.check("zpool", &args)?.stdout)
    }

    pub fn version(&self) -> Result<ZfsVersion> {
        ZfsVersion::parse(&self.zpool(s(&["version"]))?)
    }

    /// Whether `pool` is imported.
    pub fn is_imported(&self, pool: &str) -> Result<bool> {
        let out = self
            .exec
            .run("zpool", &s(&["list", "-H", "-o", "name", pool]))?;
        Ok(out.success() && out.stdout.lines().any(|l| l.trim() == pool))
    }

    /// `zpool import -N [-o readonly=on] -d DEV... POOL`: imports without mounting, looking only at
    /// `devices`. Read-only writes nothing to the disks (and does not resume a removal).
    pub fn import(&self, pool: &str, devices: &[String], readonly: bool) -> Result<()> {
        let mut args = s(&["import", "-N"]);
        if readonly {
            args.extend(s(&["-o", "readonly=on"]));
        }
        for d in devices {
            args.push("-d".into());
            args.push(d.clone());
        }
        args.push(pool.into());
        self.zpool(args).map(drop)
    }

    pub fn export(&self, pool: &str) -> Result<()> {
        self.zpool(s(&["export", pool])).map(drop)
    }

    /// The pool's topology and removal state: JSON on 2.3+ (by guid, [`status`] says why), text
    /// plus `zpool list` before (full paths: the short names drop a whole disk's `-part1`).
    pub fn status(&self, pool: &str, version: ZfsVersion) -> Result<PoolStatus> {
        if version.has_json() {
            let json = self.zpool(s(&["status", "-j", "--json-int", "-p", "-g", pool]))?;
            return status::from_json(&json, pool);
        }
        let text = self.zpool(s(&["status", "-p", "-P", pool]))?;
        let list = self.zpool(s(&["list", "-Hpv", "-P", pool]))?;
        text::status_from_text(&text, &list, pool)
    }

    /// All pool properties (`zpool get -Hp all`), including `feature@...` and `checkpoint`.
    pub fn properties(&self, pool: &str) -> Result<PoolProps> {
        PoolProps::parse(&self.zpool(s(&["get", "-Hp", "all", pool]))?)
    }

    /// Datasets whose encryption key is not loaded (`zfs get keystatus`).
    pub fn locked_datasets(&self, pool: &str) -> Result<Vec<String>> {
        let args = s(&[
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
        let out = self.exec.check("zfs", &args)?.stdout;
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
        let out = self
            .exec
            .check("zfs", &s(&["get", "-Hp", "-o", "value", "used", pool]))?
            .stdout;
        out.trim()
            .parse()
            .with_context(|| format!("`zfs get used {pool}` printed {out:?}"))
    }

    /// The ashift of the top-level vdev `device` belongs to, from its label (`zdb -l`).
    pub fn label_ashift(&self, device: &str) -> Result<u32> {
        let out = self.exec.check("zdb", &s(&["-l", device]))?.stdout;
        text::label_ashift(&out).with_context(|| format!("reading the ZFS label of {device}"))
    }

    /// `zpool add -o ashift=N POOL [special|cache] DEV...`.
    pub fn add(&self, pool: &str, ashift: u32, class: VdevClass, devices: &[String]) -> Result<()> {
        let mut args = vec!["add".to_string()];
        if class != VdevClass::Cache {
            // Cache devices are not top-level vdevs of the normal class; ashift is meaningless there.
            args.extend(["-o".to_string(), format!("ashift={ashift}")]);
        }
        args.push(pool.into());
        match class {
            VdevClass::Normal => {}
            VdevClass::Special => args.push("special".into()),
            VdevClass::Cache => args.push("cache".into()),
            other => bail!("zevac does not add {other:?} vdevs"),
        }
        args.extend(devices.iter().cloned());
        self.zpool(args).map(drop)
    }

    /// The last scrub's state, from the `scan:` line of `zpool status` (2.1 and 2.3 alike).
    pub fn scrub_state(&self, pool: &str) -> Result<text::Scrub> {
        text::scrub_from_status(&self.zpool(s(&["status", pool]))?)
    }

    /// `zpool scrub POOL`: starts a scrub; returns at once.
    pub fn scrub(&self, pool: &str) -> Result<()> {
        self.zpool(s(&["scrub", pool])).map(drop)
    }

    /// `zpool remove POOL VDEV`: starts the evacuation; returns when ZFS has taken it on.
    pub fn remove(&self, pool: &str, vdev: &str) -> Result<()> {
        self.zpool(s(&["remove", pool, vdev])).map(drop)
    }

    /// `zpool set allocating=off POOL VDEV` (a vdev property, OpenZFS 2.2+): ZFS puts no new
    /// blocks on the vdev.
    pub fn stop_allocating(&self, pool: &str, vdev: &str) -> Result<()> {
        self.zpool(s(&["set", "allocating=off", pool, vdev]))
            .map(drop)
    }
}

/// The commands [`Zpool`] would run, as text, for `zevac plan` to print.
pub mod render {
    use super::VdevClass;

    pub fn import(pool: &str, devices: &[String]) -> String {
        let dirs: String = devices.iter().map(|d| format!(" -d {d}")).collect();
        format!("zpool import -N{dirs} {pool}")
    }

    pub fn add(pool: &str, ashift: u32, class: VdevClass, devices: &[String]) -> String {
        let (opt, word) = match class {
            VdevClass::Cache => (String::new(), " cache"),
            VdevClass::Special => (format!(" -o ashift={ashift}"), " special"),
            _ => (format!(" -o ashift={ashift}"), ""),
        };
        format!("zpool add{opt} {pool}{word} {}", devices.join(" "))
    }

    pub fn remove(pool: &str, vdev: &str) -> String {
        format!("zpool remove {pool} {vdev}")
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
    fn rendered_commands_match_what_runs() {
        let devs = vec!["/dev/a-part1".to_string(), "/dev/b-part1".to_string()];
        assert_eq!(
            render::add("rpool", 12, VdevClass::Normal, &devs),
            "zpool add -o ashift=12 rpool /dev/a-part1 /dev/b-part1"
        );
        assert_eq!(
            render::add("rpool", 12, VdevClass::Cache, &devs[..1]),
            "zpool add rpool cache /dev/a-part1"
        );
        assert_eq!(
            render::import("rpool", &devs),
            "zpool import -N -d /dev/a-part1 -d /dev/b-part1 rpool"
        );
    }
}

//! Discover: the block devices of this machine from sysfs, what each is to zevac (the origin, a
//! local disk, or neither) and why, and whether it is blank (libblkid's low-level probe).

pub mod classify;
pub mod sysfs;

use anyhow::{bail, Result};
use serde::Serialize;

use crate::exec::Executor;
pub use classify::{classify, Role};

/// A partition of a disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partition {
    /// Kernel name (`nvme1n1p1`).
    pub name: String,
    pub number: u32,
    /// The GPT partition name (`zevac-data`), if any.
    pub label: Option<String>,
    pub size_bytes: u64,
    /// Every path naming it (`/dev/nvme1n1p1` and its `/dev/disk/by-id` links).
    pub paths: Vec<String>,
}

/// A whole disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockDevice {
    /// Kernel name (`nvme1n1`).
    pub name: String,
    pub model: String,
    pub serial: String,
    pub size_bytes: u64,
    pub logical_sector: u32,
    pub physical_sector: u32,
    /// `/dev/NAME` and the `/dev/disk/by-id` links to it; the stable one first.
    pub paths: Vec<String>,
    pub partitions: Vec<Partition>,
    pub role: Role,
    /// Why it has that role, in words.
    pub why: String,
    /// No partitions and no signature libblkid knows.
    pub blank: bool,
    /// What libblkid found on the disk, when not blank (`zfs_member`, `gpt`, `ext4`, ...).
    pub signature: Option<String>,
}

impl BlockDevice {
    /// The stable name to use in commands (a by-id link when there is one).
    pub fn stable_path(&self) -> &str {
        &self.paths[0]
    }

    /// Whether `path` names this disk or one of its partitions.
    pub fn owns_path(&self, path: &str) -> bool {
        self.paths.iter().any(|p| p == path)
            || self
                .partitions
                .iter()
                .any(|p| p.paths.iter().any(|q| q == path))
    }
}

/// What `blkid -p` says of a device: `None` when it finds nothing.
pub fn probe_signature(exec: &dyn Executor, device: &str) -> Result<Option<String>> {
    Ok(probe(exec, device)?.map(|fields| {
        let field = |k: &str| fields.get(k).cloned();
        field("TYPE")
            .or_else(|| field("PTTYPE"))
            .unwrap_or_else(|| "unknown signature".into())
    }))
}

/// The fields `blkid -p -o export` prints for a device (`TYPE`, `LABEL`, ...): `None` when
/// libblkid finds nothing. A low-level probe: reads only, and not blkid's cache.
pub fn probe(
    exec: &dyn Executor,
    device: &str,
) -> Result<Option<std::collections::BTreeMap<String, String>>> {
    let out = exec.run(&crate::blockdev::probe(device))?;
    match out.status {
        // libblkid's "nothing found".
        2 => Ok(None),
        0 => Ok(Some(
            out.stdout
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )),
        s => bail!("blkid -p {device} failed (exit {s}): {}", out.stderr.trim()),
    }
}

/// [`inventory`] where `paths` says, classified by `config`'s rules: what every command that
/// looks at the machine reads.
pub fn machine(
    exec: &dyn Executor,
    paths: &crate::paths::Paths,
    config: &crate::config::Config,
) -> Result<Vec<BlockDevice>> {
    inventory(
        exec,
        &paths.sys,
        &paths.by_id,
        &classify::Rules::from(config),
    )
}

/// Everything on this machine: sysfs under `sys`, links under `dev_by_id`, classified by `rules`.
pub fn inventory(
    exec: &dyn Executor,
    sys: &std::path::Path,
    dev_by_id: &std::path::Path,
    rules: &classify::Rules,
) -> Result<Vec<BlockDevice>> {
    let mut disks = sysfs::read_disks(sys, dev_by_id)?;
    for d in &mut disks {
        let (role, why) = classify(d, rules);
        d.role = role;
        d.why = why;
        d.signature = if d.partitions.is_empty() {
            probe_signature(exec, &format!("/dev/{}", d.name))?
        } else {
            Some("partition table".into())
        };
        d.blank = d.signature.is_none();
    }
    Ok(disks)
}

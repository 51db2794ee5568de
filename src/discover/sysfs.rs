//! Reading disks from sysfs (`/sys/block`) and their names from `/dev/disk/by-id`; no commands.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{BlockDevice, Partition, Role};

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn read_num(path: &Path) -> Result<u64> {
    let s = read(path).with_context(|| format!("cannot read {}", path.display()))?;
    s.parse()
        .with_context(|| format!("{}: {s:?} is not a number", path.display()))
}

/// Disks zevac considers: NVMe namespaces (not the hidden multipath `nvmeXcYnZ` nodes), virtio, SCSI
/// and Xen disks. Loop, RAM, device-mapper, md and optical devices are not candidates.
pub fn is_candidate(name: &str) -> bool {
    if let Some(rest) = name.strip_prefix("nvme") {
        // nvme[0-9]+n[0-9]+
        let mut parts = rest.splitn(2, 'n');
        let ctrl = parts.next().unwrap_or("");
        let ns = parts.next().unwrap_or("");
        return !ctrl.is_empty()
            && ctrl.bytes().all(|b| b.is_ascii_digit())
            && !ns.is_empty()
            && ns.bytes().all(|b| b.is_ascii_digit());
    }
    ["vd", "sd", "xvd"].iter().any(|p| {
        name.strip_prefix(p)
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_lowercase()))
    })
}

/// `/dev/disk/by-id` links (read from `dir`) by the kernel name they point to:
/// `(kernel name, /dev/disk/by-id/LINK)`.
fn by_id_links(dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut links: Vec<(String, String)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let target = std::fs::read_link(e.path()).ok()?;
            let name = target.file_name()?.to_string_lossy().into_owned();
            // Named as udev names them, whichever directory was read (tests read a copy).
            Some((
                name,
                format!("/dev/disk/by-id/{}", e.file_name().to_string_lossy()),
            ))
        })
        .collect();
    // Model-and-serial names first (what FACTS tells us to use), WWID/EUI names after.
    links.sort_by_key(|(_, link)| {
        (
            link.contains("/nvme-eui.") || link.contains("/nvme-nvme.") || link.contains("/wwn-"),
            link.clone(),
        )
    });
    links
}

fn paths_for(name: &str, links: &[(String, String)]) -> Vec<String> {
    let mut paths: Vec<String> = links
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, l)| l.clone())
        .collect();
    paths.push(format!("/dev/{name}"));
    paths
}

/// The partition name from a partition's `uevent` (`PARTNAME=`).
fn partname(dir: &Path) -> Option<String> {
    read(&dir.join("uevent"))?
        .lines()
        .find_map(|l| l.strip_prefix("PARTNAME=").map(str::to_string))
}

/// The sysfs directory of the block device `path` names (a `/dev` path or a by-id link),
/// resolved: `.../block/nvme1n1/nvme1n1p3` for a partition.
fn device_dir(sys: &Path, path: &str) -> Option<PathBuf> {
    let dev = std::fs::canonicalize(path).ok()?;
    let name = dev.file_name()?.to_str()?;
    std::fs::canonicalize(sys.join("class/block").join(name)).ok()
}

/// The GPT partition name of the partition `path` names.
pub fn partition_name(sys: &Path, path: &str) -> Option<String> {
    partname(&device_dir(sys, path)?)
}

/// Bytes read so far from the disk holding `path` (`stat` field 3, in 512-byte sectors whatever
/// the sector size). The whole disk's counter: in the lab (kernel 6.12, OpenZFS 2.3.2) ZFS's
/// reads of a partition vdev never show in the partition's own `stat`.
pub fn disk_bytes_read(sys: &Path, path: &str) -> Option<u64> {
    let mut dir = device_dir(sys, path)?;
    if dir.join("partition").exists() {
        dir = dir.parent()?.to_path_buf();
    }
    let sectors: u64 = read(&dir.join("stat"))?
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()?;
    Some(sectors * 512)
}

/// Reads every candidate disk under `sys/block` (roles and blankness are filled in later).
pub fn read_disks(sys: &Path, dev_by_id: &Path) -> Result<Vec<BlockDevice>> {
    let links = by_id_links(dev_by_id);
    let block = sys.join("block");
    let mut disks = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(&block)
        .with_context(|| format!("cannot read {}", block.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| is_candidate(n))
        .collect();
    names.sort();
    for name in names {
        let dir = block.join(&name);
        let mut partitions = Vec::new();
        for entry in std::fs::read_dir(&dir)?.filter_map(|e| e.ok()) {
            let pdir = entry.path();
            if !pdir.join("partition").exists() {
                continue;
            }
            let pname = entry.file_name().to_string_lossy().into_owned();
            partitions.push(Partition {
                number: read_num(&pdir.join("partition"))? as u32,
                label: partname(&pdir),
                size_bytes: read_num(&pdir.join("size"))? * 512,
                paths: paths_for(&pname, &links),
                name: pname,
            });
        }
        partitions.sort_by_key(|p| p.number);
        disks.push(BlockDevice {
            model: read(&dir.join("device/model")).unwrap_or_default(),
            serial: read(&dir.join("device/serial"))
                .or_else(|| read(&dir.join("serial")))
                .unwrap_or_default(),
            size_bytes: read_num(&dir.join("size"))? * 512,
            logical_sector: read_num(&dir.join("queue/logical_block_size"))? as u32,
            physical_sector: read_num(&dir.join("queue/physical_block_size"))? as u32,
            paths: paths_for(&name, &links),
            partitions,
            role: Role::Other,
            why: String::new(),
            blank: false,
            signature: None,
            name,
        });
    }
    Ok(disks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates() {
        for yes in ["nvme0n1", "nvme12n3", "vda", "sdb", "xvdf"] {
            assert!(is_candidate(yes), "{yes}");
        }
        for no in [
            "nvme0c0n1",
            "nvme0n1p1",
            "loop0",
            "dm-0",
            "md0",
            "sr0",
            "vda1",
            "zram0",
            "nvme0",
        ] {
            assert!(!is_candidate(no), "{no}");
        }
    }
}

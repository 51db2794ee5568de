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
    // Model-and-serial names first (udev's persistent-storage rules, from the NVMe model and serial), WWID/EUI names after.
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
/// reads of a partition vdev never show in the partition's own `stat`. An NVMe namespace under
/// native multipath (Debian's and NixOS' kernels) is also counted on its hidden path nodes
/// `nvmeXcYnZ`: on kernel 6.1 the head `nvmeXnZ` counts nothing at all (lab), so the larger of
/// the two is the disk's.
pub fn disk_bytes_read(sys: &Path, path: &str) -> Option<u64> {
    disk_dir_bytes_read(sys, device_dir(sys, path)?)
}

/// [`disk_bytes_read`] of the device numbered `major:minor` (as `dmsetup table` names them).
pub fn device_number_bytes_read(sys: &Path, major_minor: &str) -> Option<u64> {
    let dir = std::fs::canonicalize(sys.join("dev/block").join(major_minor)).ok()?;
    disk_dir_bytes_read(sys, dir)
}

fn disk_dir_bytes_read(sys: &Path, mut dir: PathBuf) -> Option<u64> {
    if dir.join("partition").exists() {
        dir = dir.parent()?.to_path_buf();
    }
    let own = sectors_read(&dir)?;
    let name = dir.file_name()?.to_str()?;
    let paths: u64 = multipath_nodes(sys, name)
        .iter()
        .filter_map(|node| sectors_read(&sys.join("block").join(node)))
        .sum();
    Some(own.max(paths) * 512)
}

fn sectors_read(dir: &Path) -> Option<u64> {
    read(&dir.join("stat"))?
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

/// The hidden path nodes `nvme<S>c<C>n<N>` of the multipath head `nvme<S>n<N>`, by name: the
/// kernel names both from the subsystem and namespace instances.
fn multipath_nodes(sys: &Path, head: &str) -> Vec<String> {
    let Some((subsystem, namespace)) = head
        .strip_prefix("nvme")
        .and_then(|rest| rest.split_once('n'))
    else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(sys.join("block")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.strip_prefix("nvme")
                .and_then(|r| r.strip_prefix(subsystem))
                .and_then(|r| r.strip_prefix('c'))
                .and_then(|r| r.split_once('n'))
                .is_some_and(|(controller, ns)| {
                    !controller.is_empty()
                        && controller.bytes().all(|b| b.is_ascii_digit())
                        && ns == namespace
                })
        })
        .collect()
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

    /// The counters recorded in the lab on kernel 6.1 (OpenZFS 2.1.11) during a copy: the head
    /// `nvme0n1` reads 0, its path node `nvme0c0n1` 581000 sectors. `nvme1c1n1` is another disk's.
    #[test]
    fn a_multipath_head_is_counted_on_its_path_nodes() {
        let root = crate::testing::scratch();
        let sys = root.join("sys");
        let stats = [
            (
                "nvme0c0n1",
                "1069 0 581000 105724 463 0 9528 2532 0 35312 108372 0 0 0 0 34 115",
            ),
            ("nvme0n1", "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"),
            (
                "nvme1c1n1",
                "301 0 17672 131 941 8 290384 890 0 584 1042 0 0 0 0 36 20",
            ),
            ("nvme1n1", "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"),
            ("nvme10n1", "7 0 4000 0 0 0 0 0 0 0 0 0 0 0 0 0 0"),
        ];
        for (name, stat) in stats {
            let dir = sys.join("devices").join(name);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("stat"), format!("{stat}\n")).unwrap();
            for class in ["block", "class/block"] {
                std::fs::create_dir_all(sys.join(class)).unwrap();
                std::os::unix::fs::symlink(&dir, sys.join(class).join(name)).unwrap();
            }
        }
        let part = sys.join("devices/nvme0n1/nvme0n1p2");
        std::fs::create_dir_all(&part).unwrap();
        std::fs::write(part.join("partition"), "2\n").unwrap();
        std::fs::write(part.join("stat"), "0 0 0 0 0 0 0 0 0 0 0\n").unwrap();
        std::os::unix::fs::symlink(&part, sys.join("class/block/nvme0n1p2")).unwrap();
        let dev = root.join("dev");
        std::fs::create_dir_all(&dev).unwrap();
        for name in ["nvme0n1p2", "nvme10n1"] {
            std::fs::write(dev.join(name), "").unwrap();
        }
        let of = |name: &str| disk_bytes_read(&sys, dev.join(name).to_str().unwrap());
        assert_eq!(of("nvme0n1p2"), Some(581000 * 512));
        // By number, as a snapshot's table names its origin.
        std::fs::create_dir_all(sys.join("dev/block")).unwrap();
        std::os::unix::fs::symlink(&part, sys.join("dev/block/259:7")).unwrap();
        assert_eq!(device_number_bytes_read(&sys, "259:7"), Some(581000 * 512));
        // nvme10n1 has no path nodes: its own counter (not nvme1c1n1's).
        assert_eq!(of("nvme10n1"), Some(4000 * 512));
    }
}

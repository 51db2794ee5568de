//! Partition tables: zevac's GPT on a local disk, written with the `gpt` crate, then the kernel
//! and udev made to see it (`blockdev --rereadpt`, then the by-id links).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::blockdev;
use crate::exec::Executor;
use crate::layout::DiskLayout;

const MIB: u64 = 1 << 20;

/// Writes zevac's GPT on `layout.disk`: data (1), then special and cache partitions if sized.
/// The plan's step wipes the disk before (if asked) and has the kernel re-read it after.
pub fn write_gpt(layout: &DiskLayout, logical_sector: u32) -> Result<()> {
    let mut dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&layout.disk)
        .with_context(|| format!("cannot open {} for writing", layout.disk))?;
    let bytes = std::io::Seek::seek(&mut dev, std::io::SeekFrom::End(0))?;
    let lb = match logical_sector {
        512 => gpt::disk::LogicalBlockSize::Lb512,
        4096 => gpt::disk::LogicalBlockSize::Lb4096,
        other => bail!(
            "{}: logical sector size {other} is not supported",
            layout.disk
        ),
    };
    let sectors = bytes / u64::from(logical_sector);
    let mbr = gpt::mbr::ProtectiveMBR::with_lb_size(u32::try_from(sectors - 1).unwrap_or(u32::MAX));
    mbr.overwrite_lba0(&mut dev)
        .context("writing the protective MBR")?;
    let mut disk = gpt::GptConfig::new()
        .writable(true)
        .logical_block_size(lb)
        .create_from_device(dev, None)?;
    disk.update_partitions(BTreeMap::new())?;
    let Some(data) = layout.data_bytes(bytes) else {
        bail!("{} is too small for a data partition", layout.disk);
    };
    let zfs = gpt::partition_types::MACOS_ZFS; // 6A898CC3-...: what `zpool create` uses on Linux.
    let align = Some(MIB / u64::from(logical_sector));
    for (label, _, size) in layout.partitions() {
        // The store is dm-snapshot's, not ZFS's: Linux's generic data type.
        let kind = if label == crate::layout::COW_LABEL {
            gpt::partition_types::LINUX_FS.clone()
        } else {
            zfs.clone()
        };
        disk.add_partition(label, if size == 0 { data } else { size }, kind, 0, align)?;
    }
    let dev = disk.write().context("writing the GPT")?;
    dev.sync_all()?;
    Ok(())
}

/// Waits (at most `timeout`) for udev to create every partition link of `layouts`. It settles
/// udev first: the close of the disk written to makes udev re-read the partition table itself
/// (its inotify watch), which removes and re-adds the partitions and their links; a link seen
/// before that is gone again when `dmsetup` or `zpool add` opens it (seen in the lab).
pub fn wait_for_partitions(
    exec: &dyn Executor,
    layouts: &[DiskLayout],
    timeout: Duration,
) -> Result<()> {
    let _ = exec.run(&blockdev::udev_settle());
    let mut wanted = Vec::new();
    for l in layouts {
        wanted.extend(
            l.partitions()
                .iter()
                .map(|(_, n, _)| crate::layout::partition_path(&l.disk, *n)),
        );
    }
    let start = Instant::now();
    loop {
        let missing: Vec<&String> = wanted.iter().filter(|p| !Path::new(p).exists()).collect();
        if missing.is_empty() {
            tracing::debug!(
                secs = start.elapsed().as_secs_f64(),
                "partition links are there"
            );
            return Ok(());
        }
        if start.elapsed() > timeout {
            bail!("udev did not create {missing:?} within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

//! The golden EBS image, like an AMI: GPT with an ESP and pool `rpool` laid out as nixpkgs'
//! `amazon-image-zfs` lays it out, filled with incompressible data and described by a sha256
//! manifest. Built once per OpenZFS pair and size, cached; boots work on copies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::disks::{self, Disk};
use crate::vm::BootSpec;
use crate::{cache, Lab};

/// Bump when the layout or the filling changes, so old cached images are not used.
const LAYOUT_VERSION: u32 = 1;
const MIB: u64 = 1 << 20;
const ESP_MIB: u64 = 64;

const SCRIPT: &str = include_str!("../guest/golden.sh");

/// A built golden image.
#[derive(Debug, Clone)]
pub struct Golden {
    pub dir: PathBuf,
    pub image: PathBuf,
    /// `sha256sum` lines of every file, paths relative to the mounted root.
    pub manifest: String,
    pub data_mib: u64,
    /// Bytes allocated in the pool (`zpool list -Hp` ALLOC) after filling.
    pub pool_alloc_bytes: u64,
}

/// The size of the pool partition for `data_mib` of data: room for data, metadata and slop.
pub fn pool_partition_mib(data_mib: u64) -> u64 {
    (data_mib * 3 / 2 + 512).max(1024)
}

/// Writes a protective MBR and a GPT with the ESP (partition 1) and the pool partition (2).
pub fn write_partition_table(image: &Path, pool_mib: u64) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(image)?;
    let sectors = file.metadata()?.len() / 512;
    let mbr = gpt::mbr::ProtectiveMBR::with_lb_size(u32::try_from(sectors - 1).unwrap_or(u32::MAX));
    mbr.overwrite_lba0(&mut file)
        .context("writing the protective MBR")?;
    let mut disk = gpt::GptConfig::new()
        .writable(true)
        .logical_block_size(gpt::disk::LogicalBlockSize::Lb512)
        .create_from_device(file, None)
        .context("creating the GPT")?;
    disk.update_partitions(BTreeMap::new())?;
    disk.add_partition(
        "ESP",
        ESP_MIB * MIB,
        gpt::partition_types::EFI,
        0,
        Some(2048),
    )?;
    // Same GUID as sgdisk's BF00 "Solaris /usr & Apple ZFS", which zpool uses.
    disk.add_partition(
        "rpool",
        pool_mib * MIB,
        gpt::partition_types::MACOS_ZFS,
        0,
        Some(2048),
    )?;
    disk.write().context("writing the GPT")?;
    Ok(())
}

/// Returns the golden image for `data_mib` MiB of data, building it if it is not cached.
pub fn golden(lab: &Lab, data_mib: u64) -> Result<Golden> {
    let key = format!("{}-{}mib-v{LAYOUT_VERSION}", lab.pins.cache_key(), data_mib);
    let dir = cache::root().join("golden").join(&key);
    let _lock = cache::lock(&format!("golden-{key}"))?;
    if let Some(g) = load(&dir, data_mib)? {
        return Ok(g);
    }
    tracing::info!(data_mib, pair = %lab.pair, "building the golden image");
    let run = lab.new_run(&format!("golden-{data_mib}mib"))?;
    let image = run.path("ebs.img");
    let pool_mib = pool_partition_mib(data_mib);
    disks::create_blank(&image, (ESP_MIB + pool_mib + 4) * MIB)?;
    write_partition_table(&image, pool_mib)?;
    let spec = BootSpec::new("golden", vec![Disk::ebs(&image)], SCRIPT)
        .file("/lab/golden.env", format!("DATA_MIB={data_mib}\n"));
    let outcome = lab
        .run(&run, &spec)
        .context("building the golden image in the guest")?;
    let manifest = outcome.events.cmd("manifest")?.stdout;
    if manifest.lines().count() < 4 {
        bail!("the golden image's manifest is too short:\n{manifest}");
    }
    let alloc = pool_alloc(&outcome.events.cmd("list")?.stdout)?;

    let staging = dir.with_extension("staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    cache::dir(staging.clone())?;
    std::fs::rename(&image, staging.join("ebs.img"))?;
    std::fs::write(staging.join("manifest.sha256"), &manifest)?;
    std::fs::write(staging.join("pool-alloc-bytes"), alloc.to_string())?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::rename(&staging, &dir)?;
    run.remove_images()?;
    load(&dir, data_mib)?.context("the golden image vanished after it was built")
}

fn load(dir: &Path, data_mib: u64) -> Result<Option<Golden>> {
    let image = dir.join("ebs.img");
    let (Ok(manifest), Ok(alloc)) = (
        std::fs::read_to_string(dir.join("manifest.sha256")),
        std::fs::read_to_string(dir.join("pool-alloc-bytes")),
    ) else {
        return Ok(None);
    };
    if !image.exists() {
        return Ok(None);
    }
    Ok(Some(Golden {
        dir: dir.to_path_buf(),
        image,
        manifest,
        data_mib,
        pool_alloc_bytes: alloc.trim().parse().context("pool-alloc-bytes")?,
    }))
}

/// The pool's ALLOC from `zpool list -Hpv` (its first line).
pub fn pool_alloc(list: &str) -> Result<u64> {
    let line = list.lines().next().context("zpool list printed nothing")?;
    let alloc = line
        .split('\t')
        .nth(2)
        .context("zpool list: no ALLOC column")?;
    alloc
        .parse()
        .with_context(|| format!("zpool list: ALLOC {alloc:?}"))
}

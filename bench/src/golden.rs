//! The golden EBS image, like an AMI, in one of two layouts ([`Layout`]), filled with
//! incompressible data in nixpkgs' datasets and described by an MD5 manifest. Built once per
//! OpenZFS pair, layout and size, cached; boots work on copies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::disks::{self, Disk};
use crate::step::Step;
use crate::vm::BootSpec;
use crate::{cache, Lab};

/// Where a boot finds the golden manifest, for `md5sum -c`. MD5, not SHA-256: it guards against
/// a copy that changed data, not against an adversary, and under emulation it hashes in half
/// the time (`bench/RESULTS.md`), on every one of the lab's checks of the whole data.
pub const MANIFEST: &str = "/lab/manifest.md5";

/// Bump when the layout or the filling changes, so old cached images are not used.
const LAYOUT_VERSION: u32 = 1;
const MIB: u64 = 1 << 20;
const ESP_MIB: u64 = 64;

const SCRIPT: &str = include_str!("../guest/golden.sh");

/// How the image lays its pool out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One volume: a GPT with an ESP and pool `rpool` on partition 2.
    Partition,
    /// nixpkgs' own (`nixos/lib/make-multi-disk-zfs-image.nix`, which `amazon-image.nix` uses
    /// with `ec2.zfs.enable`): a boot volume with a BIOS boot partition and an ESP, and pool
    /// `tank` made by `zpool create` on a whole second volume, so ZFS partitions that volume
    /// itself (its data on `-part1`).
    WholeDisk,
}

impl Layout {
    pub fn pool(self) -> &'static str {
        match self {
            Self::Partition => "rpool",
            Self::WholeDisk => "tank",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Partition => "partition",
            Self::WholeDisk => "whole-disk",
        }
    }
}

/// nixpkgs' boot volume size (`bootSize = 1000` in `amazon-image.nix`: "1G is the minimum EBS
/// volume"); sparse here.
const BOOT_VOLUME_MIB: u64 = 1000;

/// A built golden image.
#[derive(Debug, Clone)]
pub struct Golden {
    pub dir: PathBuf,
    pub layout: Layout,
    /// The volume holding the pool.
    pub image: PathBuf,
    /// The separate boot volume ([`Layout::WholeDisk`]).
    pub boot_image: Option<PathBuf>,
    /// `md5sum` lines of every file, paths relative to the mounted root ([`MANIFEST`]).
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
    // Same GUID as sgdisk's BF00 "Solaris /usr & Apple ZFS", which zpool uses.
    write_gpt(
        image,
        &[
            ("ESP", ESP_MIB * MIB, gpt::partition_types::EFI),
            ("rpool", pool_mib * MIB, gpt::partition_types::MACOS_ZFS),
        ],
    )
}

/// The boot volume of [`Layout::WholeDisk`], as nixpkgs' `parted` script makes it: a 1 MiB
/// BIOS boot partition, then the ESP up to the last MiB.
fn write_boot_volume_table(image: &Path) -> Result<()> {
    let esp = (BOOT_VOLUME_MIB - 3) * MIB;
    write_gpt(
        image,
        &[
            ("no-fs", MIB, gpt::partition_types::BIOS),
            ("ESP", esp, gpt::partition_types::EFI),
        ],
    )
}

/// A protective MBR and a GPT of `parts` (name, bytes, type), each aligned to 1 MiB.
fn write_gpt(image: &Path, parts: &[(&str, u64, gpt::partition_types::Type)]) -> Result<()> {
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
    for (name, bytes, kind) in parts {
        disk.add_partition(name, *bytes, kind.clone(), 0, Some(2048))?;
    }
    disk.write().context("writing the GPT")?;
    Ok(())
}

/// The images of a golden build, created blank with their partition tables, and the disks the
/// guest gets: the pool's volume (`LAB_EBS`, or `LAB_EBSROOT` beside the boot volume `LAB_EBS`).
fn blank_images(run: &crate::Run, layout: Layout, pool_mib: u64) -> Result<Vec<Disk>> {
    let image = run.path("ebs.img");
    match layout {
        Layout::Partition => {
            disks::create_blank(&image, (ESP_MIB + pool_mib + 4) * MIB)?;
            write_partition_table(&image, pool_mib)?;
            Ok(vec![Disk::ebs(&image)])
        }
        Layout::WholeDisk => {
            let boot = run.path("boot.img");
            disks::create_blank(&boot, BOOT_VOLUME_MIB * MIB)?;
            write_boot_volume_table(&boot)?;
            // ZFS's own partitions: its data on part1, and 8 MiB reserved on part9.
            disks::create_blank(&image, (pool_mib + 16) * MIB)?;
            Ok(vec![
                Disk::ebs(&boot),
                Disk::ebs_volume(&image, ROOT_VOLUME_ID),
            ])
        }
    }
}

/// The QEMU id of [`Layout::WholeDisk`]'s pool volume (`LAB_EBSROOT` in the guest).
pub const ROOT_VOLUME_ID: &str = "ebsroot";

/// Returns the golden image for `data_mib` MiB of data in the default [`Layout::Partition`].
pub fn golden(lab: &Lab, data_mib: u64) -> Result<Golden> {
    golden_in(lab, Layout::Partition, data_mib)
}

/// Returns the golden image of `layout` for `data_mib` MiB of data, building it if it is not
/// cached.
pub fn golden_in(lab: &Lab, layout: Layout, data_mib: u64) -> Result<Golden> {
    golden_sized(lab, layout, data_mib, pool_partition_mib(data_mib))
}

/// [`golden_in`] with a pool of `pool_mib` MiB (its partition, or its whole volume's data), for
/// a scenario that writes more than the default's free space.
pub fn golden_sized(lab: &Lab, layout: Layout, data_mib: u64, pool_mib: u64) -> Result<Golden> {
    // The default shapes keep the keys they had before shapes existed: their cached images stay.
    let mut suffix = match layout {
        Layout::Partition => String::new(),
        other => format!("-{}", other.name()),
    };
    if pool_mib != pool_partition_mib(data_mib) {
        suffix += &format!("-pool{pool_mib}mib");
    }
    let key = format!(
        "{}-{}mib-v{LAYOUT_VERSION}{suffix}",
        lab.pins.cache_key(),
        data_mib
    );
    let dir = cache::root().join("golden").join(&key);
    let _lock = cache::lock(&format!("golden-{key}"))?;
    if let Some(g) = load(&dir, layout, data_mib)? {
        return Ok(g);
    }
    let step = Step::start(
        format!("golden image {data_mib} MiB {}", layout.name()),
        format!(
            "building the golden image ({data_mib} MiB of data, layout {}, OpenZFS {}; once)",
            layout.name(),
            lab.pair
        ),
    );
    let run = lab.new_run(&format!("golden-{data_mib}mib-{}", layout.name()))?;
    let disks = blank_images(&run, layout, pool_mib)?;
    let images: Vec<PathBuf> = disks.iter().map(|d| d.image.clone()).collect();
    let env = format!(
        "DATA_MIB={data_mib}\nPOOL={}\nLAYOUT={}\n",
        layout.pool(),
        layout.name()
    );
    let spec = BootSpec::new("golden", disks, SCRIPT).file("/lab/golden.env", env);
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
    for image in &images {
        std::fs::rename(
            image,
            staging.join(image.file_name().context("an image name")?),
        )?;
    }
    std::fs::write(staging.join("manifest.md5"), &manifest)?;
    std::fs::write(staging.join("pool-alloc-bytes"), alloc.to_string())?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::rename(&staging, &dir)?;
    run.remove_images()?;
    step.done();
    load(&dir, layout, data_mib)?.context("the golden image vanished after it was built")
}

fn load(dir: &Path, layout: Layout, data_mib: u64) -> Result<Option<Golden>> {
    let image = dir.join("ebs.img");
    let boot_image = (layout == Layout::WholeDisk).then(|| dir.join("boot.img"));
    let (Ok(manifest), Ok(alloc)) = (
        std::fs::read_to_string(dir.join("manifest.md5")),
        std::fs::read_to_string(dir.join("pool-alloc-bytes")),
    ) else {
        return Ok(None);
    };
    if !image.exists() || boot_image.as_ref().is_some_and(|b| !b.exists()) {
        return Ok(None);
    }
    Ok(Some(Golden {
        dir: dir.to_path_buf(),
        layout,
        image,
        boot_image,
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

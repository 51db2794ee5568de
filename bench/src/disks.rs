//! Disks like an EC2 instance's: one throttled EBS volume and any number of instance stores, each an
//! emulated NVMe controller with the serial AWS gives it. QEMU cannot set the NVMe model number, so
//! the guest's init shows the AWS model in sysfs (see `guest/init.sh`).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::cmd;

/// What a disk is to the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiskKind {
    /// A network volume: `Amazon Elastic Block Store`, serial `vol` + the volume id's hex digits.
    Ebs,
    /// A local NVMe disk: `Amazon EC2 NVMe Instance Storage`, serial `AWS` + 17 hex digits.
    InstanceStore,
    /// A virtio-blk disk, as OpenStack (the Sovereign Cloud Stack's flavors) attaches volumes and
    /// ephemeral disks: no model at all, so only zevac's explicit disk lists can tell them apart.
    Virtio,
}

impl DiskKind {
    /// The NVMe model number AWS reports (sysfs shows it trimmed of its space padding).
    pub fn model(self) -> &'static str {
        match self {
            DiskKind::Ebs => "Amazon Elastic Block Store",
            DiskKind::InstanceStore => "Amazon EC2 NVMe Instance Storage",
            DiskKind::Virtio => "",
        }
    }
}

/// A QEMU I/O throttle, as EBS applies one (gp3: 125 MiB/s and 3000 IOPS baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Throttle {
    /// Reads and writes together, bytes per second.
    pub bytes_per_second: u64,
    /// Reads and writes together, operations per second; `None` for no limit.
    pub iops: Option<u64>,
}

impl Throttle {
    pub fn mib_per_second(mib: u64) -> Self {
        Self {
            bytes_per_second: mib << 20,
            iops: None,
        }
    }
}

/// One emulated disk of a boot.
#[derive(Debug, Clone)]
pub struct Disk {
    /// QEMU's drive id, also the name a test uses (`ebs`, `is0`, ...).
    pub id: String,
    pub kind: DiskKind,
    pub image: PathBuf,
    pub serial: String,
    pub logical_block_size: u32,
    pub physical_block_size: u32,
    pub throttle: Option<Throttle>,
    /// Failing sectors (QEMU's `blkdebug`): every read or write covering one fails with EIO,
    /// as a failing volume would.
    pub faults: Vec<Fault>,
}

/// One failing 512-byte sector of a [`Disk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub sector: u64,
    /// `true`: writes covering it fail; `false`: reads.
    pub write: bool,
}

/// A serial of `prefix` and 17 hex digits derived from `seed`, stable across boots of a run.
fn serial(prefix: &str, seed: &str, upper: bool) -> String {
    let hex = hex(&Sha256::digest(seed.as_bytes()));
    let digits = &hex[..17];
    format!(
        "{prefix}{}",
        if upper {
            digits.to_uppercase()
        } else {
            digits.to_string()
        }
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Disk {
    /// The EBS boot volume: 512-byte logical, 4096-byte physical sectors, as an EC2 instance's lsblk shows.
    pub fn ebs(image: impl Into<PathBuf>) -> Self {
        Self::ebs_volume(image, "ebs")
    }

    /// Another EBS volume (a data volume beside the boot one), named `id` in QEMU and the guest
    /// (`LAB_<ID>`); its serial is derived from `id`.
    pub fn ebs_volume(image: impl Into<PathBuf>, id: &str) -> Self {
        Self {
            id: id.into(),
            kind: DiskKind::Ebs,
            serial: serial("vol0", id, false)[..20].to_string(),
            image: image.into(),
            logical_block_size: 512,
            physical_block_size: 4096,
            throttle: None,
            faults: Vec::new(),
        }
    }

    /// Instance store number `index`: 512-byte sectors, unthrottled.
    pub fn instance_store(image: impl Into<PathBuf>, index: usize) -> Self {
        let id = format!("is{index}");
        Self {
            serial: serial("AWS", &id, true),
            id,
            kind: DiskKind::InstanceStore,
            image: image.into(),
            logical_block_size: 512,
            physical_block_size: 512,
            throttle: None,
            faults: Vec::new(),
        }
    }

    /// A virtio-blk disk named `id` (`LAB_<ID>` in the guest), 512-byte sectors; its serial
    /// (`os-<id>`, at most 20 characters) makes its by-id name.
    pub fn virtio(image: impl Into<PathBuf>, id: &str) -> Self {
        Self {
            id: id.into(),
            kind: DiskKind::Virtio,
            serial: format!("os-{id}").chars().take(20).collect(),
            image: image.into(),
            logical_block_size: 512,
            physical_block_size: 512,
            throttle: None,
            faults: Vec::new(),
        }
    }

    pub fn throttled(mut self, throttle: Throttle) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// Reads covering `sector` (512-byte units from the start of the disk) fail with EIO.
    pub fn bad_sector(mut self, sector: u64) -> Self {
        self.faults.push(Fault {
            sector,
            write: false,
        });
        self
    }

    /// Writes covering any of `sectors` fail with EIO.
    pub fn failing_writes(mut self, sectors: impl IntoIterator<Item = u64>) -> Self {
        self.faults.extend(sectors.into_iter().map(|sector| Fault {
            sector,
            write: true,
        }));
        self
    }

    /// blkdebug's rules for the faults, one `[inject-error]` section each.
    pub fn blkdebug_config(&self) -> String {
        self.faults
            .iter()
            .map(|f| {
                format!(
                    "[inject-error]\nevent = \"{}\"\nerrno = \"5\"\nsector = \"{}\"\n\n",
                    if f.write { "write_aio" } else { "read_aio" },
                    f.sector
                )
            })
            .collect()
    }

    /// Where [`Disk::qemu_args`] expects [`Disk::blkdebug_config`] (beside the image).
    pub fn blkdebug_path(&self) -> PathBuf {
        let mut p = self.image.clone().into_os_string();
        p.push(".blkdebug");
        p.into()
    }

    pub fn sectors(mut self, logical: u32, physical: u32) -> Self {
        self.logical_block_size = logical;
        self.physical_block_size = physical;
        self
    }

    /// The `/dev/disk/by-id` name udev gives the whole disk in the guest.
    pub fn by_id(&self) -> String {
        match self.kind {
            DiskKind::Virtio => format!("/dev/disk/by-id/virtio-{}", self.serial),
            _ => format!(
                "/dev/disk/by-id/nvme-{}_{}",
                self.kind.model().replace(' ', "_"),
                self.serial
            ),
        }
    }

    /// QEMU arguments for this disk.
    pub fn qemu_args(&self) -> Vec<String> {
        let mut drive = if self.faults.is_empty() {
            format!(
                "file={},if=none,id={},format=raw,cache=none,aio=threads,discard=unmap",
                self.image.display(),
                self.id
            )
        } else {
            // blkdebug between the raw format and the file: its rules fire on the raw driver's
            // read and write events, for requests covering a sector; the rules are a file
            // (written by the VM's launcher) because a list of them does not fit `-drive`.
            format!(
                "if=none,id={},driver=raw,cache=none,discard=unmap,file.driver=blkdebug,\
                 file.config={},file.image.driver=file,file.image.filename={},\
                 file.image.aio=threads",
                self.id,
                self.blkdebug_path().display(),
                self.image.display()
            )
        };
        if let Some(t) = self.throttle {
            drive.push_str(&format!(",throttling.bps-total={}", t.bytes_per_second));
            if let Some(iops) = t.iops {
                drive.push_str(&format!(",throttling.iops-total={iops}"));
            }
        }
        // virtio-blk passes the physical sector size on to the guest; QEMU 10.0's nvme does not
        // (docs/lab.md, known limits).
        let bus = match self.kind {
            DiskKind::Virtio => "virtio-blk-pci",
            _ => "nvme",
        };
        let device = format!(
            "{bus},serial={},drive={},logical_block_size={},physical_block_size={}",
            self.serial, self.id, self.logical_block_size, self.physical_block_size
        );
        vec!["-drive".into(), drive, "-device".into(), device]
    }
}

/// Creates a sparse, blank image of `bytes` (an instance store starts blank).
pub fn create_blank(path: &Path, bytes: u64) -> Result<()> {
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.set_len(bytes)?;
    Ok(())
}

/// Copies an image keeping it sparse (a boot works on a copy; the golden image stays untouched).
pub fn copy_sparse(src: &Path, dst: &Path) -> Result<()> {
    cmd::run(Command::new("cp").arg("--sparse=always").arg(src).arg(dst))?;
    Ok(())
}

/// The sha256 of a whole image file, hex.
pub fn sha256(path: &Path) -> Result<String> {
    use nix::unistd::{lseek, Whence};
    use std::io::{Seek, SeekFrom};
    let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = f.metadata()?.len() as i64;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 4 << 20];
    let zeros = vec![0u8; 4 << 20];
    let mut pos = 0;
    while pos < len {
        // A hole reads as zeros: hashed without reading it (the images are mostly holes, and
        // reading one makes the kernel zero every page of it).
        let data = match lseek(&f, pos, Whence::SeekData) {
            Ok(at) => at,
            Err(nix::errno::Errno::ENXIO) => len,
            Err(e) => return Err(e).with_context(|| format!("seeking in {}", path.display())),
        };
        for chunk in chunk_lengths(data - pos, zeros.len()) {
            h.update(&zeros[..chunk]);
        }
        if data >= len {
            break;
        }
        let end = lseek(&f, data, Whence::SeekHole)
            .with_context(|| format!("seeking in {}", path.display()))?;
        f.seek(SeekFrom::Start(data as u64))?;
        for chunk in chunk_lengths(end - data, buf.len()) {
            f.read_exact(&mut buf[..chunk])?;
            h.update(&buf[..chunk]);
        }
        pos = end;
    }
    Ok(hex(&h.finalize()))
}

/// `total` bytes as pieces of at most `max`.
fn chunk_lengths(total: i64, max: usize) -> impl Iterator<Item = usize> {
    let mut left = total.max(0) as u64;
    std::iter::from_fn(move || {
        let n = left.min(max as u64) as usize;
        left -= n as u64;
        (n > 0).then_some(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Holes before, between and after data, one over the read buffer's size: the same digest
    /// as of the bytes read plainly.
    #[test]
    fn sha256_of_a_sparse_file_is_that_of_its_bytes() {
        use std::io::{Seek, SeekFrom, Write};
        let path = std::env::temp_dir().join(format!("zevac-sparse-{}", std::process::id()));
        let mut f = File::create(&path).unwrap();
        for (at, byte) in [(1u64 << 20, 1u8), (9 << 20, 2), (9 << 20 | 4096, 3)] {
            f.seek(SeekFrom::Start(at)).unwrap();
            f.write_all(&vec![byte; 5000]).unwrap();
        }
        f.set_len(16 << 20).unwrap();
        drop(f);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(sha256(&path).unwrap(), hex(&Sha256::digest(&bytes)));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn serials_look_like_aws_ones() {
        let ebs = Disk::ebs("x");
        assert_eq!(ebs.serial.len(), 20);
        assert!(ebs.serial.starts_with("vol0"));
        let is = Disk::instance_store("y", 1);
        assert_eq!(is.serial.len(), 20);
        assert!(is.serial.starts_with("AWS"));
        assert_ne!(is.serial, Disk::instance_store("y", 0).serial);
        assert_eq!(
            is.by_id(),
            format!(
                "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_{}",
                is.serial
            )
        );
    }

    #[test]
    fn throttle_goes_on_the_drive() {
        let d = Disk::ebs("/tmp/e.img").throttled(Throttle {
            bytes_per_second: 1 << 25,
            iops: Some(3000),
        });
        let args = d.qemu_args().join(" ");
        assert!(
            args.contains("throttling.bps-total=33554432,throttling.iops-total=3000"),
            "{args}"
        );
        assert!(args.contains("physical_block_size=4096"), "{args}");
    }

    #[test]
    fn virtio_disks_have_no_model_and_a_virtio_by_id_name() {
        let d = Disk::virtio("/tmp/v.img", "root").sectors(512, 4096);
        assert_eq!(d.by_id(), "/dev/disk/by-id/virtio-os-root");
        let args = d.qemu_args().join(" ");
        assert!(
            args.contains("virtio-blk-pci,serial=os-root,drive=root,logical_block_size=512,physical_block_size=4096"),
            "{args}"
        );
    }

    #[test]
    fn a_bad_sector_puts_blkdebug_under_the_drive() {
        let args = Disk::ebs("/tmp/e.img")
            .bad_sector(4242)
            .qemu_args()
            .join(" ");
        assert!(
            args.contains("file.driver=blkdebug,file.config=/tmp/e.img.blkdebug,file.image.driver=file,file.image.filename=/tmp/e.img"),
            "{args}"
        );
        let rules = Disk::ebs("/tmp/e.img")
            .bad_sector(4242)
            .failing_writes([8, 16])
            .blkdebug_config();
        assert_eq!(rules.matches("[inject-error]").count(), 3, "{rules}");
        assert!(rules.contains("event = \"read_aio\"\nerrno = \"5\"\nsector = \"4242\""));
        assert!(rules.contains("event = \"write_aio\"\nerrno = \"5\"\nsector = \"16\""));
    }
}

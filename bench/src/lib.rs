//! The zevac lab: a Debian kernel with real OpenZFS, booted under QEMU's software emulation on
//! emulated EC2 disks (a throttled EBS volume and instance stores), running scenarios in an initrd
//! like the one zevac lives in.
//!
//! ```no_run
//! use zevac_bench::{Lab, ZfsPair};
//! let lab = Lab::prepare(ZfsPair::V2_3)?;
//! let report = zevac_bench::selftest::run(&lab, &Default::default())?;
//! println!("{}", serde_json::to_string(&report)?);
//! # anyhow::Ok(())
//! ```

pub mod apply_log;
pub mod apt;
pub mod cache;
pub mod cell;
pub mod cmd;
pub mod demo;
pub mod disks;
pub mod events;
pub mod golden;
pub mod initramfs;
pub mod kernel;
pub mod nixos;
pub mod peers;
pub mod pins;
pub mod plots;
pub mod qmp;
pub mod resolve;
pub mod selftest;
pub mod step;
pub mod sweep;
pub mod versions;
pub mod vm;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

pub use disks::{Disk, DiskKind, Throttle};
pub use events::{CmdRecord, Event, Events};
pub use versions::{PairPins, Versions, ZfsPair};
pub use vm::{BootSpec, Outcome, Vm};

use initramfs::Initramfs;
use kernel::Kernel;

const INIT: &str = include_str!("../guest/init.sh");
const LIB: &str = include_str!("../guest/lib.sh");
/// The two inits' shared parts, and the systemd boot's init and units.
const GUEST_FILES: &[(&str, &str, u32)] = &[
    ("/lab/early.sh", include_str!("../guest/early.sh"), 0o644),
    ("/lab/run.sh", include_str!("../guest/run.sh"), 0o644),
    (
        vm::Init::SYSTEMD_PATH,
        include_str!("../guest/init-systemd.sh"),
        0o755,
    ),
    (
        "/etc/systemd/system/lab.target",
        include_str!("../guest/lab.target"),
        0o644,
    ),
    (
        "/etc/systemd/system/lab-scenario.service",
        include_str!("../guest/lab-scenario.service"),
        0o644,
    ),
    // systemd runs in initrd mode where this file exists, as in NixOS's initrd.
    (
        "/etc/initrd-release",
        "NAME=\"zevac lab initrd\"\nID=lab\n",
        0o644,
    ),
];

/// How long a guest may take from QEMU's start to its scenario's start before it is booted
/// again: a normal boot takes 5 to 30 s (under systemd, with zevac's initrd unit before it).
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// A prepared lab for one kernel/OpenZFS pair: assets fetched and built, base initramfs assembled.
pub struct Lab {
    pub pair: ZfsPair,
    /// The Debian versions this lab runs, resolved from the mirror or from the cached build.
    pub pins: PairPins,
    pub kernel: Kernel,
    base: Initramfs,
    lib_dirs: Vec<PathBuf>,
}

/// A directory for one scenario's boots, its disk images and logs.
pub struct Run {
    pub dir: PathBuf,
    boots: AtomicUsize,
}

impl Run {
    /// Path of a file in the run directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The disks of an EC2 instance booted from `golden`: sparse copies of its volumes as EBS
    /// (the pool's volume throttled unless `throttle` is `None`; a boot volume, first, is
    /// not), then `stores` blank instance stores of `store_mib` MiB each.
    pub fn ec2_disks(
        &self,
        golden: &golden::Golden,
        throttle: Option<Throttle>,
        stores: usize,
        store_mib: u64,
    ) -> Result<Vec<Disk>> {
        let ebs = self.path("ebs.img");
        disks::copy_sparse(&golden.image, &ebs)?;
        let mut list = Vec::new();
        let mut pool_volume = match &golden.boot_image {
            None => Disk::ebs(&ebs),
            Some(boot) => {
                let copy = self.path("boot.img");
                disks::copy_sparse(boot, &copy)?;
                list.push(Disk::ebs(&copy));
                Disk::ebs_volume(&ebs, golden::ROOT_VOLUME_ID)
            }
        };
        if let Some(t) = throttle {
            pool_volume = pool_volume.throttled(t);
        }
        list.push(pool_volume);
        for i in 0..stores {
            let img = self.path(&format!("is{i}.img"));
            disks::create_blank(&img, store_mib << 20)?;
            list.push(Disk::instance_store(img, i));
        }
        Ok(list)
    }

    /// Deletes the run's disk images (logs stay), for runs that passed.
    pub fn remove_images(&self) -> Result<()> {
        for entry in std::fs::read_dir(&self.dir)? {
            let p = entry?.path();
            if p.extension().is_some_and(|e| e == "img" || e == "cpio") {
                std::fs::remove_file(&p)?;
            }
        }
        Ok(())
    }
}

impl Lab {
    /// Sets the host up and builds what is missing: slow the first time, seconds after that.
    /// Uses the cached build unless `ZEVAC_LAB_REFRESH=1` ([`pins::choose`]).
    pub fn prepare(pair: ZfsPair) -> Result<Lab> {
        Self::prepare_with(pair, pins::refresh_from_env())
    }

    /// [`Lab::prepare`]; with `refresh`, the versions are resolved from the mirror again.
    pub fn prepare_with(pair: ZfsPair, refresh: bool) -> Result<Lab> {
        apt::ensure_host().context("setting up the host for the lab")?;
        let pins = pins::choose(pair, refresh)?;
        let kernel = kernel::prepare(&pins).with_context(|| {
            format!(
                "preparing the guest kernel for OpenZFS {pair} ({})",
                pins.summary()
            )
        })?;
        pins::record(&pins).context("recording the resolved versions")?;
        let root = &kernel.guest_root;
        let lib_dirs = vec![
            root.join("lib/x86_64-linux-gnu"),
            root.join("usr/lib/x86_64-linux-gnu"),
            root.join("usr/lib/x86_64-linux-gnu/systemd"),
        ];
        let base = base_initramfs(&kernel, &lib_dirs).context("assembling the guest initramfs")?;
        Ok(Lab {
            pair,
            pins,
            kernel,
            base,
            lib_dirs,
        })
    }

    /// The versions this lab runs, as results record them.
    pub fn versions(&self) -> Versions {
        self.pins.summary()
    }

    /// A new run directory under `$ZEVAC_LAB_RUNS` (default: the cache's `runs/`).
    pub fn new_run(&self, name: &str) -> Result<Run> {
        let root = std::env::var_os("ZEVAC_LAB_RUNS")
            .map(PathBuf::from)
            .unwrap_or_else(|| cache::root().join("runs"));
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
        let dir = cache::dir(root.join(format!("{name}-zfs{}-{stamp}", self.pair)))?;
        Ok(Run {
            dir,
            boots: AtomicUsize::new(0),
        })
    }

    /// Boots the guest; the returned handle reads events, waits, kills. The guest has started
    /// its scenario when this returns, unless it stopped or ran out of time first.
    ///
    /// Under QEMU's software emulation a guest kernel sometimes stalls in early boot (an RCU
    /// stall report on the console, then no progress; seen once in 152 boots of the lab's
    /// recorded runs), and QEMU itself sometimes aborts before the guest printed a line
    /// (backports' QEMU 10.0: `iotlb_to_section: Assertion ... failed`, SIGABRT; seen once).
    /// Until the scenario starts nothing has touched the disks, so such a boot is killed as soon
    /// as it shows, and the guest booted once more; the first boot's console and `qemu.log` stay
    /// in the run directory. A guest that powers off by itself before its scenario is not booted
    /// again: that is its own failure.
    pub fn boot(&self, run: &Run, spec: &BootSpec) -> Result<Vm> {
        let mut vm = self.boot_once(run, spec)?;
        let ready = vm.wait_ready(READY_TIMEOUT)?;
        let why = match ready {
            _ if vm.past_deadline() => return Ok(vm),
            vm::Ready::Started if !vm.qemu_died_before_ready() => return Ok(vm),
            vm::Ready::Started => "QEMU stopped by a signal before the scenario started",
            vm::Ready::Stalled => "the guest kernel reported an RCU stall before the scenario",
            vm::Ready::TimedOut => "the guest did not start its scenario in time",
        };
        vm.kill()?;
        tracing::warn!(
            console = %vm.files.console.display(),
            "{why} ({READY_TIMEOUT:?} allowed): booting it once more"
        );
        self.boot_once(run, spec)
    }

    fn boot_once(&self, run: &Run, spec: &BootSpec) -> Result<Vm> {
        let n = run.boots.fetch_add(1, Ordering::SeqCst);
        let files = vm::RunFiles::new(&run.dir, n);
        vm::write_initramfs(&self.base, spec, &self.lib_dirs, &files.initrd)?;
        Vm::start(&self.kernel.image, spec, files)
    }

    /// Boots and waits for the guest to power off; fails if the scenario did.
    pub fn run(&self, run: &Run, spec: &BootSpec) -> Result<Outcome> {
        self.boot(run, spec)?.wait_exit()?.ok()
    }
}

/// Builds the `zevac` binary of this work tree (release) with cargo and returns its path: for the
/// command line, which is not run by cargo test and so has no `CARGO_BIN_EXE_zevac`.
pub fn build_zevac() -> Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the workspace root")?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    cmd::run(Command::new(cargo).current_dir(root).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "zevac",
        "--bin",
        "zevac",
    ]))
    .context("building zevac from the work tree")?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release/zevac"))
}

/// The parts of the initramfs every boot shares.
fn base_initramfs(kernel: &Kernel, lib_dirs: &[PathBuf]) -> Result<Initramfs> {
    let root = &kernel.guest_root;
    let mut ir = Initramfs::new();
    for d in [
        "/proc",
        "/sys",
        "/dev",
        "/run",
        "/tmp",
        "/mnt",
        "/var",
        "/root",
        "/etc/zfs",
        "/usr/sbin",
        "/usr/bin",
    ] {
        ir.dir(d);
    }
    add_busybox(&mut ir, &root.join("bin/busybox"))?;
    ir.bytes("/init", INIT, 0o755)
        .bytes("/lab/lib.sh", LIB, 0o644);
    for (path, text, mode) in GUEST_FILES {
        ir.bytes(path, *text, *mode);
    }
    ir.bytes("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644);
    ir.bytes(
        "/etc/group",
        "root:x:0:\ndisk:x:6:\ntty:x:5:\nkmem:x:15:\ninput:x:101:\nkvm:x:102:\n",
        0o644,
    );
    add_tools(&mut ir, root, lib_dirs)?;
    add_modules(&mut ir, &kernel.modules)?;
    Ok(ir)
}

/// busybox and a link for each of its applets.
fn add_busybox(ir: &mut Initramfs, busybox: &Path) -> Result<()> {
    ir.file("/bin/busybox", busybox)?;
    let applets =
        cmd::stdout(Command::new(busybox).arg("--list-full")).context("listing busybox applets")?;
    // The list names bin/busybox itself; a link there would replace the binary with a loop.
    for applet in applets
        .lines()
        .filter(|a| !a.is_empty() && *a != "bin/busybox")
    {
        ir.symlink(&format!("/{applet}"), "/bin/busybox");
    }
    Ok(())
}

/// OpenZFS and the rest of the guest's tools, from the unpacked packages, with udev.
fn add_tools(ir: &mut Initramfs, root: &Path, lib_dirs: &[PathBuf]) -> Result<()> {
    for tool in [
        "sbin/zpool",
        "sbin/zfs",
        "sbin/zdb",
        "sbin/mount.zfs",
        "sbin/mkfs.fat",
        "bin/udevadm",
        "sbin/blkid",
        "sbin/blockdev",
        "sbin/wipefs",
        "sbin/mke2fs",
        "sbin/dmsetup",
        "bin/bash",
    ] {
        ir.binary(&format!("/{tool}"), &root.join(tool), lib_dirs)
            .with_context(|| format!("adding {tool}"))?;
    }
    // glibc dlopens libgcc_s for pthread_exit (zdb needs it); ldd does not list it.
    ir.file(
        "/lib/x86_64-linux-gnu/libgcc_s.so.1",
        Path::new("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
    )?;
    // systemd as PID 1 (the systemd boot), with its units and udev's.
    ir.binary(
        "/lib/systemd/systemd",
        &root.join("lib/systemd/systemd"),
        lib_dirs,
    )?
    .binary("/bin/systemctl", &root.join("bin/systemctl"), lib_dirs)?
    // The journal, as NixOS's initrd has it: `journalctl -u zevac` in a scenario.
    .binary(
        "/lib/systemd/systemd-journald",
        &root.join("lib/systemd/systemd-journald"),
        lib_dirs,
    )?
    .binary("/bin/journalctl", &root.join("bin/journalctl"), lib_dirs)?
    // The root's mounts from an fstab, as NixOS's initrd has them (SYSTEMD_SYSROOT_FSTAB).
    .binary(
        "/lib/systemd/system-generators/systemd-fstab-generator",
        &root.join("lib/systemd/system-generators/systemd-fstab-generator"),
        lib_dirs,
    )?
    .binary(
        "/bin/systemd-run",
        &root.join("usr/bin/systemd-run"),
        lib_dirs,
    )?
    // nixpkgs' import unit asks for a prompted key with it.
    .binary(
        "/bin/systemd-ask-password",
        &root.join("bin/systemd-ask-password"),
        lib_dirs,
    )?
    .tree("/lib/systemd/system", &root.join("lib/systemd/system"))
    .context("adding systemd's units")?;
    // Debian's systemd-udevd is udevadm under another name (an absolute symlink).
    ir.symlink("/lib/systemd/systemd-udevd", "/bin/udevadm");
    ir.tree("/lib/udev", &root.join("lib/udev"))
        .context("adding udev's rules and helpers")?
        // The hardware database's sources (9 MiB): only `udevadm hwdb --update` reads them.
        .remove("/lib/udev/hwdb.d");
    for helper in elf_files(&root.join("lib/udev"))? {
        let rel = helper.strip_prefix(root)?.to_string_lossy().into_owned();
        ir.binary(&format!("/{rel}"), &helper, lib_dirs)
            .with_context(|| format!("adding {rel}"))?;
    }
    Ok(())
}

/// The kernel modules, and the order `/init` loads them in.
fn add_modules(ir: &mut Initramfs, modules: &[PathBuf]) -> Result<()> {
    let mut order = String::new();
    for module in modules {
        let name = module
            .file_name()
            .context("module path")?
            .to_string_lossy()
            .into_owned();
        ir.file(&format!("/lab/modules/{name}"), module)?;
        order.push_str(&name);
        order.push('\n');
    }
    ir.bytes("/lab/modules.order", order, 0o644);
    Ok(())
}

/// ELF executables directly in `dir` (udev's helper programs).
fn elf_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let mut magic = [0u8; 4];
        use std::io::Read;
        if std::fs::File::open(entry.path())?
            .read_exact(&mut magic)
            .is_ok()
            && &magic == b"\x7fELF"
        {
            found.push(entry.path());
        }
    }
    Ok(found)
}

//! The guest kernel: its image, its modules (with their dependencies from `modules.dep`), and
//! OpenZFS' `spl.ko`/`zfs.ko` built once from `zfs-dkms` against the pinned headers and cached.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::step::Step;
use crate::versions::PairPins;
use crate::{apt, cache, cmd};

/// Kernel modules the guest loads before OpenZFS: NVMe for the disks, device mapper for the
/// immutable-origin mode (and the bench's dm-cache peer). Their dependencies are added from
/// `modules.dep`.
pub const GUEST_MODULES: &[&str] = &[
    "nvme",
    "virtio_pci",
    "virtio_blk",
    "dm-snapshot",
    "dm-flakey",
    // libcrc32c (under dm-cache) asks the crypto API for "crc32c" when it loads: a soft
    // dependency (`modules.softdep`), which modules.dep does not list.
    "crc32c_generic",
    "dm-cache-smq",
];

/// A kernel ready to boot, with the module files the initramfs needs, in load order.
#[derive(Debug, Clone)]
pub struct Kernel {
    pub release: String,
    pub vmlinuz: PathBuf,
    /// What QEMU boots: the ELF inside `vmlinux` entered through its PVH note where it has one
    /// ([`pvh_image`]), else `vmlinuz` itself.
    pub image: PathBuf,
    /// Uncompressed `.ko` files, dependencies first, ending with OpenZFS' (spl.ko ... zfs.ko).
    pub modules: Vec<PathBuf>,
    /// The unpacked guest packages (kernel, OpenZFS user space, busybox, udev).
    pub guest_root: PathBuf,
}

fn guest_tree_name(pins: &PairPins) -> String {
    format!("guest-{}", pins.cache_key())
}

/// The module build's recipe, in the cache key beside the versions: change it when
/// [`NO_DEBUG_INFO`] or the build's steps change, so that no module of the old recipe is booted.
const MODULE_RECIPE: &str = "nodebug";

/// Make's variables for OpenZFS' configure and build: no debug information and so no BTF (the
/// headers' config turns both on). The guest's modules lose their debug sections anyway, and
/// configure's hundreds of test modules each had pahole make BTF, a quarter of configure's time
/// (`bench/RESULTS.md`). The code is the same: same `.text`, same configure results.
/// Passed in `MAKEFLAGS`, which make reads as command-line variables, so that configure's own
/// calls of make get them too.
const NO_DEBUG_INFO: &str = "CONFIG_DEBUG_INFO= CONFIG_DEBUG_INFO_BTF_MODULES=";

fn modules_dir(pins: &PairPins) -> PathBuf {
    cache::root()
        .join("modules")
        .join(format!("{}_{MODULE_RECIPE}", pins.cache_key()))
}

/// Whether everything `prepare` builds for `pins` is in the cache, so no download is needed.
pub fn is_cached(pins: &PairPins) -> bool {
    modules_dir(pins).join("modules.dep").exists()
        && apt::is_unpacked(&guest_tree_name(pins), &pins.guest_packages())
}

/// Fetches, unpacks and builds what `pins` name; every step is skipped when its cache is there.
pub fn prepare(pins: &PairPins) -> Result<Kernel> {
    let release = pins.kernel.release.as_str();
    let _lock = cache::lock(&format!("kernel-{}", pins.cache_key()))?;
    let guest_root = apt::unpacked(&guest_tree_name(pins), &pins.guest_packages())?;
    let zfs_dir = build_zfs_modules(pins)?;
    let mod_root = guest_root.join("lib/modules").join(release);
    if !mod_root.join("modules.dep").exists() {
        // Debian makes modules.dep at install time; the package does not carry it.
        cmd::run(
            Command::new("depmod")
                .arg("-b")
                .arg(&guest_root)
                .arg(release),
        )?;
    }
    let mut modules = resolve_modules(&mod_root, GUEST_MODULES)?
        .into_iter()
        .map(|rel| decompressed(&mod_root, &rel))
        .collect::<Result<Vec<_>>>()?;
    for m in resolve_modules(&zfs_dir, &["zfs"])? {
        modules.push(without_ftrace_records(&zfs_dir, &m)?);
    }
    let vmlinuz = guest_root.join("boot").join(format!("vmlinuz-{release}"));
    let image = pvh_image(&vmlinuz)?.unwrap_or_else(|| vmlinuz.clone());
    Ok(Kernel {
        release: release.to_string(),
        vmlinuz,
        image,
        modules,
        guest_root,
    })
}

/// The kernel inside the bzImage `vmlinuz`, unpacked once beside it, for QEMU to enter through
/// its PVH note (Debian builds `CONFIG_PVH`): that skips the firmware's real-mode loader and the
/// decompressor, which under emulation cost each boot more than a second (`bench/RESULTS.md`).
/// `None` (the bzImage is booted) when the image is packed some other way or has no PVH entry.
fn pvh_image(vmlinuz: &Path) -> Result<Option<PathBuf>> {
    let dst = vmlinuz.with_file_name(
        vmlinuz
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .replacen("vmlinuz", "vmlinux", 1),
    );
    if dst.exists() {
        return Ok(Some(dst));
    }
    let image =
        std::fs::read(vmlinuz).with_context(|| format!("cannot read {}", vmlinuz.display()))?;
    let Some((payload, unpack)) = payload_range(&image)
        .and_then(|r| image.get(r))
        .and_then(|p| Some((p, unpacker(p)?)))
    else {
        tracing::warn!(image = %vmlinuz.display(), "no payload to unpack: booting the bzImage");
        return Ok(None);
    };
    let packed = dst.with_extension("packed");
    cache::write_atomic(&packed, payload)?;
    let out = cmd::run(Command::new(unpack[0]).args(&unpack[1..]).arg(&packed));
    let _ = std::fs::remove_file(&packed);
    let elf = out?.stdout;
    if !elf.starts_with(b"\x7fELF") || !has_pvh_note(&elf) {
        tracing::warn!(image = %vmlinuz.display(), "its kernel has no PVH entry: booting the bzImage");
        return Ok(None);
    }
    cache::write_atomic(&dst, &elf)?;
    Ok(Some(dst))
}

/// Where a bzImage keeps its packed kernel (boot protocol 2.08 and later: `payload_offset` and
/// `payload_length`, from the protected-mode code), without the 4-byte unpacked size the
/// kernel's build appends.
fn payload_range(image: &[u8]) -> Option<std::ops::Range<usize>> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(image.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(image.get(o..o + 4)?.try_into().ok()?));
    if image.get(0x202..0x206)? != b"HdrS" || u16_at(0x206)? < 0x208 {
        return None;
    }
    let setup_sects = match *image.get(0x1f1)? {
        0 => 4,
        n => usize::from(n),
    };
    let start = (setup_sects + 1) * 512 + u32_at(0x248)? as usize;
    let len = (u32_at(0x24c)? as usize).checked_sub(4)?;
    Some(start..start + len)
}

/// The host's command that unpacks `payload`, by its magic: zstd (Debian's 6.12) or xz (6.1).
fn unpacker(payload: &[u8]) -> Option<&'static [&'static str]> {
    if payload.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(&["zstd", "-dc"])
    } else if payload.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some(&["xz", "-dc", "--single-stream"])
    } else {
        None
    }
}

/// Whether an ELF holds the note `Xen`/`XEN_ELFNOTE_PHYS32_ENTRY` (18), the PVH entry QEMU
/// looks for: a note header (name size 4, a descriptor of 4 or 8 bytes, type 18), then `Xen`.
fn has_pvh_note(elf: &[u8]) -> bool {
    elf.windows(16).any(|w| {
        w[..4] == [4, 0, 0, 0]
            && matches!(w[4], 4 | 8)
            && w[5..8] == [0, 0, 0]
            && w[8..12] == [18, 0, 0, 0]
            && &w[12..] == b"Xen\0"
    })
}

/// The modules `wanted` and all they depend on, dependencies first, as paths relative to
/// `mod_root` (as `modules.dep` writes them).
/// Modules built into this kernel (`modules.builtin`) need no loading and are left out: Debian
/// builds virtio_pci in on 6.12 and as a module on 6.1.
pub fn resolve_modules(mod_root: &Path, wanted: &[&str]) -> Result<Vec<String>> {
    let dep_file = mod_root.join("modules.dep");
    let text = std::fs::read_to_string(&dep_file)
        .with_context(|| format!("cannot read {}", dep_file.display()))?;
    let builtin = std::fs::read_to_string(mod_root.join("modules.builtin")).unwrap_or_default();
    let builtin: BTreeSet<String> = builtin.lines().map(module_name).collect();
    let loadable: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !builtin.contains(&w.replace('_', "-")))
        .collect();
    resolve_from_dep(&text, &loadable)
}

fn module_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.split(".ko").next().unwrap_or(file).replace('_', "-")
}

/// [`resolve_modules`] over the text of a `modules.dep`.
pub fn resolve_from_dep(dep_text: &str, wanted: &[&str]) -> Result<Vec<String>> {
    let deps: Vec<(String, Vec<String>)> = dep_text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(m, d)| {
            (
                m.trim().to_string(),
                d.split_whitespace().map(str::to_string).collect(),
            )
        })
        .collect();
    let find = |name: &str| {
        let want = name.replace('_', "-");
        deps.iter().find(|(m, _)| module_name(m) == want)
    };
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    fn visit<'a>(
        path: &'a str,
        deps: &'a [(String, Vec<String>)],
        seen: &mut BTreeSet<&'a str>,
        order: &mut Vec<String>,
    ) {
        if !seen.insert(path) {
            return;
        }
        if let Some((_, ds)) = deps.iter().find(|(m, _)| m == path) {
            for d in ds {
                visit(d, deps, seen, order);
            }
        }
        order.push(path.to_string());
    }
    for name in wanted {
        let Some((path, _)) = find(name) else {
            bail!(
                "kernel module {name} is not in modules.dep (built into this kernel, or misnamed?)"
            );
        };
        visit(path, &deps, &mut seen, &mut order);
    }
    Ok(order)
}

/// Every `.ko` below `dir`.
fn find_ko(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(find_ko(&path)?);
        } else if path.extension().is_some_and(|e| e == "ko") {
            found.push(path);
        }
    }
    Ok(found)
}

/// Debian ships modules as `.ko.xz`; busybox' insmod wants them plain. Decompressed once, beside
/// the original in the cached tree.
fn decompressed(mod_root: &Path, rel: &str) -> Result<PathBuf> {
    let src = mod_root.join(rel);
    let Some(plain) = rel.strip_suffix(".xz") else {
        return Ok(src);
    };
    let dst = mod_root.join(plain);
    if !dst.exists() {
        let out = cmd::run(Command::new("xz").arg("-dc").arg(&src))?;
        cache::write_atomic(&dst, &out.stdout)?;
    }
    Ok(dst)
}

/// The guest's copy of one of OpenZFS' modules, without ftrace's records of its functions
/// (`__mcount_loc`). Loading a module, ftrace checks that each record is at the start of a
/// function by looking its address up with `kallsyms_lookup`, a linear search of the module's
/// symbols per record: for zfs.ko under emulation that took most of the boot (`bench/RESULTS.md`). The code
/// is the same; only ftrace cannot trace it, and each function keeps its call to the kernel's
/// empty `__fentry__`, which ftrace would have turned into a no-op. Made once, beside the build.
fn without_ftrace_records(dir: &Path, name: &str) -> Result<PathBuf> {
    let dst = dir.join("guest").join(name);
    if !dst.exists() {
        let tmp = cache::dir(dir.join("guest"))?.join(format!("{name}.partial"));
        cmd::run(
            Command::new("objcopy")
                .args([
                    "--remove-section=__mcount_loc",
                    "--remove-section=.rela__mcount_loc",
                ])
                .arg(dir.join(name))
                .arg(&tmp),
        )?;
        std::fs::rename(&tmp, &dst)?;
    }
    Ok(dst)
}

/// Builds spl.ko and zfs.ko for the pair's kernel, or returns the cached ones. The key holds every
/// version involved, so a second run never rebuilds.
fn build_zfs_modules(pins: &PairPins) -> Result<PathBuf> {
    let out_dir = modules_dir(pins);
    if out_dir.join("modules.dep").exists() {
        return Ok(out_dir);
    }
    let step = Step::start(
        "build the OpenZFS modules",
        format!(
            "building the OpenZFS {} modules for kernel {} (once; kept in the cache)",
            pins.zfs_version, pins.kernel.release
        ),
    );
    let tree = BuildTree::unpack(pins)?;
    let make_log = tree.compile()?;
    stage_modules(&tree.work, &out_dir, &make_log)?;
    std::fs::remove_dir_all(&tree.work)?;
    step.done();
    Ok(out_dir)
}

/// The unpacked kernel headers and a fresh copy of the OpenZFS source to build in.
struct BuildTree {
    /// The headers' common and arch trees (`--with-linux`, `--with-linux-obj`).
    common: PathBuf,
    arch: PathBuf,
    work: PathBuf,
}

impl BuildTree {
    fn unpack(pins: &PairPins) -> Result<Self> {
        let build_root = apt::unpacked(
            &format!("build-{}", pins.cache_key()),
            &pins.build_packages(),
        )?;
        let src_base = build_root.join("usr/src");
        let common = src_base.join(&pins.kernel.headers_common.package);
        let arch = src_base.join(&pins.kernel.headers_arch.package);
        // The arch headers include the common Makefile by its installed absolute path.
        let makefile = arch.join("Makefile");
        let text = std::fs::read_to_string(&makefile)?;
        let fixed = text.replace(
            "include /usr/src/",
            &format!("include {}/", src_base.display()),
        );
        std::fs::write(&makefile, fixed)?;
        let work =
            cache::dir(cache::root().join("modules"))?.join(format!("{}.build", pins.cache_key()));
        if work.exists() {
            std::fs::remove_dir_all(&work)?;
        }
        let src = src_base.join(format!("zfs-{}", pins.zfs_version));
        cmd::run(Command::new("cp").arg("-a").arg(&src).arg(&work))?;
        Ok(Self { common, arch, work })
    }

    /// `./configure` and `make`; returns make's log.
    fn compile(&self) -> Result<PathBuf> {
        let configure_log = self.work.join("configure.log");
        cmd::run_logged(
            Command::new("./configure")
                .current_dir(&self.work)
                .env("MAKEFLAGS", NO_DEBUG_INFO)
                .arg("--with-config=kernel")
                .arg(format!("--with-linux={}", self.common.display()))
                .arg(format!("--with-linux-obj={}", self.arch.display())),
            &configure_log,
        )
        .context(
            "configuring OpenZFS for the guest kernel (is `dwarves` installed? see the log)",
        )?;
        let make_log = self.work.join("make.log");
        cmd::run_logged(
            Command::new("make")
                .current_dir(&self.work)
                .env("MAKEFLAGS", NO_DEBUG_INFO)
                .arg("-j2"),
            &make_log,
        )
        .context("building the OpenZFS kernel modules")?;
        Ok(make_log)
    }
}

/// The built modules, stripped, with their `modules.dep`, moved into `out_dir` at once.
fn stage_modules(work: &Path, out_dir: &Path, make_log: &Path) -> Result<()> {
    // 2.1 builds nine modules (spl, znvpair, zcommon, icp, ..., zfs); 2.2 merged them into two.
    let staged = cache::dir(out_dir.with_extension("staging"))?;
    let mut dep = String::new();
    for built in find_ko(&work.join("module"))? {
        let name = built
            .file_name()
            .context("module path")?
            .to_string_lossy()
            .into_owned();
        let dst = staged.join(&name);
        cmd::run(
            Command::new("strip")
                .arg("--strip-debug")
                .arg("-o")
                .arg(&dst)
                .arg(&built),
        )?;
        let depends = cmd::stdout(Command::new("modinfo").args(["-F", "depends"]).arg(&dst))?;
        let deps: Vec<String> = depends
            .trim()
            .split(',')
            .filter(|d| !d.is_empty())
            .map(|d| format!("{d}.ko"))
            .collect();
        dep.push_str(&format!("{name}: {}\n", deps.join(" ")));
    }
    if !dep.contains("zfs.ko:") {
        bail!(
            "the OpenZFS build left no zfs.ko; see {}",
            make_log.display()
        );
    }
    std::fs::write(staged.join("modules.dep"), dep)?;
    if out_dir.exists() {
        std::fs::remove_dir_all(out_dir)?;
    }
    std::fs::rename(&staged, out_dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 608 bytes of Debian's two bzImages, and the `.notes` of the 6.12 one's kernel.
    #[test]
    fn the_packed_kernel_and_its_pvh_entry_are_found() {
        let v612 = include_bytes!("../fixtures/linux-6.12/bzimage-header.bin");
        let v61 = include_bytes!("../fixtures/linux-6.1/bzimage-header.bin");
        assert_eq!(payload_range(v612), Some(21_196..21_196 + 11_844_729));
        assert_eq!(payload_range(v61), Some(21_196..21_196 + 8_122_336));
        assert_eq!(payload_range(&v612[..0x240]), None);
        assert_eq!(
            unpacker(&[0x28, 0xb5, 0x2f, 0xfd, 4]),
            Some(&["zstd", "-dc"][..])
        );
        assert_eq!(unpacker(b"\x1f\x8b\x08"), None);
        let notes = include_bytes!("../fixtures/linux-6.12/vmlinux-notes.bin");
        assert!(has_pvh_note(notes));
        assert!(!has_pvh_note(&notes[..32]));
    }

    /// Lines of the modules.dep that `depmod -b` made for the 6.12.117 image.
    const DEP: &str = "\
kernel/drivers/nvme/common/nvme-auth.ko.xz:
kernel/drivers/nvme/host/nvme-core.ko.xz: kernel/drivers/nvme/common/nvme-auth.ko.xz
kernel/drivers/nvme/host/nvme.ko.xz: kernel/drivers/nvme/host/nvme-core.ko.xz kernel/drivers/nvme/common/nvme-auth.ko.xz
kernel/drivers/md/dm-mod.ko.xz:
kernel/drivers/md/dm-bufio.ko.xz: kernel/drivers/md/dm-mod.ko.xz
kernel/drivers/md/dm-flakey.ko.xz: kernel/drivers/md/dm-mod.ko.xz
kernel/drivers/md/dm-snapshot.ko.xz: kernel/drivers/md/dm-bufio.ko.xz kernel/drivers/md/dm-mod.ko.xz
";

    #[test]
    fn dependencies_come_first_and_once() {
        let order = resolve_from_dep(DEP, &["nvme", "dm-snapshot", "dm_flakey"]).unwrap();
        let names: Vec<String> = order.iter().map(|p| module_name(p)).collect();
        assert_eq!(
            names,
            [
                "nvme-auth",
                "nvme-core",
                "nvme",
                "dm-mod",
                "dm-bufio",
                "dm-snapshot",
                "dm-flakey"
            ]
        );
    }

    #[test]
    fn an_unknown_module_is_an_error() {
        let err = resolve_from_dep(DEP, &["virtio-blk"]).unwrap_err();
        assert!(err.to_string().contains("virtio-blk"), "{err}");
    }
}

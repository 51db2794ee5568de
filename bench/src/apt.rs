//! The host side of the lab's assets: apt sources, host packages, and pinned Debian packages fetched
//! with `apt-get download` and unpacked with `dpkg-deb -x` (nothing of the guest is installed on the
//! host).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use anyhow::{bail, Context, Result};

use crate::cache;
use crate::cmd;
use crate::resolve::{self, Offers};
use crate::step::Step;
use crate::versions::{PairSeries, Pin, APT_SOURCES, HOST_BACKPORTS_PACKAGES, HOST_PACKAGES};

const SOURCES_FILE: &str = "/etc/apt/sources.list.d/zevac-lab.sources";

static UPDATED: Once = Once::new();

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn apt_get() -> Command {
    let mut c = Command::new("apt-get");
    c.env("DEBIAN_FRONTEND", "noninteractive");
    c
}

pub(crate) fn apt_update() -> Result<()> {
    let mut result = Ok(());
    UPDATED.call_once(|| {
        result = cmd::run(apt_get().args(["update", "-q"]))
            .map(|_| ())
            .context("apt-get update");
    });
    result
}

/// Makes the host ready: apt sources for contrib and backports, QEMU, pahole and the libraries the
/// guest's binaries link. Does nothing (and needs no root) when all is there already.
pub fn ensure_host() -> Result<()> {
    let sources_ok = std::fs::read_to_string(SOURCES_FILE).is_ok_and(|s| s == APT_SOURCES);
    let missing: Vec<&str> = HOST_PACKAGES
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if sources_ok && missing.is_empty() {
        return Ok(());
    }
    if !nix::unistd::geteuid().is_root() {
        bail!(
            "the lab must set up this host (apt sources in {SOURCES_FILE}, packages {missing:?}) and that needs root: \
             run it as root once"
        );
    }
    if !sources_ok {
        tracing::info!(
            file = SOURCES_FILE,
            "adding bookworm contrib and bookworm-backports to apt's sources"
        );
        std::fs::write(SOURCES_FILE, APT_SOURCES)
            .with_context(|| format!("cannot write {SOURCES_FILE}"))?;
    }
    apt_update()?;
    if !missing.is_empty() {
        let step = Step::start(
            "install host packages",
            format!("installing {}", missing.join(" ")),
        );
        let (backports, main): (Vec<&str>, Vec<&str>) = missing
            .iter()
            .partition(|p| HOST_BACKPORTS_PACKAGES.contains(p));
        if !main.is_empty() {
            cmd::run(
                apt_get()
                    .args(["install", "-y", "-q", "--no-install-recommends"])
                    .args(&main),
            )?;
        }
        if !backports.is_empty() {
            cmd::run(
                apt_get()
                    .args([
                        "install",
                        "-y",
                        "-q",
                        "--no-install-recommends",
                        "-t",
                        "bookworm-backports",
                    ])
                    .args(&backports),
            )?;
        }
        step.done();
    }
    Ok(())
}

/// Installs Debian packages (bookworm's main archive) that are missing, such as the project's
/// check tools; nothing (and no root needed) when all are installed.
pub fn ensure_installed(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !nix::unistd::geteuid().is_root() {
        bail!("packages {missing:?} are missing and installing them needs root");
    }
    let step = Step::start(
        "install packages",
        format!("installing {}", missing.join(" ")),
    );
    apt_update()?;
    cmd::run(
        apt_get()
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing),
    )?;
    step.done();
    Ok(())
}

/// The versions of `package` the mirror offers, for the error message of a pin that left it.
fn offered_versions(package: &str) -> String {
    let text =
        cmd::stdout(Command::new("apt-cache").args(["madison", package])).unwrap_or_default();
    let versions = Offers::from_madison(&text).versions(package);
    if versions.is_empty() {
        "none".into()
    } else {
        versions.join(", ")
    }
}

/// What the mirror offers for `series`, and the `apt-cache madison` text it was read from (kept
/// with the resolution, so a surprising one can be replayed in a unit test).
pub fn offers(series: &PairSeries) -> Result<(Offers, String)> {
    let prefix = format!("linux-image-{}.", series.kernel_series);
    let names = cmd::stdout(Command::new("apt-cache").args(["pkgnames", &prefix]))
        .context("listing the kernel images apt knows")?;
    let abis = resolve::abis(series.kernel_series, names.lines());
    let wanted = resolve::wanted_names(series, &abis);
    let madison = cmd::stdout(Command::new("apt-cache").arg("madison").args(&wanted))
        .context("asking apt which versions the mirror offers")?;
    Ok((Offers::from_madison(&madison), madison))
}

/// The `.deb` of `pin`, downloaded into the cache once.
pub fn deb(pin: &Pin) -> Result<PathBuf> {
    let dir = cache::dir(
        cache::root()
            .join("debs")
            .join(&pin.package)
            .join(pin.version.replace(':', "%3a")),
    )?;
    if let Some(found) = find_deb(&dir)? {
        return Ok(found);
    }
    let step = Step::start("download a package", format!("downloading {pin}"));
    let attempt = || {
        cmd::run(
            apt_get()
                .current_dir(&dir)
                .args(["download", "-q", &pin.apt_spec()]),
        )
    };
    if attempt().is_err() {
        // Stale or missing package lists are the usual cause on a fresh machine: refresh once.
        apt_update()?;
        if let Err(e) = attempt() {
            bail!(
                "cannot download {pin}: the mirror offers {}. `zevac-bench lab setup --refresh` \
                 (or ZEVAC_LAB_REFRESH=1) resolves the pair's versions from the mirror again ({e:#})",
                offered_versions(&pin.package)
            );
        }
    }
    step.done();
    find_deb(&dir)?
        .with_context(|| format!("apt-get download {pin} left no .deb in {}", dir.display()))
}

fn find_deb(dir: &Path) -> Result<Option<PathBuf>> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "deb") {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// The tree `unpacked` makes: `name` plus a digest of the pins, so a changed list never reuses
/// an old tree.
fn tree_path(name: &str, pins: &[Pin]) -> PathBuf {
    use sha2::{Digest, Sha256};
    let specs: Vec<String> = pins.iter().map(Pin::apt_spec).collect();
    let digest = Sha256::digest(specs.join("\n").as_bytes());
    let tag: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    cache::root().join("trees").join(format!("{name}-{tag}"))
}

const COMPLETE: &str = ".zevac-complete";

/// Whether `unpacked(name, pins)` is finished in the cache.
pub fn is_unpacked(name: &str, pins: &[Pin]) -> bool {
    tree_path(name, pins).join(COMPLETE).exists()
}

/// Unpacks `pins` into one tree under the cache, once; returns its root.
pub fn unpacked(name: &str, pins: &[Pin]) -> Result<PathBuf> {
    let root = tree_path(name, pins);
    let stamp = root.join(COMPLETE);
    if stamp.exists() {
        return Ok(root);
    }
    if root.exists() {
        std::fs::remove_dir_all(&root)
            .with_context(|| format!("cannot clear {}", root.display()))?;
    }
    cache::dir(root.clone())?;
    for pin in pins {
        let deb = deb(pin)?;
        cmd::run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))
            .with_context(|| format!("unpacking {pin}"))?;
    }
    std::fs::write(&stamp, b"")?;
    Ok(root)
}

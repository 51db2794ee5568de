//! What the lab pins, and what it resolves from the mirror at set-up time.
//!
//! A pair pins what it tests: the kernel series (6.12 from bookworm-backports and -security, or
//! 6.1 from bookworm) and the OpenZFS release (2.3.2 or 2.1.11); the guest's user space pins each
//! package's upstream release. The Debian versions of these are resolved when the lab is set up
//! (`resolve.rs`): Debian keeps only the newest build of a kernel in `bookworm-security`,
//! so a pinned Debian version leaves the mirror within weeks. The resolved versions are recorded
//! beside the cached builds and in every result.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Debian package at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub package: String,
    pub version: String,
}

impl Pin {
    pub fn new(package: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            package: package.into(),
            version: version.into(),
        }
    }

    /// `package=version`, as apt-get takes it.
    pub fn apt_spec(&self) -> String {
        format!("{}={}", self.package, self.version)
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.package, self.version)
    }
}

/// Which kernel and OpenZFS pair the guest runs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, Deserialize,
)]
pub enum ZfsPair {
    /// bookworm-backports' kernel 6.12 with OpenZFS 2.3.2 (has `zpool status -j`).
    #[value(name = "2.3")]
    #[serde(rename = "2.3")]
    V2_3,
    /// bookworm's kernel 6.1 with contrib's OpenZFS 2.1.11 (text output only).
    #[value(name = "2.1")]
    #[serde(rename = "2.1")]
    V2_1,
}

impl fmt::Display for ZfsPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ZfsPair::V2_3 => "2.3",
            ZfsPair::V2_1 => "2.1",
        })
    }
}

/// Packages that must be at one Debian version, of one upstream release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub packages: &'static [&'static str],
    /// The upstream release, whole (`2.3.2`) or as a series (`252` takes `252.39`, not `253`).
    pub upstream: &'static str,
}

impl Group {
    const fn new(packages: &'static [&'static str], upstream: &'static str) -> Self {
        Self { packages, upstream }
    }
}

/// What a pair holds fixed; the resolver (`resolve.rs`) turns it into [`PairPins`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairSeries {
    pub pair: ZfsPair,
    /// The kernel series, as Debian names its packages (`linux-image-6.12.117+deb12-amd64`).
    pub kernel_series: &'static str,
    /// OpenZFS: zfs-dkms, zfsutils-linux and the libraries zfsutils-linux links.
    pub zfs: Group,
}

impl ZfsPair {
    pub const ALL: [ZfsPair; 2] = [ZfsPair::V2_3, ZfsPair::V2_1];

    pub fn series(self) -> PairSeries {
        match self {
            ZfsPair::V2_3 => PairSeries {
                pair: self,
                kernel_series: "6.12",
                zfs: Group::new(
                    &[
                        "zfs-dkms",
                        "zfsutils-linux",
                        "libzfs6linux",
                        "libzpool6linux",
                        "libnvpair3linux",
                        "libuutil3linux",
                    ],
                    "2.3.2",
                ),
            },
            ZfsPair::V2_1 => PairSeries {
                pair: self,
                kernel_series: "6.1",
                zfs: Group::new(
                    &[
                        "zfs-dkms",
                        "zfsutils-linux",
                        "libzfs4linux",
                        "libzpool5linux",
                        "libnvpair3linux",
                        "libuutil3linux",
                    ],
                    "2.1.11",
                ),
            },
        }
    }
}

/// Guest user space shared by both pairs (bookworm's own), by upstream release.
pub const GUEST_COMMON: &[Group] = &[
    Group::new(&["busybox-static"], "1.35.0"),
    // udev needs libsystemd-shared of its own version; bookworm-backports' 254 is another series.
    // systemd: PID 1 of the lab's systemd boot.
    Group::new(&["udev", "libsystemd-shared", "systemd"], "252"),
    // bash: nixpkgs' unit scripts (the pool's import unit) are bash scripts.
    Group::new(&["bash"], "5.2"),
    Group::new(&["dosfstools"], "4.2"),
    // blkid -p (the blank-disk probe), blockdev, wipefs.
    Group::new(&["util-linux"], "2.38.1"),
    // mke2fs: the lab puts file systems on disks that must then count as not blank.
    Group::new(&["e2fsprogs"], "1.47.0"),
    // dmsetup and its library (and udev rules): the immutable origin's snapshot.
    Group::new(&["dmsetup", "libdevmapper1.02.1"], "1.02.185"),
];

/// The kernel packages of one ABI, at the versions resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelPins {
    /// Debian's ABI name (`6.1.0-57`, `6.12.117+deb12`).
    pub abi: String,
    /// `uname -r` of the guest kernel.
    pub release: String,
    pub image: Pin,
    pub headers_arch: Pin,
    pub headers_common: Pin,
    pub kbuild: Pin,
    /// kbuild is the series' shared package at a newer version than the rest, as the headers'
    /// `Depends: linux-kbuild-<series> (>= version)` allows.
    pub kbuild_mixed: bool,
}

/// The packages that make up one guest, resolved: a kernel, its build headers, an OpenZFS
/// release and the guest's user space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairPins {
    pub pair: ZfsPair,
    pub kernel: KernelPins,
    /// The OpenZFS version as upstream names it (also the directory under /usr/src in zfs-dkms).
    pub zfs_version: String,
    /// zfs-dkms first, then zfsutils-linux and its libraries.
    pub zfs: Vec<Pin>,
    pub guest_common: Vec<Pin>,
}

impl PairPins {
    pub fn zfs_dkms(&self) -> &Pin {
        &self.zfs[0]
    }

    /// Packages whose files go into the guest's initramfs (not the build-only headers).
    pub fn guest_packages(&self) -> Vec<Pin> {
        let mut pins = vec![self.kernel.image.clone()];
        pins.extend(self.zfs[1..].iter().cloned());
        pins.extend(self.guest_common.iter().cloned());
        pins
    }

    /// Whether every package of [`GUEST_COMMON`] is pinned (a resolution recorded before the
    /// list grew lacks some).
    pub fn has_guest_common(&self) -> bool {
        GUEST_COMMON
            .iter()
            .flat_map(|g| g.packages)
            .all(|p| self.guest_common.iter().any(|pin| pin.package == *p))
    }

    /// Packages needed to build spl.ko and zfs.ko for this kernel.
    pub fn build_packages(&self) -> Vec<Pin> {
        let k = &self.kernel;
        vec![
            k.headers_arch.clone(),
            k.headers_common.clone(),
            k.kbuild.clone(),
            self.zfs_dkms().clone(),
        ]
    }

    /// A name for caches that changes whenever the kernel or OpenZFS build changes.
    pub fn cache_key(&self) -> String {
        format!(
            "linux-{}_zfs-{}",
            self.kernel.image.version,
            self.zfs_dkms().version
        )
    }

    /// What results record: the versions as one short line.
    pub fn summary(&self) -> Versions {
        Versions {
            pair: self.pair,
            kernel: self.kernel.release.clone(),
            kernel_package: self.kernel.image.version.clone(),
            kbuild: self.kernel.kbuild.to_string(),
            kbuild_mixed: self.kernel.kbuild_mixed,
            zfs: self.zfs_version.clone(),
            zfs_package: self.zfs_dkms().version.clone(),
        }
    }
}

/// The resolved versions a result was measured with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    pub pair: ZfsPair,
    /// `uname -r`.
    pub kernel: String,
    /// The Debian version of the kernel image.
    pub kernel_package: String,
    pub kbuild: String,
    pub kbuild_mixed: bool,
    /// The OpenZFS release (`2.3.2`).
    pub zfs: String,
    /// The Debian version of zfs-dkms and zfsutils-linux.
    pub zfs_package: String,
}

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kernel {} ({}), OpenZFS {} ({})",
            self.kernel, self.kernel_package, self.zfs, self.zfs_package
        )?;
        if self.kbuild_mixed {
            write!(f, ", with {} (shared by the series)", self.kbuild)?;
        }
        Ok(())
    }
}

/// Installed on the host: the emulator, pahole for zfs' configure, and the shared libraries the
/// guest's binaries are linked against (copied from the host into the initramfs; the host is
/// bookworm like the guest's packages).
pub const HOST_PACKAGES: &[&str] = &[
    "qemu-system-x86",
    "dwarves",
    "build-essential",
    // objcopy, for the guest's copy of the OpenZFS modules and the per-boot binaries without
    // their debug sections (build-essential brings it too).
    "binutils",
    "xz-utils",
    // zstd, to unpack the 6.12 bzImage's kernel for a PVH boot (xz-utils does 6.1's).
    "zstd",
    "kmod",
    "libtirpc3",
    "libssl3",
    "libkmod2",
    "libacl1",
    "libcap2",
    "libselinux1",
    "libblkid1",
    "libuuid1",
    "libudev1",
    "zlib1g",
];

/// The host's qemu-system-x86 comes from backports (10.0: nvme sector sizes, QMP throttling).
pub const HOST_BACKPORTS_PACKAGES: &[&str] = &["qemu-system-x86"];

/// What the lab adds to apt's sources: contrib (OpenZFS) and bookworm-backports. The kernels come
/// from bookworm-security, which Debian's default sources already have.
pub const APT_SOURCES: &str = "\
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
";

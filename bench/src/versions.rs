//! Every pinned package version of the lab, in one place.
//!
//! Debian keeps only the newest build of a kernel in `bookworm-security`, so a pin here can leave the
//! mirror. When it does, `apt-get download` fails and the lab says which package; change the version
//! in this file (`apt-cache madison <package>` lists what the mirror has) and the caches re-key by
//! themselves, because every cache directory is named after these strings.

use std::fmt;

/// A Debian package pinned to one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    pub package: &'static str,
    pub version: &'static str,
}

impl Pin {
    const fn new(package: &'static str, version: &'static str) -> Self {
        Self { package, version }
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
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

/// The packages that make up one guest: a kernel, its build headers and an OpenZFS release.
#[derive(Debug, Clone)]
pub struct PairPins {
    /// `uname -r` of the guest kernel.
    pub kernel_release: &'static str,
    pub kernel_image: Pin,
    pub headers_arch: Pin,
    pub headers_common: Pin,
    pub kbuild: Pin,
    /// The OpenZFS version as upstream names it (also the directory under /usr/src in zfs-dkms).
    pub zfs_version: &'static str,
    pub zfs_dkms: Pin,
    pub zfsutils: Pin,
    /// The OpenZFS user-space libraries zfsutils-linux links.
    pub zfs_libs: [Pin; 4],
}

impl ZfsPair {
    pub const ALL: [ZfsPair; 2] = [ZfsPair::V2_3, ZfsPair::V2_1];

    pub fn pins(self) -> PairPins {
        match self {
            ZfsPair::V2_3 => {
                const K: &str = "6.12.117-1~deb12u1";
                const Z: &str = "2.3.2-2~bpo12+2";
                PairPins {
                    kernel_release: "6.12.117+deb12-amd64",
                    kernel_image: Pin::new("linux-image-6.12.117+deb12-amd64-unsigned", K),
                    headers_arch: Pin::new("linux-headers-6.12.117+deb12-amd64", K),
                    headers_common: Pin::new("linux-headers-6.12.117+deb12-common", K),
                    kbuild: Pin::new("linux-kbuild-6.12.117+deb12", K),
                    zfs_version: "2.3.2",
                    zfs_dkms: Pin::new("zfs-dkms", Z),
                    zfsutils: Pin::new("zfsutils-linux", Z),
                    zfs_libs: [
                        Pin::new("libzfs6linux", Z),
                        Pin::new("libzpool6linux", Z),
                        Pin::new("libnvpair3linux", Z),
                        Pin::new("libuutil3linux", Z),
                    ],
                }
            }
            ZfsPair::V2_1 => {
                const K: &str = "6.1.192-2";
                const Z: &str = "2.1.11-1+deb12u1";
                PairPins {
                    kernel_release: "6.1.0-56-amd64",
                    kernel_image: Pin::new("linux-image-6.1.0-56-amd64-unsigned", K),
                    headers_arch: Pin::new("linux-headers-6.1.0-56-amd64", K),
                    headers_common: Pin::new("linux-headers-6.1.0-56-common", K),
                    kbuild: Pin::new("linux-kbuild-6.1", K),
                    zfs_version: "2.1.11",
                    zfs_dkms: Pin::new("zfs-dkms", Z),
                    zfsutils: Pin::new("zfsutils-linux", Z),
                    zfs_libs: [
                        Pin::new("libzfs4linux", Z),
                        Pin::new("libzpool5linux", Z),
                        Pin::new("libnvpair3linux", Z),
                        Pin::new("libuutil3linux", Z),
                    ],
                }
            }
        }
    }
}

impl PairPins {
    /// Packages whose files go into the guest's initramfs (not the build-only headers).
    pub fn guest_packages(&self) -> Vec<Pin> {
        let mut pins = vec![self.kernel_image, self.zfsutils];
        pins.extend(self.zfs_libs);
        pins.extend(GUEST_COMMON);
        pins
    }

    /// Packages needed to build spl.ko and zfs.ko for this kernel.
    pub fn build_packages(&self) -> Vec<Pin> {
        vec![
            self.headers_arch,
            self.headers_common,
            self.kbuild,
            self.zfs_dkms,
        ]
    }

    /// A name for caches that changes whenever any pin of this pair changes.
    pub fn cache_key(&self) -> String {
        format!(
            "linux-{}_zfs-{}",
            self.kernel_image.version, self.zfs_dkms.version
        )
    }
}

/// Guest user space shared by both pairs (bookworm's own).
pub const GUEST_COMMON: [Pin; 8] = [
    Pin::new("busybox-static", "1:1.35.0-4+deb12u1+b1"),
    Pin::new("udev", "252.39-1~deb12u2"),
    Pin::new("libsystemd-shared", "252.39-1~deb12u2"),
    Pin::new("dosfstools", "4.2-1"),
    // blkid -p (the blank-disk probe), blockdev, wipefs.
    Pin::new("util-linux", "2.38.1-5+deb12u3"),
    // mke2fs: the lab puts file systems on disks that must then count as not blank.
    Pin::new("e2fsprogs", "1.47.0-2+b2"),
    // dmsetup and its library (and udev rules): the immutable origin's snapshot.
    Pin::new("dmsetup", "2:1.02.185-2"),
    Pin::new("libdevmapper1.02.1", "2:1.02.185-2"),
];

/// Installed on the host: the emulator, pahole for zfs' configure, and the shared libraries the
/// guest's binaries are linked against (copied from the host into the initramfs; the host is
/// bookworm like the guest's packages).
pub const HOST_PACKAGES: &[&str] = &[
    "qemu-system-x86",
    "dwarves",
    "build-essential",
    "xz-utils",
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

//! Resolving a pair's series to Debian versions the mirror offers today: pure, over the text of
//! `apt-cache madison` (the adapter that asks apt is in [`crate::apt`]).
//!
//! The kernel is the newest ABI of the series whose image, both header packages and kbuild are
//! offered at one version. Where none is, kbuild may be newer than the rest if it is the series'
//! shared package (`linux-kbuild-6.1`, one for all 6.1 ABIs): the headers depend on
//! `linux-kbuild-<series> (>= their version)`, so that mix is one Debian's packaging makes too.
//! Debian names 6.12's kbuild per ABI, so there the four always match.

use std::collections::BTreeMap;

use debversion::Version;

use crate::versions::{Group, KernelPins, PairPins, PairSeries, Pin, GUEST_COMMON};

/// What the mirror offers: each package's versions, as `apt-cache madison` lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offers(BTreeMap<String, Vec<String>>);

impl Offers {
    /// Parses `apt-cache madison` output (`package | version | source`, one line per offer).
    pub fn from_madison(text: &str) -> Self {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in text.lines() {
            let mut cols = line.split('|').map(str::trim);
            let (Some(package), Some(version), Some(_)) = (cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let versions = map.entry(package.to_string()).or_default();
            if !versions.iter().any(|v| v == version) {
                versions.push(version.to_string());
            }
        }
        Self(map)
    }

    /// The versions of `package` on offer, newest first.
    pub fn versions(&self, package: &str) -> Vec<String> {
        let mut v = self.0.get(package).cloned().unwrap_or_default();
        v.sort_by(|a, b| cmp(b, a));
        v
    }

    fn offers(&self, package: &str, version: &str) -> bool {
        self.0
            .get(package)
            .is_some_and(|v| v.iter().any(|x| x == version))
    }

    fn listed(&self, package: &str) -> String {
        let v = self.versions(package);
        if v.is_empty() {
            format!("{package}: none")
        } else {
            format!("{package}: {}", v.join(", "))
        }
    }
}

/// Why a series cannot be resolved: what we test would have to change, so a person decides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "no kernel {series} ABI has its image, both header packages and kbuild offered at one \
         version, nor with the series' shared kbuild at a newer one; the mirror offers: {offered}"
    )]
    NoKernel { series: String, offered: String },
    #[error(
        "no version of upstream release {upstream} is offered for all of {packages}; the mirror \
         offers: {offered}"
    )]
    NoGroup {
        upstream: String,
        packages: String,
        offered: String,
    },
}

fn cmp(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<Version>(), b.parse::<Version>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// The packages of one kernel ABI, by Debian's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbiPackages {
    pub abi: String,
    pub image: String,
    pub headers_arch: String,
    pub headers_common: String,
    /// Named after the ABI (6.12) ...
    pub kbuild_abi: String,
    /// ... or shared by the series (6.1).
    pub kbuild_series: String,
}

impl AbiPackages {
    pub fn new(series: &str, abi: &str) -> Self {
        Self {
            abi: abi.to_string(),
            image: format!("linux-image-{abi}-amd64-unsigned"),
            headers_arch: format!("linux-headers-{abi}-amd64"),
            headers_common: format!("linux-headers-{abi}-common"),
            kbuild_abi: format!("linux-kbuild-{abi}"),
            kbuild_series: format!("linux-kbuild-{series}"),
        }
    }

    pub fn names(&self) -> [&str; 5] {
        [
            &self.image,
            &self.headers_arch,
            &self.headers_common,
            &self.kbuild_abi,
            &self.kbuild_series,
        ]
    }
}

/// The ABIs of `series` among package names (`apt-cache pkgnames` or madison's first column):
/// the generic amd64 flavour's unsigned images, not cloud or rt.
pub fn abis<'a>(series: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut found: Vec<String> = names
        .into_iter()
        .filter_map(|n| {
            n.strip_prefix("linux-image-")?
                .strip_suffix("-amd64-unsigned")
        })
        .filter(|abi| {
            abi.strip_prefix(series)
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .filter(|abi| !abi.ends_with("-cloud") && !abi.ends_with("-rt"))
        .map(str::to_string)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Resolves the whole pair: kernel, OpenZFS and the guest's user space.
pub fn resolve(series: &PairSeries, offers: &Offers) -> Result<PairPins, ResolveError> {
    let kernel = resolve_kernel(series.kernel_series, offers)?;
    let zfs = resolve_group(&series.zfs, offers)?;
    let guest_common = GUEST_COMMON
        .iter()
        .map(|g| resolve_group(g, offers))
        .collect::<Result<Vec<_>, _>>()?
        .concat();
    Ok(PairPins {
        pair: series.pair,
        kernel,
        zfs_version: series.zfs.upstream.to_string(),
        zfs,
        guest_common,
    })
}

/// The newest complete ABI of `series`, else the newest one complete with the shared kbuild.
pub fn resolve_kernel(series: &str, offers: &Offers) -> Result<KernelPins, ResolveError> {
    let mut candidates: Vec<AbiPackages> = abis(series, offers.0.keys().map(String::as_str))
        .iter()
        .map(|abi| AbiPackages::new(series, abi))
        .collect();
    // Newest ABI first, by its image's newest version.
    let newest = |p: &AbiPackages| offers.versions(&p.image).into_iter().next();
    candidates.sort_by(|a, b| match (newest(a), newest(b)) {
        (Some(x), Some(y)) => cmp(&y, &x),
        (x, y) => y.is_some().cmp(&x.is_some()),
    });
    let found = candidates
        .iter()
        .find_map(|p| matched(p, offers))
        .or_else(|| candidates.iter().find_map(|p| mixed(p, offers)));
    found.ok_or_else(|| ResolveError::NoKernel {
        series: series.to_string(),
        offered: offered_kernels(&candidates, offers),
    })
}

/// Versions offered for the image and both header packages alike, newest first.
fn common_versions(p: &AbiPackages, offers: &Offers) -> Vec<String> {
    offers
        .versions(&p.image)
        .into_iter()
        .filter(|v| offers.offers(&p.headers_arch, v) && offers.offers(&p.headers_common, v))
        .collect()
}

fn matched(p: &AbiPackages, offers: &Offers) -> Option<KernelPins> {
    common_versions(p, offers).into_iter().find_map(|v| {
        [&p.kbuild_abi, &p.kbuild_series]
            .into_iter()
            .find(|k| offers.offers(k, &v))
            .map(|k| kernel_pins(p, &v, Pin::new(k.as_str(), v.as_str()), false))
    })
}

fn mixed(p: &AbiPackages, offers: &Offers) -> Option<KernelPins> {
    // A per-ABI kbuild at another version would be another build: only the shared one mixes.
    let kbuild = offers.versions(&p.kbuild_series).into_iter().next()?;
    common_versions(p, offers)
        .into_iter()
        .find(|v| cmp(&kbuild, v).is_ge())
        .map(|v| kernel_pins(p, &v, Pin::new(&p.kbuild_series, kbuild), true))
}

fn kernel_pins(p: &AbiPackages, version: &str, kbuild: Pin, kbuild_mixed: bool) -> KernelPins {
    KernelPins {
        abi: p.abi.clone(),
        release: format!("{}-amd64", p.abi),
        image: Pin::new(&p.image, version),
        headers_arch: Pin::new(&p.headers_arch, version),
        headers_common: Pin::new(&p.headers_common, version),
        kbuild,
        kbuild_mixed,
    }
}

fn offered_kernels(candidates: &[AbiPackages], offers: &Offers) -> String {
    if candidates.is_empty() {
        return "no image of the series".into();
    }
    let mut kbuilds: Vec<&str> = vec![];
    let mut parts: Vec<String> = vec![];
    for p in candidates {
        parts.push(format!(
            "[{}; {}; {}]",
            offers.listed(&p.image),
            offers.listed(&p.headers_arch),
            offers.listed(&p.headers_common)
        ));
        for k in [&p.kbuild_abi, &p.kbuild_series] {
            if !offers.versions(k).is_empty() && !kbuilds.contains(&k.as_str()) {
                kbuilds.push(k);
            }
        }
    }
    let kbuilds: Vec<String> = kbuilds.iter().map(|k| offers.listed(k)).collect();
    format!(
        "{}; kbuild: {}",
        parts.join(" "),
        if kbuilds.is_empty() {
            "none".into()
        } else {
            kbuilds.join("; ")
        }
    )
}

/// Whether Debian `version` is of upstream release `upstream` (whole, or a series of it).
pub fn is_release(version: &str, upstream: &str) -> bool {
    let Ok(v) = version.parse::<Version>() else {
        return false;
    };
    let u = v.upstream_version.as_str();
    u == upstream || u.strip_prefix(upstream).is_some_and(|r| r.starts_with('.'))
}

/// The newest version of the group's release offered for all its packages.
pub fn resolve_group(group: &Group, offers: &Offers) -> Result<Vec<Pin>, ResolveError> {
    let [first, rest @ ..] = group.packages else {
        return Ok(vec![]);
    };
    offers
        .versions(first)
        .into_iter()
        .filter(|v| is_release(v, group.upstream))
        .find(|v| rest.iter().all(|p| offers.offers(p, v)))
        .map(|v| {
            group
                .packages
                .iter()
                .map(|p| Pin::new(*p, v.as_str()))
                .collect()
        })
        .ok_or_else(|| ResolveError::NoGroup {
            upstream: group.upstream.to_string(),
            packages: group.packages.join(", "),
            offered: group
                .packages
                .iter()
                .map(|p| offers.listed(p))
                .collect::<Vec<_>>()
                .join("; "),
        })
}

/// Every package name the resolver looks at for `series`, given the ABIs found.
pub fn wanted_names(series: &PairSeries, abis: &[String]) -> Vec<String> {
    let mut names: Vec<String> = abis
        .iter()
        .flat_map(|abi| {
            AbiPackages::new(series.kernel_series, abi)
                .names()
                .map(str::to_string)
        })
        .collect();
    let groups = std::iter::once(&series.zfs).chain(GUEST_COMMON);
    names.extend(groups.flat_map(|g| g.packages.iter().map(|p| p.to_string())));
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::versions::ZfsPair;

    const MADISON_2_3: &str = include_str!("../fixtures/apt-2026-12-01/madison-2.3.txt");
    const MADISON_2_1: &str = include_str!("../fixtures/apt-2026-12-01/madison-2.1.txt");

    /// The recording without the lines that contain any of `parts`.
    fn without(text: &str, parts: &[&str]) -> Offers {
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !parts.iter().any(|p| l.contains(p)))
            .collect();
        Offers::from_madison(&kept.join("\n"))
    }

    #[test]
    fn today_6_1_resolves_to_the_newest_complete_abi_not_the_old_pin() {
        // The old pin, 6.1.0-56 at 6.1.192-2, is still offered, but kbuild-6.1 is only at -3.
        let pins = resolve(&ZfsPair::V2_1.series(), &Offers::from_madison(MADISON_2_1)).unwrap();
        let k = &pins.kernel;
        assert_eq!(k.abi, "6.1.0-57");
        assert_eq!(k.release, "6.1.0-57-amd64");
        for p in [&k.image, &k.headers_arch, &k.headers_common, &k.kbuild] {
            assert_eq!(p.version, "6.1.192-3", "{p}");
        }
        assert_eq!(k.kbuild.package, "linux-kbuild-6.1");
        assert!(!k.kbuild_mixed);
        assert_eq!(pins.zfs_dkms().to_string(), "zfs-dkms 2.1.11-1+deb12u1");
        assert_eq!(pins.cache_key(), "linux-6.1.192-3_zfs-2.1.11-1+deb12u1");
    }

    #[test]
    fn today_6_12_resolves_with_its_per_abi_kbuild() {
        let pins = resolve(&ZfsPair::V2_3.series(), &Offers::from_madison(MADISON_2_3)).unwrap();
        let k = &pins.kernel;
        assert_eq!(k.release, "6.12.117+deb12-amd64");
        assert_eq!(
            k.kbuild.to_string(),
            "linux-kbuild-6.12.117+deb12 6.12.117-1~deb12u1"
        );
        assert_eq!(k.image.version, "6.12.117-1~deb12u1");
        assert!(!k.kbuild_mixed);
        assert_eq!(pins.zfs_dkms().version, "2.3.2-2~bpo12+2");
        assert!(pins.zfs.iter().all(|p| p.version == "2.3.2-2~bpo12+2"));
    }

    #[test]
    fn the_guest_user_space_stays_in_its_series() {
        let pins = resolve(&ZfsPair::V2_3.series(), &Offers::from_madison(MADISON_2_3)).unwrap();
        let version = |name: &str| {
            pins.guest_common
                .iter()
                .find(|p| p.package == name)
                .map(|p| p.version.clone())
                .unwrap()
        };
        // Backports offer udev 254 and e2fsprogs 1.47.2; security an older udev 252.38.
        assert_eq!(version("udev"), "252.39-1~deb12u2");
        assert_eq!(version("libsystemd-shared"), "252.39-1~deb12u2");
        assert_eq!(version("e2fsprogs"), "1.47.0-2+b2");
        assert_eq!(version("dmsetup"), "2:1.02.185-2");
        assert_eq!(version("busybox-static"), "1:1.35.0-4+deb12u1+b1");
    }

    #[test]
    fn an_older_complete_abi_comes_before_a_mix() {
        // Today's recording as if 6.1.0-57 had not been published: bookworm's point release
        // still has 6.1.0-50 whole at 6.1.176-1 (kbuild included).
        let offers = without(MADISON_2_1, &["6.1.0-57"]);
        let k = resolve_kernel("6.1", &offers).unwrap();
        assert_eq!(k.abi, "6.1.0-50");
        assert_eq!(k.kbuild.to_string(), "linux-kbuild-6.1 6.1.176-1");
        assert!(!k.kbuild_mixed);
    }

    #[test]
    fn without_a_complete_abi_6_1_mixes_in_the_shared_kbuild() {
        // Today's recording without 6.1.0-57 and the point release's 6.1.176-1 (the state the
        // old fixed pin met): 6.1.0-56's headers depend on linux-kbuild-6.1 (>= 6.1.192-2),
        // which -3 satisfies.
        let offers = without(MADISON_2_1, &["6.1.0-57", "6.1.176-1"]);
        let k = resolve_kernel("6.1", &offers).unwrap();
        assert_eq!(k.abi, "6.1.0-56");
        assert_eq!(k.image.version, "6.1.192-2");
        assert_eq!(k.kbuild.to_string(), "linux-kbuild-6.1 6.1.192-3");
        assert!(k.kbuild_mixed);
    }

    #[test]
    fn a_series_with_no_complete_abi_fails_and_lists_what_is_offered() {
        // 6.12 names kbuild per ABI, so without those packages nothing may be mixed in.
        let offers = without(MADISON_2_3, &["linux-kbuild"]);
        let err = resolve_kernel("6.12", &offers).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ResolveError::NoKernel { .. }), "{text}");
        for offered in [
            "linux-image-6.12.117+deb12-amd64-unsigned: 6.12.117-1~deb12u1",
            "linux-headers-6.12.95+deb12-common: 6.12.95-1~bpo12+1",
            "kbuild: none",
        ] {
            assert!(text.contains(offered), "{offered} not in: {text}");
        }
    }

    #[test]
    fn an_openzfs_release_that_left_the_mirror_fails_and_lists_what_is_offered() {
        let mut series = ZfsPair::V2_3.series();
        series.zfs.upstream = "2.3.1";
        let err = resolve(&series, &Offers::from_madison(MADISON_2_3)).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ResolveError::NoGroup { .. }), "{text}");
        assert!(text.contains("upstream release 2.3.1"), "{text}");
        assert!(
            text.contains("zfs-dkms: 2.3.2-2~bpo12+2, 2.1.11-1+deb12u1"),
            "{text}"
        );
    }

    #[test]
    fn a_group_needs_one_version_for_all_its_packages() {
        // zfsutils-linux gone at 2.3.2: zfs-dkms alone is not the release.
        let offers = without(MADISON_2_3, &["zfsutils-linux"]);
        let err = resolve_group(&ZfsPair::V2_3.series().zfs, &offers).unwrap_err();
        assert!(err.to_string().contains("zfsutils-linux: none"), "{err}");
    }

    #[test]
    fn abis_are_the_generic_flavour_of_the_series_only() {
        let names = [
            "linux-image-6.1.0-57-amd64-unsigned",
            "linux-image-6.1.0-57-cloud-amd64-unsigned",
            "linux-image-6.1.0-57-rt-amd64-unsigned",
            "linux-image-6.12.117+deb12-amd64-unsigned",
            "linux-image-6.1.0-57-amd64",
        ];
        assert_eq!(abis("6.1", names), ["6.1.0-57"]);
        assert_eq!(abis("6.12", names), ["6.12.117+deb12"]);
    }

    #[test]
    fn releases_match_whole_or_as_a_series() {
        assert!(is_release("252.39-1~deb12u2", "252"));
        assert!(!is_release("254.26-1~bpo12+1", "252"));
        assert!(is_release("2:1.02.185-2", "1.02.185"));
        assert!(!is_release("2.3.20-1", "2.3.2"));
        assert!(is_release("2.3.2-2~bpo12+2", "2.3.2"));
    }
}

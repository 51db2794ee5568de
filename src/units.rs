//! The values every layer shares, as people write them: sizes (`"8GiB"`), rates
//! (`"40 MiB/s"`), the copy's cap (a rate or `"50%"` of the origin's), and the error a bad
//! configuration or profile is (exit code 2).

use std::fmt;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// The configuration is wrong (the message says where and why): exit code 2, not a failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Bytes from a size such as `"8GiB"`, `"512MiB"`, `"1G"`, `"0"` (binary units).
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .with_context(|| format!("{s:?} is not a size (e.g. \"8GiB\")"))?;
    let shift = match unit.trim() {
        "" | "B" => 0,
        "K" | "KiB" => 10,
        "M" | "MiB" => 20,
        "G" | "GiB" => 30,
        "T" | "TiB" => 40,
        u => bail!("{s:?}: unknown unit {u:?} (use KiB, MiB, GiB or TiB)"),
    };
    n.checked_mul(1 << shift)
        .with_context(|| format!("{s:?} is too large"))
}

/// A size in bytes, written as people write it (`"8GiB"`, `"0"`): parsed once, where the
/// configuration is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Size(pub u64);

impl Size {
    pub const fn mib(n: u64) -> Self {
        Self(n << 20)
    }
}

impl TryFrom<String> for Size {
    type Error = anyhow::Error;
    fn try_from(s: String) -> Result<Self> {
        parse_size(&s).map(Size)
    }
}

impl From<Size> for String {
    fn from(s: Size) -> String {
        s.to_string()
    }
}

/// The largest binary unit that divides it: `"256MiB"`, `"0"`.
impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        let unit = ["TiB", "GiB", "MiB", "KiB"]
            .iter()
            .zip([40, 30, 20, 10])
            .find(|&(_, shift)| b != 0 && b % (1u64 << shift) == 0);
        match unit {
            Some((u, shift)) => write!(f, "{}{u}", b >> shift),
            None => write!(f, "{b}"),
        }
    }
}

/// The configuration's `tunables.cap`: no cap whatever the profile says, or this cap. Absent,
/// the profile's cap holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CapSetting {
    /// `"none"`.
    NoCap,
    Cap(Cap),
}

impl CapSetting {
    /// The cap in force, given the profile's.
    pub fn over(setting: Option<Self>, profile: Option<Cap>) -> Option<Cap> {
        match setting {
            Some(Self::NoCap) => None,
            Some(Self::Cap(c)) => Some(c),
            None => profile,
        }
    }
}

impl TryFrom<String> for CapSetting {
    type Error = anyhow::Error;
    fn try_from(s: String) -> Result<Self> {
        if s.trim() == "none" {
            Ok(Self::NoCap)
        } else {
            Cap::parse(&s).map(Self::Cap)
        }
    }
}

impl From<CapSetting> for String {
    fn from(c: CapSetting) -> String {
        match c {
            CapSetting::NoCap => "none".into(),
            CapSetting::Cap(c) => c.to_string(),
        }
    }
}

/// A pattern over a disk's paths (`/dev/disk/by-id/virtio-eph*`): a glob as `globset` reads it
/// (`*`, `?`, `[...]`, `{a,b}`; `*` crosses `/`), compiled once, where the configuration is read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DiskPattern {
    text: String,
    matcher: globset::GlobMatcher,
}

impl DiskPattern {
    pub fn new(text: &str) -> Result<Self> {
        let glob = globset::Glob::new(text).with_context(|| format!("{text:?} is not a glob"))?;
        Ok(Self {
            text: text.to_string(),
            matcher: glob.compile_matcher(),
        })
    }

    pub fn matches(&self, path: &str) -> bool {
        self.matcher.is_match(path)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for DiskPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for DiskPattern {}

impl TryFrom<String> for DiskPattern {
    type Error = anyhow::Error;
    fn try_from(s: String) -> Result<Self> {
        Self::new(&s)
    }
}

impl From<DiskPattern> for String {
    fn from(p: DiskPattern) -> String {
        p.text
    }
}

/// A bandwidth in bytes per second, written as people write it: `"40 MiB/s"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rate(pub u64);

impl Rate {
    pub fn parse(s: &str) -> Result<Self> {
        let Some(size) = s.trim().strip_suffix("/s") else {
            bail!("{s:?} is not a rate: write it like \"40 MiB/s\"");
        };
        let bytes = parse_size(size).with_context(|| format!("{s:?} is not a rate"))?;
        if bytes == 0 {
            bail!("{s:?}: a cap of 0 would never finish; leave the cap out for none");
        }
        Ok(Rate(bytes))
    }
}

impl TryFrom<String> for Rate {
    type Error = anyhow::Error;
    fn try_from(s: String) -> Result<Self> {
        Rate::parse(&s)
    }
}

impl From<Rate> for String {
    fn from(r: Rate) -> String {
        r.to_string()
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b % (1 << 20) == 0 {
            write!(f, "{} MiB/s", b >> 20)
        } else if b % (1 << 10) == 0 {
            write!(f, "{} KiB/s", b >> 10)
        } else {
            write!(f, "{b} B/s")
        }
    }
}

/// A bandwidth cap for the copy, as a profile, the config or `zevac tune --cap` writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Cap {
    /// `"40 MiB/s"`: that rate.
    Rate(Rate),
    /// `"50%"`: that share of the rate the origin delivers, which the watcher measures while
    /// the copy runs uncapped (EBS volumes differ by type and size, and the machine cannot ask).
    Share(u8),
}

impl Cap {
    pub fn parse(s: &str) -> Result<Self> {
        let Some(pct) = s.trim().strip_suffix('%') else {
            return Ok(Cap::Rate(Rate::parse(s)?));
        };
        match pct.trim().parse::<u8>() {
            Ok(p @ 1..=100) => Ok(Cap::Share(p)),
            _ => bail!("{s:?}: a share of the origin's rate is 1% to 100%"),
        }
    }

    /// The rate this cap allows, given the origin's measured rate (bytes per second); `None`
    /// while a share waits for that measure.
    pub fn resolve(self, origin_rate: Option<f64>) -> Option<u64> {
        match self {
            Cap::Rate(r) => Some(r.0),
            Cap::Share(p) => origin_rate.map(|r| ((r * f64::from(p) / 100.0) as u64).max(1)),
        }
    }
}

impl TryFrom<String> for Cap {
    type Error = anyhow::Error;
    fn try_from(s: String) -> Result<Self> {
        Cap::parse(&s)
    }
}

impl From<Cap> for String {
    fn from(c: Cap) -> String {
        c.to_string()
    }
}

impl fmt::Display for Cap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cap::Rate(r) => r.fmt(f),
            Cap::Share(p) => write!(f, "{p}%"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_and_print_back() {
        for (text, bytes, printed) in [
            ("8GiB", 8u64 << 30, "8GiB"),
            ("256MiB", 256 << 20, "256MiB"),
            ("1G", 1 << 30, "1GiB"),
            ("0", 0, "0"),
            ("1536K", 1536 << 10, "1536KiB"),
            ("4097", 4097, "4097"),
        ] {
            let s = Size::try_from(text.to_string()).unwrap();
            assert_eq!(s, Size(bytes), "{text}");
            assert_eq!(s.to_string(), printed);
            assert_eq!(Size::try_from(s.to_string()).unwrap(), s);
        }
        assert!(Size::try_from("8 parsecs".to_string()).is_err());
    }

    #[test]
    fn disk_patterns_are_globs() {
        let p = DiskPattern::new("/dev/disk/by-id/nvme-*_AWS?2*").unwrap();
        assert!(p.matches("/dev/disk/by-id/nvme-Amazon_AWS12x"));
        assert!(!DiskPattern::new("a*c").unwrap().matches("abd"));
        assert!(DiskPattern::new("/dev/disk/by-id/virtio-eph{0,1}")
            .unwrap()
            .matches("/dev/disk/by-id/virtio-eph1"));
        assert!(DiskPattern::new("/dev/[vdb").is_err());
        assert_eq!(p.as_str(), "/dev/disk/by-id/nvme-*_AWS?2*");
    }

    #[test]
    fn the_cap_setting_overrides_the_profile() {
        let forty = Cap::Rate(Rate(40 << 20));
        let none = CapSetting::try_from("none".to_string()).unwrap();
        assert_eq!(none, CapSetting::NoCap);
        assert_eq!(CapSetting::over(Some(none), Some(forty)), None);
        let half = CapSetting::try_from("50%".to_string()).unwrap();
        assert_eq!(
            CapSetting::over(Some(half), Some(forty)),
            Some(Cap::Share(50))
        );
        assert_eq!(CapSetting::over(None, Some(forty)), Some(forty));
        assert_eq!(String::from(none), "none");
        assert!(CapSetting::try_from("fast".to_string()).is_err());
    }
}

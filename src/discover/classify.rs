//! What a disk is to zevac, by cloud rules on its NVMe model (AWS, GCP, Azure: the configuration table in docs/usage.md) or by the
//! configuration's explicit lists (OpenStack, anything else). Pure.

use serde::Serialize;

use super::BlockDevice;
use crate::units::DiskPattern;

/// A disk's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Network storage the pool boots from (EBS and its peers).
    Origin,
    /// A local disk to move the pool onto (instance store and its peers).
    Local,
    Other,
}

/// Explicit choices from the configuration; empty lists mean "by cloud rules".
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Patterns over a disk's paths: these are local disks.
    pub local: Vec<DiskPattern>,
    /// Patterns for origin disks.
    pub origin: Vec<DiskPattern>,
}

/// The configuration's disk lists as classification rules.
impl From<&crate::config::Config> for Rules {
    fn from(config: &crate::config::Config) -> Self {
        Self {
            local: config.local.disks.clone(),
            origin: config.origin.disks.clone(),
        }
    }
}

/// Models of network disks by cloud (trimmed, as sysfs shows them).
const REMOTE_MODELS: &[(&str, &str)] = &[
    ("Amazon Elastic Block Store", "AWS EBS volume"),
    ("nvme_card-pd", "GCP persistent disk"),
    ("MSFT NVMe Accelerator v1.0", "Azure remote disk"),
];

/// Models of local disks by cloud.
const LOCAL_MODELS: &[(&str, &str)] = &[
    ("Amazon EC2 NVMe Instance Storage", "AWS instance store"),
    ("nvme_card", "GCP local SSD"),
    ("Microsoft NVMe Direct Disk", "Azure local NVMe disk"),
    ("Microsoft NVMe Direct Disk v2", "Azure local NVMe disk"),
];

/// The role of `disk` and the reason, in words.
pub fn classify(disk: &BlockDevice, rules: &Rules) -> (Role, String) {
    let listed = |patterns: &[DiskPattern]| {
        patterns
            .iter()
            .find(|p| disk.paths.iter().any(|path| p.matches(path)))
            .map(|p| p.as_str().to_string())
    };
    if let Some(p) = listed(&rules.origin) {
        return (Role::Origin, format!("matches the configured origin {p:?}"));
    }
    if let Some(p) = listed(&rules.local) {
        return (
            Role::Local,
            format!("matches the configured local disks {p:?}"),
        );
    }
    let model = disk.model.trim();
    if let Some((_, what)) = REMOTE_MODELS.iter().find(|(m, _)| *m == model) {
        return (Role::Origin, format!("{what} (model {model:?})"));
    }
    if !rules.local.is_empty() {
        return (Role::Other, "not in the configured local disks".into());
    }
    if let Some((_, what)) = LOCAL_MODELS.iter().find(|(m, _)| *m == model) {
        return (Role::Local, format!("{what} (model {model:?})"));
    }
    if model.is_empty() {
        (
            Role::Other,
            "no model: only an explicit list can tell (OpenStack and others)".into(),
        )
    } else {
        (
            Role::Other,
            format!("model {model:?} is not a known cloud disk"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(model: &str, path: &str) -> BlockDevice {
        BlockDevice {
            name: "nvme0n1".into(),
            model: model.into(),
            serial: String::new(),
            size_bytes: 1 << 30,
            logical_sector: 512,
            physical_sector: 512,
            paths: vec![path.into()],
            partitions: vec![],
            role: Role::Other,
            why: String::new(),
            blank: true,
            signature: None,
        }
    }

    #[test]
    fn cloud_models() {
        let r = Rules::default();
        assert_eq!(
            classify(&disk("Amazon Elastic Block Store", "/dev/x"), &r).0,
            Role::Origin
        );
        assert_eq!(
            classify(&disk("Amazon EC2 NVMe Instance Storage", "/dev/x"), &r).0,
            Role::Local
        );
        assert_eq!(classify(&disk("nvme_card", "/dev/x"), &r).0, Role::Local);
        assert_eq!(
            classify(&disk("nvme_card-pd", "/dev/x"), &r).0,
            Role::Origin
        );
        assert_eq!(
            classify(&disk("Microsoft NVMe Direct Disk v2", "/dev/x"), &r).0,
            Role::Local
        );
        assert_eq!(
            classify(&disk("QEMU NVMe Ctrl", "/dev/x"), &r).0,
            Role::Other
        );
        assert_eq!(classify(&disk("", "/dev/vdb"), &r).0, Role::Other);
    }

    #[test]
    fn explicit_lists_win() {
        let r = Rules {
            local: vec![DiskPattern::new("/dev/disk/by-id/virtio-eph*").unwrap()],
            origin: vec![],
        };
        assert_eq!(
            classify(&disk("", "/dev/disk/by-id/virtio-ephemeral0"), &r).0,
            Role::Local
        );
        // With an explicit list, a model alone does not make a disk local.
        assert_eq!(
            classify(&disk("Amazon EC2 NVMe Instance Storage", "/dev/y"), &r).0,
            Role::Other
        );
    }
}

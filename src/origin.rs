//! The origin: which devices reach the pool's vdev on the network disk, and which devices an
//! import looks at. Origin handling lives here alone: today zevac reads the EBS partitions in
//! place; the immutable mode (issue 7) imports through a device-mapper snapshot of them, and
//! slots in as a second [`Mode`] without reshaping the planner.

use crate::config::Config;
use crate::discover::{BlockDevice, Role};
use crate::plan::{CACHE_LABEL, DATA_LABEL, SPECIAL_LABEL};
use crate::zfs::{PoolStatus, TopVdev, VdevClass};

/// How zevac reaches the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The pool's vdev is the EBS partition itself; ZFS writes its labels there.
    InPlace,
}

/// The origin disks of a machine, seen through a [`Mode`].
#[derive(Debug, Clone)]
pub struct Origin {
    pub mode: Mode,
    /// Stable paths of the origin disks.
    pub disks: Vec<String>,
    /// Every path that names an origin disk or one of its partitions.
    paths: Vec<String>,
    /// What `zpool import -d` should look at on the origin side.
    import: Vec<String>,
}

impl Origin {
    /// The origin of the machine `disks` describe, as the configuration wants it reached.
    pub fn new(_config: &Config, disks: &[BlockDevice]) -> Self {
        let origins: Vec<&BlockDevice> = disks.iter().filter(|d| d.role == Role::Origin).collect();
        let mut paths = Vec::new();
        let mut import = Vec::new();
        for d in &origins {
            paths.extend(d.paths.iter().cloned());
            for p in &d.partitions {
                paths.extend(p.paths.iter().cloned());
            }
            if d.partitions.is_empty() {
                import.push(d.stable_path().to_string());
            } else {
                import.extend(d.partitions.iter().map(|p| p.paths[0].clone()));
            }
        }
        Self {
            mode: Mode::InPlace,
            disks: origins
                .iter()
                .map(|d| d.stable_path().to_string())
                .collect(),
            paths,
            import,
        }
    }

    /// Whether any origin disk was found.
    pub fn found(&self) -> bool {
        !self.disks.is_empty()
    }

    /// Whether `path` reaches the origin.
    pub fn owns(&self, path: &str) -> bool {
        self.paths.iter().any(|p| p == path)
    }

    /// Normal-class top-level vdevs with a leaf on the origin.
    pub fn vdevs<'a>(&self, status: &'a PoolStatus) -> Vec<&'a TopVdev> {
        status
            .vdevs
            .iter()
            .filter(|v| v.class == VdevClass::Normal && v.leaves.iter().any(|l| self.owns(l)))
            .collect()
    }

    /// Devices `zpool import -d` should look at: the origin's, and zevac's partitions on local
    /// disks. Nothing else, so a stray pool elsewhere is never picked up.
    pub fn import_devices(&self, disks: &[BlockDevice]) -> Vec<String> {
        let zevac = |p: &&crate::discover::Partition| {
            matches!(
                p.label.as_deref(),
                Some(DATA_LABEL | SPECIAL_LABEL | CACHE_LABEL)
            )
        };
        let local = disks
            .iter()
            .filter(|d| d.role == Role::Local)
            .flat_map(|d| {
                d.partitions
                    .iter()
                    .filter(zevac)
                    .map(|p| p.paths[0].clone())
            });
        self.import.iter().cloned().chain(local).collect()
    }
}

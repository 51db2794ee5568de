//! The matrix a sweep runs: every combination of its axes, in the order that keeps a sweep cut
//! short comparable.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::cell::{CapSpec, Cell, Workload};

/// The matrix to sweep (`--matrix FILE`, TOML); every cell is each combination.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    pub data_mib: Vec<u64>,
    pub throttle_mib: Vec<u64>,
    pub profiles: Vec<String>,
    pub caps: Vec<CapSpec>,
    /// Foreground workloads (default: none).
    #[serde(default = "no_workload")]
    pub workloads: Vec<Workload>,
    /// Peers to run at each data size and throttle, after zevac's cells (default: none).
    #[serde(default)]
    pub peers: Vec<crate::peers::Peer>,
    /// Boots of each zevac cell (default 1): the emulated lab is noisy, so a claim rests on the
    /// spread of several.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub repeats: u32,
}

pub(super) fn one() -> u32 {
    1
}

pub(super) fn is_one(n: &u32) -> bool {
    *n == 1
}

pub(super) fn no_workload() -> Vec<Workload> {
    vec![Workload::None]
}

impl Matrix {
    /// The full sweep of the full matrix: 108 cells of zevac and 48 of its peers.
    pub fn full() -> Self {
        Self {
            data_mib: vec![256, 1024],
            throttle_mib: vec![16, 64],
            profiles: ["gentle", "balanced", "fast"].map(String::from).to_vec(),
            caps: vec![
                CapSpec::None,
                CapSpec::OfThrottle(0.25),
                CapSpec::OfThrottle(0.5),
            ],
            workloads: vec![Workload::None, Workload::Randread, Workload::Fsync],
            peers: vec![
                crate::peers::Peer::Ebs,
                crate::peers::Peer::L2arc,
                crate::peers::Peer::Eager,
                crate::peers::Peer::Lvmcache,
            ],
            repeats: 1,
        }
    }

    /// One cell of zevac and one of a peer, for CI: keeps the harness from rotting, with the cap,
    /// the foreground workload and the L2ARC peer's path.
    pub fn quick() -> Self {
        Self {
            data_mib: vec![256],
            throttle_mib: vec![16],
            profiles: vec!["balanced".into()],
            caps: vec![CapSpec::OfThrottle(0.5)],
            workloads: vec![Workload::Randread],
            peers: vec![crate::peers::Peer::L2arc],
            repeats: 1,
        }
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let m: Matrix =
            toml::from_str(&text).with_context(|| format!("matrix {}", path.display()))?;
        if m.cells().is_empty() && m.peer_cells().is_empty() {
            bail!("matrix {}: no cells (an empty list)", path.display());
        }
        Ok(m)
    }

    /// Every peer at every data size, throttle and workload.
    pub fn peer_cells(&self) -> Vec<crate::peers::PeerCell> {
        let mut cells = Vec::new();
        for &data_mib in &self.data_mib {
            for &throttle_mib in &self.throttle_mib {
                for &peer in &self.peers {
                    for &workload in &self.workloads {
                        cells.push(crate::peers::PeerCell {
                            peer,
                            data_mib,
                            throttle_mib,
                            workload,
                        });
                    }
                }
            }
        }
        cells
    }

    /// The sweep's boots in the order they run: one data size and throttle at a time, zevac's
    /// cells and then the peers', so a sweep cut short still compares what it ran.
    pub fn order(&self) -> Vec<Work> {
        let (cells, peers) = (self.cells(), self.peer_cells());
        let mut work = Vec::new();
        for &d in &self.data_mib {
            for &t in &self.throttle_mib {
                let cells = cells
                    .iter()
                    .filter(|c| (c.data_mib, c.throttle_mib) == (d, t));
                work.extend(cells.cloned().map(Work::Zevac));
                let peers = peers
                    .iter()
                    .filter(|c| (c.data_mib, c.throttle_mib) == (d, t));
                work.extend(peers.copied().map(Work::Peer));
            }
        }
        work
    }

    /// Every combination, smallest data first (the golden images are built in that order).
    pub fn cells(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        for &data_mib in &self.data_mib {
            for &throttle_mib in &self.throttle_mib {
                for profile in &self.profiles {
                    for &cap in &self.caps {
                        for &workload in &self.workloads {
                            cells.extend((0..self.repeats.max(1)).map(|repeat| Cell {
                                data_mib,
                                throttle_mib,
                                profile: profile.clone(),
                                cap,
                                workload,
                                repeat,
                            }));
                        }
                    }
                }
            }
        }
        cells
    }
}

/// One boot of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    Zevac(Cell),
    Peer(crate::peers::PeerCell),
}

//! A plan's steps, and the actions each one is: the commands it runs, exactly as the executor
//! runs them, and the writes zevac makes itself. `zevac plan` prints these actions, `apply` does
//! them: what is shown is what runs.

use std::fmt;

use serde::Serialize;

use crate::blockdev;
use crate::devmapper::{self, Snapshot};
use crate::exec::Cmd;
use crate::layout::DiskLayout;
use crate::zfs::{commands, VdevClass};

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    /// Write a GPT with zevac's partitions on a local disk (after wiping its signatures if `wipe`).
    Partition(DiskLayout),
    /// Keep the origin unchanged: zero the store's header, create the persistent snapshot
    /// `/dev/mapper/zevac-origin` of the origin partition over it, mark the origin read-only.
    /// The pool is then imported through the snapshot.
    Snapshot(Snapshot),
    /// `zpool add -o ashift=N POOL [special|cache] DEV...`.
    Add {
        pool: String,
        ashift: u32,
        class: VdevClass,
        devices: Vec<String>,
    },
    /// `zpool remove POOL VDEV`: the evacuation starts and continues in the background.
    Remove { pool: String, vdev: String },
}

/// One thing a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A command, through the executor.
    Run(Cmd),
    /// Write zevac's GPT on the layout's disk (the `gpt` crate).
    WriteGpt(DiskLayout),
    /// Zero the first 4 KiB of a copy-on-write store: a valid old header would load an old
    /// snapshot.
    ZeroStoreHeader(String),
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Run(cmd) => cmd.fmt(f),
            Self::WriteGpt(l) => {
                let parts: Vec<String> = l
                    .partitions()
                    .iter()
                    .map(|(label, _, bytes)| match bytes {
                        0 => format!("{label} (rest)"),
                        b => format!("{label} ({} MiB)", b >> 20),
                    })
                    .collect();
                write!(f, "write a GPT on {}: {}", l.disk, parts.join(", "))
            }
            Self::ZeroStoreHeader(cow) => write!(f, "zero the header of {cow}"),
        }
    }
}

impl Step {
    /// The step's kind, as its JSON names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Partition(_) => "partition",
            Step::Snapshot(_) => "snapshot",
            Step::Add { .. } => "add",
            Step::Remove { .. } => "remove",
        }
    }

    /// What the step does, in order.
    pub fn actions(&self) -> Vec<Action> {
        match self {
            Step::Partition(l) => {
                let mut a = Vec::new();
                if l.wipe {
                    a.push(Action::Run(blockdev::wipe_signatures(&l.disk)));
                }
                a.push(Action::WriteGpt(l.clone()));
                a.push(Action::Run(blockdev::reread_partitions(&l.disk)));
                a
            }
            Step::Snapshot(snap) => {
                let mut a = vec![Action::ZeroStoreHeader(snap.cow.clone())];
                let create = devmapper::commands::create(devmapper::SNAPSHOT_NAME, &snap.table());
                a.extend(create.into_iter().map(Action::Run));
                a.extend(snap.read_only_commands().into_iter().map(Action::Run));
                a
            }
            Step::Add {
                pool,
                ashift,
                class,
                devices,
            } => vec![Action::Run(commands::add(pool, *ashift, *class, devices))],
            Step::Remove { pool, vdev } => vec![Action::Run(commands::remove(pool, vdev))],
        }
    }

    /// The actions on one line, as `zevac plan` and the log show them.
    pub fn describe(&self) -> String {
        let actions: Vec<String> = self.actions().iter().map(ToString::to_string).collect();
        actions.join("; ")
    }
}

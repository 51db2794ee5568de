//! Plan: the pure heart of zevac. From the inventory, the pool's state and the configuration it
//! decides what is left to do, from any state a crash can leave behind, or refuses with a typed
//! [`Refusal`] a user reads as a sentence. It changes nothing and runs nothing.
//!
//! The passes, in order, each free to stop the plan: [`preconditions`] (what OpenZFS's removal
//! requires of the pool), [`origin`] (where the removal stands and which vdev moves), [`locals`]
//! (each local disk: in the pool, partitioned, or to partition, and where the store goes),
//! [`room`] (whether the new vdevs hold the origin's data), [`steps`] (the steps themselves).

mod locals;
mod origin;
mod preconditions;
mod refusal;
mod room;
mod step;
mod steps;
#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::config::Config;
use crate::discover::{BlockDevice, Role};
use crate::inspect::PoolState;

pub use crate::layout::{
    partition_path, DiskLayout, CACHE_LABEL, COW_LABEL, DATA_LABEL, MIN_DATA_BYTES, SPECIAL_LABEL,
};
pub use refusal::{Idle, Refusal};
pub use step::{Action, Step};

/// What zevac should do.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum Decision {
    /// Nothing to do (done, running, no local disks...).
    Nothing(Idle),
    /// Refused before changing anything.
    Refuse(Refusal),
    /// These steps, in order.
    Steps { steps: Vec<Step> },
}

impl From<Idle> for Decision {
    fn from(idle: Idle) -> Self {
        Self::Nothing(idle)
    }
}

impl From<Refusal> for Decision {
    fn from(refusal: Refusal) -> Self {
        Self::Refuse(refusal)
    }
}

/// Decides. `pool` is the inspected pool (imported).
pub fn plan(config: &Config, disks: &[BlockDevice], pool: &PoolState) -> Decision {
    match steps_for(config, disks, pool) {
        Ok(steps) => Decision::Steps { steps },
        Err(stop) => stop,
    }
}

fn steps_for(
    config: &Config,
    disks: &[BlockDevice],
    pool: &PoolState,
) -> Result<Vec<Step>, Decision> {
    let locals: Vec<&BlockDevice> = disks.iter().filter(|d| d.role == Role::Local).collect();
    if locals.is_empty() {
        return Err(Idle::NoLocalDisks.into());
    }
    preconditions::check(&config.pool, pool)?;
    let origin = origin::locate(config, disks, pool)?;
    let locals = locals::resolve(config, disks, &locals, pool, origin.needs_snapshot)?;
    room::check(origin.vdev, pool, &locals)?;
    Ok(steps::build(config, disks, &origin, &locals)?)
}

//! zevac: moves a ZFS root pool from its EBS volume onto the instance stores, in the background.
//!
//! The flow, one module each: [`discover`] the block devices (sysfs), [`inspect`] the pool
//! (zpool), [`plan`] what to do (pure: state in, plan or reasoned refusal out), [`apply`] it.
//! Outside systems sit behind [`exec::Executor`] so every decision is testable on recorded output.

pub mod apply;
pub mod blockdev;
pub mod cmd;
pub mod config;
pub mod devmapper;
pub mod discover;
pub mod exec;
pub mod faults;
pub mod inspect;
pub mod layout;
pub mod origin;
pub mod partition;
pub mod paths;
pub mod plan;
pub mod profile;
pub mod progress;
pub mod records;
pub mod runfile;
pub mod status;
pub mod tunables;
pub mod units;
pub mod watch;
pub mod zfs;

#[cfg(test)]
pub(crate) mod testing;

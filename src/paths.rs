//! Where the machine's devices, records and module parameters are: the real ones by default,
//! a scratch tree in tests.

use std::path::PathBuf;

/// Where the machine's devices are (tests and the lab use the real ones).
#[derive(Debug, Clone)]
pub struct Paths {
    pub sys: PathBuf,
    pub by_id: PathBuf,
    /// The state record directory for the stage-2 watcher (`/run/zevac`).
    pub run_dir: PathBuf,
    /// The zfs module's parameters.
    pub params: PathBuf,
    /// ZFS's debug log, where it says why it canceled a removal.
    pub dbgmsg: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            sys: "/sys".into(),
            by_id: "/dev/disk/by-id".into(),
            run_dir: "/run/zevac".into(),
            params: "/sys/module/zfs/parameters".into(),
            dbgmsg: "/proc/spl/kstat/zfs/dbgmsg".into(),
        }
    }
}

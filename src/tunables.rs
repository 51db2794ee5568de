//! OpenZFS module parameters under `/sys/module/zfs/parameters` (global to the module).

use std::path::PathBuf;

use anyhow::{Context, Result};

/// Pauses the removal copy while non-zero (FACTS: documented as test-only; works).
pub const REMOVAL_SUSPEND: &str = "zfs_removal_suspend_progress";

pub fn path(name: &str) -> PathBuf {
    PathBuf::from("/sys/module/zfs/parameters").join(name)
}

pub fn read(name: &str) -> Result<String> {
    let p = path(name);
    Ok(std::fs::read_to_string(&p)
        .with_context(|| format!("cannot read {}", p.display()))?
        .trim()
        .to_string())
}

pub fn write(name: &str, value: &str) -> Result<()> {
    let p = path(name);
    std::fs::write(&p, value)
        .with_context(|| format!("cannot write {value} to {}", p.display()))?;
    tracing::info!(parameter = name, value, "set");
    Ok(())
}

/// Runs `f` with the removal copy paused, restoring the previous value whatever `f` returns.
/// An import of a pool whose removal is running carries the copy on inside its txg waits and
/// blocks for as long as that takes on a slow disk (FACTS); paused, it returns at once.
pub fn with_removal_paused<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    let before = read(REMOVAL_SUSPEND)?;
    write(REMOVAL_SUSPEND, "1")?;
    let result = f();
    write(REMOVAL_SUSPEND, &before)?;
    result
}

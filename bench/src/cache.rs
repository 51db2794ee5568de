//! Where the lab keeps what it builds: outside the work tree, keyed by versions, shared between
//! processes under a file lock.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nix::fcntl::{Flock, FlockArg};

/// The cache root: `$ZEVAC_LAB_CACHE`, else `$XDG_CACHE_HOME/zevac-lab`, else `~/.cache/zevac-lab`.
pub fn root() -> PathBuf {
    if let Some(dir) = std::env::var_os("ZEVAC_LAB_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/var/cache"));
    base.join("zevac-lab")
}

/// Creates `dir` (and parents) and returns it.
pub fn dir(dir: PathBuf) -> Result<PathBuf> {
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// An exclusive lock held until dropped, so that two processes (parallel tests, a CLI run beside a
/// test) never build the same cache entry at once.
pub struct Lock(#[allow(dead_code)] Flock<File>);

/// Takes the lock named `name` in the cache root, waiting for it.
pub fn lock(name: &str) -> Result<Lock> {
    let path = dir(root().join("locks"))?.join(format!("{name}.lock"));
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    let held = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(Lock(held))
}

/// Writes `path` by way of a temporary sibling and a rename, so a crash never leaves half a file
/// that a later run would take for a finished one.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, data).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot rename to {}", path.display()))?;
    Ok(())
}

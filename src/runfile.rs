//! zevac's records under `/run/zevac` (and the metrics file): read whole, replaced whole. A
//! write goes to a temporary file that is then renamed, so a reader or a crash sees the old
//! content or the new, never half of it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The JSON record at `path`; `None` if there is none.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .with_context(|| format!("{} is damaged", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes `value` as JSON to `path`, creating its directory.
pub fn save<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    replace(path, &serde_json::to_vec_pretty(value)?)
}

/// Replaces the content of `path` with `bytes`.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// A record kept as one JSON file in zevac's run directory.
pub trait RunRecord: Serialize + DeserializeOwned {
    /// Its file name in the run directory.
    const FILE: &'static str;

    fn path(run_dir: &Path) -> PathBuf {
        run_dir.join(Self::FILE)
    }

    /// The record; `None` if there is none.
    fn load(run_dir: &Path) -> Result<Option<Self>> {
        load(&Self::path(run_dir))
    }

    fn save(&self, run_dir: &Path) -> Result<()> {
        save(&Self::path(run_dir), self)
    }
}

/// A record about one pool: one written for another pool is not this one's.
pub trait PoolRecord: RunRecord {
    fn pool(&self) -> &str;

    /// The record, if one was written for `pool` since boot.
    fn load_for(run_dir: &Path, pool: &str) -> Result<Option<Self>> {
        Ok(Self::load(run_dir)?.filter(|r| r.pool() == pool))
    }
}

//! OpenZFS module parameters under `/sys/module/zfs/parameters` (global to the module), and the
//! record of the values zevac found before it changed them (`/run/zevac/tunables.json`), so that
//! the end of an evacuation, `zevac tune --restore` or a stopped watcher puts them back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::profile::{Phase, Profile};
use crate::runfile;

/// Pauses the removal copy while non-zero (zfs(4) documents it for testing; it works, in the lab).
pub const REMOVAL_SUSPEND: &str = "zfs_removal_suspend_progress";

/// What `/run/zevac/tunables.json` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The profile and phase last applied.
    pub profile: Option<String>,
    pub phase: Option<Phase>,
    /// Each parameter zevac changed, with the value it had before zevac first touched it.
    pub saved: BTreeMap<String, String>,
    /// While `apply` changes the pool: the profile's `[apply]` parameters, each with the value
    /// to put back when the window closes (a kill inside it leaves this for `zevac recover`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub window: BTreeMap<String, String>,
}

/// What applying a phase did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// `(parameter, value before, value now)`.
    pub set: Vec<(String, String, String)>,
    /// Parameters the profile sets that the running module does not have (OpenZFS version).
    pub missing: Vec<String>,
}

/// The module parameters and zevac's record of them.
#[derive(Debug, Clone)]
pub struct Tunables {
    params_dir: PathBuf,
    record_file: PathBuf,
}

impl Tunables {
    pub fn new(params_dir: impl Into<PathBuf>, run_dir: &Path) -> Self {
        Self {
            params_dir: params_dir.into(),
            record_file: run_dir.join("tunables.json"),
        }
    }

    /// The running kernel's parameters, recorded in `run_dir`.
    pub fn system(run_dir: &Path) -> Self {
        Self::new("/sys/module/zfs/parameters", run_dir)
    }

    /// The parameter's value; `None` if the module has no such parameter.
    pub fn read(&self, name: &str) -> Result<Option<String>> {
        let p = self.params_dir.join(name);
        match std::fs::read_to_string(&p) {
            Ok(v) => Ok(Some(v.trim().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", p.display())),
        }
    }

    fn read_existing(&self, name: &str) -> Result<String> {
        self.read(name)?.with_context(|| {
            format!(
                "the zfs module has no parameter {name} ({} is missing): is the zfs module loaded?",
                self.params_dir.join(name).display()
            )
        })
    }

    /// Writes a parameter without recording it (the caller puts it back itself).
    pub fn write(&self, name: &str, value: &str) -> Result<()> {
        let p = self.params_dir.join(name);
        std::fs::write(&p, value)
            .with_context(|| format!("cannot write {value} to {}", p.display()))?;
        tracing::info!(parameter = name, value, "set");
        Ok(())
    }

    pub fn record(&self) -> Result<Record> {
        Ok(runfile::load(&self.record_file)?.unwrap_or_default())
    }

    fn save_record(&self, record: &Record) -> Result<()> {
        runfile::save(&self.record_file, record)
    }

    /// Sets `name` to `value`, first recording its value from before zevac touched it (recorded
    /// before the write, so a crash between the two still restores the original).
    pub fn set_recorded(&self, name: &str, value: &str) -> Result<String> {
        let before = self.read_existing(name)?;
        let mut record = self.record()?;
        if !record.saved.contains_key(name) {
            record.saved.insert(name.to_string(), before.clone());
            self.save_record(&record)?;
        }
        if before != value {
            self.write(name, value)?;
        }
        Ok(before)
    }

    /// Applies one phase of a profile: every parameter recorded, then written. Parameters the
    /// module lacks are returned in [`Applied::missing`] (and logged), the others still set.
    pub fn apply_phase(&self, profile: &Profile, phase: Phase) -> Result<Applied> {
        self.set_phase(&profile.name, phase, profile.phase(phase))
    }

    /// [`Tunables::apply_phase`] with the phase's parameters given.
    fn set_phase(
        &self,
        profile: &str,
        phase: Phase,
        params: &BTreeMap<String, u64>,
    ) -> Result<Applied> {
        let applied = self.set_all(params)?;
        for name in &applied.missing {
            tracing::warn!(parameter = %name, profile, %phase, "the running zfs module has no such parameter; not set");
        }
        let mut record = self.record()?;
        record.profile = Some(profile.to_string());
        record.phase = Some(phase);
        // The phase owns what it sets: closing `apply`'s window must not undo it.
        for (name, _, _) in &applied.set {
            record.window.remove(name);
        }
        self.save_record(&record)?;
        Ok(applied)
    }

    /// Sets the profile's `[apply]` parameters for as long as `apply` changes the pool, each
    /// recorded first (for the window's close, and for a restore after a crash).
    pub fn open_window(&self, params: &BTreeMap<String, u64>) -> Result<Applied> {
        let mut record = self.record()?;
        for name in params.keys() {
            if let Some(now) = self.read(name)? {
                record.window.entry(name.clone()).or_insert(now);
            }
        }
        self.save_record(&record)?;
        self.set_all(params)
    }

    /// Sets each parameter through [`Tunables::set_recorded`]; those the module lacks are
    /// returned in [`Applied::missing`], the others still set.
    fn set_all(&self, params: &BTreeMap<String, u64>) -> Result<Applied> {
        let mut applied = Applied::default();
        for (name, value) in params {
            if self.read(name)?.is_none() {
                applied.missing.push(name.clone());
                continue;
            }
            let value = value.to_string();
            let before = self.set_recorded(name, &value)?;
            applied.set.push((name.clone(), before, value));
        }
        Ok(applied)
    }

    /// Puts back what [`Tunables::open_window`] changed and a phase did not take over since.
    /// Nothing to do when no window is open (safe to repeat).
    pub fn close_window(&self) -> Result<Vec<(String, String)>> {
        let mut record = self.record()?;
        if record.window.is_empty() {
            return Ok(Vec::new());
        }
        for (name, value) in &record.window {
            if self.read(name)?.as_deref() != Some(value.as_str()) {
                self.write(name, value)?;
            }
        }
        let closed = std::mem::take(&mut record.window);
        self.save_record(&record)?;
        Ok(closed.into_iter().collect())
    }

    /// Puts back every value zevac recorded and forgets the record. Returns what it wrote.
    pub fn restore(&self) -> Result<Vec<(String, String)>> {
        let record = self.record()?;
        let mut restored = Vec::new();
        for (name, value) in &record.saved {
            if self.read(name)?.as_deref() != Some(value.as_str()) {
                self.write(name, value)?;
            }
            restored.push((name.clone(), value.clone()));
        }
        match std::fs::remove_file(&self.record_file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot remove {}", self.record_file.display()))
            }
        }
        Ok(restored)
    }

    /// Whether zevac holds the copy: paused, by a pause zevac recorded (a cap's, or `apply`'s
    /// for the watcher), not an operator's.
    pub fn holds_the_copy(&self, record: Option<&Record>) -> Result<bool> {
        Ok(self.read(REMOVAL_SUSPEND)?.as_deref() == Some("1")
            && record.is_some_and(|r| r.saved.contains_key(REMOVAL_SUSPEND)))
    }

    /// Pauses the copy for the watcher to start (`watch.starts_copy`), recorded like any
    /// parameter, so the watcher, `zevac tune --restore` or the end of the evacuation lift it.
    pub fn hold_copy_for_watcher(&self) -> Result<()> {
        self.set_recorded(REMOVAL_SUSPEND, "1")?;
        tracing::info!("the copy waits for zevac watch (watch.starts_copy)");
        Ok(())
    }

    /// Runs `f` with the removal copy paused, restoring the previous value whatever `f` returns.
    /// An import of a pool whose removal is running carries the copy on inside its txg waits and
    /// blocks for as long as that takes on a slow disk (the lab); paused, it returns at once.
    pub fn with_removal_paused<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let before = self.read_existing(REMOVAL_SUSPEND)?;
        self.write(REMOVAL_SUSPEND, "1")?;
        let result = f();
        self.write(REMOVAL_SUSPEND, &before)?;
        result
    }
}

/// The module parameters `apply` writes around a plan's steps, resolved once from the profile
/// and the config: what `zevac plan` prints, and what `apply` sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Writes {
    pub profile: String,
    /// The profile's `[apply]` table: set before the first `zpool add` or `zpool remove`, put
    /// back once `zpool remove` returns.
    pub window: BTreeMap<String, u64>,
    /// The profile's boot phase: set just before `zpool remove`, or as a removal resumes.
    pub boot: BTreeMap<String, u64>,
    /// `watch.starts_copy`: the copy paused at the same moment, for `zevac watch` to start.
    pub hold_for_watcher: bool,
}

impl Writes {
    pub fn new(profile: &Profile, starts_copy: bool) -> Self {
        Self {
            profile: profile.name.clone(),
            window: profile.apply.clone(),
            boot: profile.phase(Phase::Boot).clone(),
            hold_for_watcher: starts_copy,
        }
    }

    /// Sets the `[apply]` parameters ([`Tunables::open_window`]).
    pub fn open_window(&self, tunables: &Tunables) -> Result<Applied> {
        tunables.open_window(&self.window)
    }

    /// What comes just before the copy can flow: the boot phase, then the watcher's pause.
    pub fn before_copy(&self, tunables: &Tunables) -> Result<Applied> {
        let applied = tunables.set_phase(&self.profile, Phase::Boot, &self.boot)?;
        if self.hold_for_watcher {
            tunables.hold_copy_for_watcher()?;
        }
        Ok(applied)
    }

    /// `zevac plan`'s line for [`Tunables::with_removal_paused`] around `apply`'s import.
    pub fn import_line() -> String {
        format!(
            "around the writable import: {REMOVAL_SUSPEND}=1, then its value before (a running \
             copy would otherwise go on inside the import)"
        )
    }

    /// `zevac plan`'s line for the `[apply]` table, set from step `from` until step `to`
    /// returns; `None` if the table is empty.
    pub fn window_line(&self, from: usize, to: usize) -> Option<String> {
        (!self.window.is_empty()).then(|| {
            format!(
                "from step {from} until step {to} returns, profile {}'s [apply] table: {}",
                self.profile,
                list(&self.window)
            )
        })
    }

    /// `zevac plan`'s lines for what is set `when` the copy is about to flow.
    pub fn copy_lines(&self, when: &str) -> Vec<String> {
        let mut lines = vec![format!(
            "{when}, profile {}'s boot phase: {}",
            self.profile,
            list(&self.boot)
        )];
        if self.hold_for_watcher {
            lines.push(format!(
                "{when}, for watch.starts_copy: {REMOVAL_SUSPEND}=1 (zevac watch lifts it)"
            ));
        }
        lines
    }
}

/// `a=1 b=2` (empty for no parameters), as `zevac plan` and `zevac profiles` print a table.
pub fn param_list(params: &BTreeMap<String, u64>) -> String {
    let all: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    all.join(" ")
}

/// [`param_list`], or `none`.
fn list(params: &BTreeMap<String, u64>) -> String {
    if params.is_empty() {
        return "none".into();
    }
    param_list(params)
}

/// The tunables of the machine at `paths` (an inherent method of [`Paths`], kept beside the
/// adapter it builds).
impl crate::paths::Paths {
    pub fn tunables(&self) -> Tunables {
        Tunables::new(&self.params, &self.run_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parameter directory with OpenZFS 2.3.2's defaults (read in the lab's guest).
    fn scratch(tag: &str) -> (PathBuf, Tunables) {
        let root =
            std::env::temp_dir().join(format!("zevac-tunables-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let params = root.join("parameters");
        std::fs::create_dir_all(&params).unwrap();
        for (n, v) in [
            ("zfs_vdev_removal_max_active", "2"),
            ("zfs_vdev_removal_min_active", "1"),
            ("zfs_removal_suspend_progress", "0"),
            ("zfs_vdev_scrub_max_active", "3"),
            ("zfs_txg_timeout", "5"),
        ] {
            std::fs::write(params.join(n), format!("{v}\n")).unwrap();
        }
        let t = Tunables::new(&params, &root.join("run"));
        (root, t)
    }

    fn profile(text: &str) -> Profile {
        Profile::parse("p", "test", text).unwrap()
    }

    #[test]
    fn phases_keep_the_first_values_and_restore_puts_them_back() {
        let (root, t) = scratch("phases");
        let p = profile(
            "description='x'\n[boot]\nzfs_vdev_removal_max_active = 8\n[steady]\nzfs_vdev_removal_max_active = 1\nzfs_vdev_removal_min_active = 0\n[verify]\nzfs_scan_vdev_limit = 65536",
        );
        t.apply_phase(&p, Phase::Boot).unwrap();
        assert_eq!(t.read("zfs_vdev_removal_max_active").unwrap().unwrap(), "8");
        let steady = t.apply_phase(&p, Phase::Steady).unwrap();
        assert_eq!(
            steady.set[0],
            ("zfs_vdev_removal_max_active".into(), "8".into(), "1".into())
        );
        let verify = t.apply_phase(&p, Phase::Verify).unwrap();
        assert_eq!(
            verify.missing,
            ["zfs_scan_vdev_limit"],
            "reported, not skipped silently"
        );
        let record = t.record().unwrap();
        assert_eq!(record.phase, Some(Phase::Verify));
        assert_eq!(
            record.saved["zfs_vdev_removal_max_active"], "2",
            "the value before zevac, not the boot phase's"
        );
        t.restore().unwrap();
        assert_eq!(t.read("zfs_vdev_removal_max_active").unwrap().unwrap(), "2");
        assert_eq!(t.read("zfs_vdev_removal_min_active").unwrap().unwrap(), "1");
        assert_eq!(t.record().unwrap(), Record::default(), "the record is gone");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_second_restore_and_a_crash_between_record_and_write_are_harmless() {
        let (root, t) = scratch("crash");
        t.set_recorded(REMOVAL_SUSPEND, "1").unwrap();
        // A rerun after a crash records nothing new: the original 0 stays the value to restore.
        t.set_recorded(REMOVAL_SUSPEND, "1").unwrap();
        assert_eq!(t.record().unwrap().saved[REMOVAL_SUSPEND], "0");
        t.restore().unwrap();
        assert_eq!(t.read(REMOVAL_SUSPEND).unwrap().unwrap(), "0");
        assert!(t.restore().unwrap().is_empty());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_copy_held_for_the_watcher_is_zevacs_and_a_restore_lets_it_go() {
        let (root, t) = scratch("hold");
        assert!(!t.holds_the_copy(Some(&t.record().unwrap())).unwrap());
        t.write(REMOVAL_SUSPEND, "1").unwrap();
        assert!(
            !t.holds_the_copy(Some(&t.record().unwrap())).unwrap(),
            "an operator's pause is not zevac's"
        );
        t.write(REMOVAL_SUSPEND, "0").unwrap();
        t.hold_copy_for_watcher().unwrap();
        assert!(t.holds_the_copy(Some(&t.record().unwrap())).unwrap());
        t.restore().unwrap();
        assert_eq!(t.read(REMOVAL_SUSPEND).unwrap().unwrap(), "0");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn the_apply_window_closes_to_what_was_there_and_leaves_a_phase_its_values() {
        let (root, t) = scratch("window");
        let p = profile("description='x'\n[boot]\nzfs_vdev_removal_max_active = 8");
        assert_eq!(p.apply["zfs_txg_timeout"], 1, "the default [apply]");
        t.open_window(&p.apply).unwrap();
        assert_eq!(t.read("zfs_txg_timeout").unwrap().unwrap(), "1");
        // A crash and a rerun: opened again, it still puts back the value before zevac.
        t.open_window(&p.apply).unwrap();
        assert_eq!(t.record().unwrap().window["zfs_txg_timeout"], "5");
        t.apply_phase(&p, Phase::Boot).unwrap();
        let closed = t.close_window().unwrap();
        assert_eq!(closed, [("zfs_txg_timeout".into(), "5".into())]);
        assert_eq!(t.read("zfs_txg_timeout").unwrap().unwrap(), "5");
        assert_eq!(t.read("zfs_vdev_removal_max_active").unwrap().unwrap(), "8");
        assert!(
            t.close_window().unwrap().is_empty(),
            "closing twice is harmless"
        );

        // A boot phase that sets the same parameter keeps its value when the window closes.
        let both =
            profile("description='x'\n[apply]\nzfs_txg_timeout = 1\n[boot]\nzfs_txg_timeout = 3");
        t.open_window(&both.apply).unwrap();
        t.apply_phase(&both, Phase::Boot).unwrap();
        assert!(t.close_window().unwrap().is_empty());
        assert_eq!(t.read("zfs_txg_timeout").unwrap().unwrap(), "3");
        t.restore().unwrap();
        assert_eq!(t.read("zfs_txg_timeout").unwrap().unwrap(), "5");

        let none = profile("description='x'\n[apply]\n");
        assert!(
            t.open_window(&none.apply).unwrap().set.is_empty(),
            "an empty [apply] sets nothing"
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}

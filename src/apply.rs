//! Apply: discover, import (with the copy paused), inspect, plan, and carry the plan out, one
//! logged step at a time. Every step is safe to run again after a crash: the next run's plan
//! starts from whatever state the pool and disks are in.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::config::Config;
use crate::discover::{self, BlockDevice, Role};
use crate::exec::Executor;
use crate::inspect::{self, PoolState};
use crate::origin::{self, Access, Origin};
use crate::partition;
pub use crate::paths::Paths;
use crate::plan::{self, Action, Decision, Step};
use crate::profile::Profile;
use crate::runfile::RunRecord;
use crate::tunables::Writes;
use crate::zfs::{RemovalState, Zpool};

/// What `apply` did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub decision: Decision,
    /// How long zevac's writable import took; `None` when it did not import the pool.
    pub import_seconds: Option<f64>,
}

/// The record left in `/run/zevac/state.json` for the stage-2 watcher.
#[derive(Debug, Clone, Serialize)]
pub struct StateRecord<'a> {
    pub pool: &'a str,
    pub decision: &'a Decision,
    pub origin: Vec<String>,
    pub local: Vec<String>,
    pub written_at: u64,
}

fn write_state(
    paths: &Paths,
    config: &Config,
    disks: &[BlockDevice],
    decision: &Decision,
) -> Result<()> {
    let by_role = |r: Role| {
        disks
            .iter()
            .filter(|d| d.role == r)
            .map(|d| d.stable_path().to_string())
            .collect()
    };
    let record = StateRecord {
        pool: &config.pool,
        decision,
        origin: by_role(Role::Origin),
        local: by_role(Role::Local),
        written_at: crate::records::now_epoch(),
    };
    crate::runfile::save(&paths.run_dir.join("state.json"), &record)
}

/// How `survey` may import the pool if it is not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Import {
    /// Not at all.
    No,
    /// Read-only: writes nothing, so a refusal leaves every disk as it was.
    ReadOnly,
    /// Writable, with the copy paused around the import.
    Writable,
}

/// The disks, and the pool's state if it is (or was just) imported.
pub struct Survey {
    pub disks: Vec<BlockDevice>,
    pub pool: Option<PoolState>,
    /// How this survey imported the pool (`Import::No` if it was imported already).
    pub imported: Import,
    pub import_seconds: Option<f64>,
    /// How the origin was reached.
    pub access: Access,
}

/// Discovers, reaches the origin (immutable: re-creates the snapshot a reboot mid-copy needs)
/// and, if asked, imports; inspects the pool when it is imported.
pub fn survey(
    exec: &dyn Executor,
    config: &Config,
    paths: &Paths,
    import: Import,
) -> Result<Survey> {
    let disks = discover(exec, config, paths)?;
    survey_disks(exec, config, paths, disks, import, None)
}

fn discover(exec: &dyn Executor, config: &Config, paths: &Paths) -> Result<Vec<BlockDevice>> {
    discover::machine(exec, paths, config).context("discovering the disks")
}

/// [`survey`] over disks already discovered (an import or export does not change them); with
/// the probe import's state `earlier`, it reads again only what the import changes.
fn survey_disks(
    exec: &dyn Executor,
    config: &Config,
    paths: &Paths,
    disks: Vec<BlockDevice>,
    import: Import,
    earlier: Option<&PoolState>,
) -> Result<Survey> {
    let origin = Origin::new(config, &disks);
    let mut survey = Survey {
        disks,
        pool: None,
        imported: Import::No,
        import_seconds: None,
        access: Access::Raw,
    };
    if !survey.disks.iter().any(|d| d.role == Role::Local) {
        return Ok(survey);
    }
    survey.access = origin::reach(exec, config, &survey.disks)
        .context("reaching the origin through its snapshot")?;
    let zpool = Zpool::new(exec);
    if !zpool.is_imported(&config.pool)? {
        if import == Import::No {
            return Ok(survey);
        }
        let devices = origin.import_devices(&survey.disks, survey.access);
        let start = std::time::Instant::now();
        let readonly = import == Import::ReadOnly;
        let run = || zpool.import(&config.pool, &devices, readonly);
        if readonly {
            run()
        } else {
            paths.tunables().with_removal_paused(run)
        }
        .with_context(|| format!("importing pool {} from {devices:?}", config.pool))?;
        survey.import_seconds = Some(start.elapsed().as_secs_f64());
        survey.imported = import;
    }
    survey.pool = Some(match earlier {
        Some(earlier) if survey.imported == Import::Writable => {
            inspect::refresh(&zpool, &config.pool, earlier)?
        }
        _ => inspect::inspect(&zpool, &config.pool, &origin)?,
    });
    Ok(survey)
}

/// Runs the whole flow. Refusals come back as `Decision::Refuse` with nothing changed: the pool
/// is first imported read-only, and imported for real only when there is something to do.
/// On any failure, [`recover`] first leaves the pool where the boot's own import finds it.
pub fn apply(
    exec: &dyn Executor,
    config: &Config,
    profile: &Profile,
    paths: &Paths,
) -> Result<Report> {
    try_apply(exec, config, profile, paths).map_err(|e| {
        let back = fall_back(exec, config, profile, paths);
        e.context(back)
    })
}

fn try_apply(
    exec: &dyn Executor,
    config: &Config,
    profile: &Profile,
    paths: &Paths,
) -> Result<Report> {
    let zpool = Zpool::new(exec);
    let first = survey(exec, config, paths, Import::ReadOnly)?;
    let Some(pool) = &first.pool else {
        let decision = Decision::Nothing(plan::Idle::NoLocalDisks);
        return Ok(Report {
            decision,
            import_seconds: None,
        });
    };
    let decision = plan::plan(config, &first.disks, pool);
    crate::faults::after("probe")?;
    if first.imported == Import::ReadOnly {
        zpool
            .export(&config.pool)
            .context("exporting the read-only import")?;
        if matches!(decision, Decision::Refuse { .. }) {
            return Ok(Report {
                decision,
                import_seconds: None,
            });
        }
    }
    let earlier = (first.imported == Import::ReadOnly).then_some(pool);
    carry_out(
        exec,
        config,
        profile,
        paths,
        first.disks,
        &decision,
        earlier,
    )
}

/// [`origin::give_back`] on this machine's disks (`zevac recover`, and `apply` on failure).
/// Its changes (an import through the snapshot, the guard's `zpool remove`) wait out txgs as
/// `apply`'s do, so `profile`'s `[apply]` parameters hold for them too, if they can be set.
pub fn recover(
    exec: &dyn Executor,
    config: &Config,
    profile: Option<&Profile>,
    paths: &Paths,
) -> Result<origin::GiveBack> {
    let tunables = paths.tunables();
    // A kill while `apply` changed the pool left its [apply] parameters set.
    if let Err(e) = tunables.close_window() {
        tracing::warn!("cannot put back the [apply] parameters: {e:#}");
    }
    let disks = discover(exec, config, paths)?;
    let window = profile.map(|p| Writes::new(p, false).open_window(&tunables));
    if let Some(Err(e)) = &window {
        tracing::warn!("cannot set the [apply] parameters: {e:#}");
    }
    let outcome = origin::give_back(exec, config, &disks, &tunables);
    if matches!(window, Some(Ok(_))) {
        if let Err(e) = tunables.close_window() {
            tracing::warn!("cannot put back the [apply] parameters: {e:#}");
        }
    }
    let outcome = outcome?;
    match outcome {
        origin::GiveBack::NoSnapshot => {}
        origin::GiveBack::ProbeExported => tracing::warn!("{}", outcome.describe()),
        origin::GiveBack::Kept { guarded } => tracing::error!(guarded, "{}", outcome.describe()),
        origin::GiveBack::Undone { exported } => {
            tracing::error!(exported, "{}", outcome.describe())
        }
    }
    Ok(outcome)
}

/// After a failed `apply`: [`recover`], said in the error.
fn fall_back(exec: &dyn Executor, config: &Config, profile: &Profile, paths: &Paths) -> String {
    match recover(exec, config, Some(profile), paths) {
        Ok(outcome) => outcome.describe().into(),
        Err(e) => {
            tracing::error!("zevac failed, and could not give the pool on EBS back: {e:#}");
            format!("giving the pool on EBS back failed too: {e:#}")
        }
    }
}

/// The part of `apply` that changes things, from the first partition on.
fn carry_out(
    exec: &dyn Executor,
    config: &Config,
    profile: &Profile,
    paths: &Paths,
    disks: Vec<BlockDevice>,
    decision: &Decision,
    earlier: Option<&PoolState>,
) -> Result<Report> {
    let (disks, before) = before_import(exec, config, paths, disks, decision)?;
    // Nothing to do (finished, running) or steps: the boot wants the pool imported writable.
    let Survey {
        disks,
        pool,
        import_seconds,
        access,
        ..
    } = survey_disks(exec, config, paths, disks, Import::Writable, earlier)?;
    let pool = pool.context("the pool vanished between two imports")?;
    crate::faults::after("import")?;
    let disks = &disks;
    let decision = plan::plan(config, disks, &pool);
    let finished = pool.status.removal.as_ref().map(|r| r.state) == Some(RemovalState::Finished);
    if finished && access == Access::Snapshot {
        // The copy finished in an earlier boot whose watcher did not release the snapshot.
        origin::release(exec, disks)?;
    }
    start_copy(exec, config, profile, paths, disks, &pool, &decision)?;
    // The report (and the state record) list every step this run took.
    let decision = match decision {
        Decision::Steps { steps } if !before.is_empty() => Decision::Steps {
            steps: before.into_iter().chain(steps).collect(),
        },
        other => other,
    };
    write_state(paths, config, disks, &decision)?;
    Ok(Report {
        decision,
        import_seconds,
    })
}

/// What must come before the writable import: the local partitions, and (immutable) the
/// snapshot the import goes through. Then the disks are read again for their new partitions.
/// Returns the disks and the steps taken.
fn before_import(
    exec: &dyn Executor,
    config: &Config,
    paths: &Paths,
    disks: Vec<BlockDevice>,
    decision: &Decision,
) -> Result<(Vec<BlockDevice>, Vec<Step>)> {
    let Decision::Steps { steps } = decision else {
        return Ok((disks, Vec::new()));
    };
    let before: Vec<Step> = steps
        .iter()
        .take_while(|s| matches!(s, Step::Partition(_) | Step::Snapshot(_)))
        .cloned()
        .collect();
    if before.is_empty() {
        return Ok((disks, before));
    }
    run_steps(exec, &disks, &before, &|| Ok(()))?;
    Ok((discover(exec, config, paths)?, before))
}

/// Adds and removes as the plan on the writable import says, or lets a removal a reboot
/// interrupted resume; either way under the profile's boot phase, and recorded for the cap.
fn start_copy(
    exec: &dyn Executor,
    config: &Config,
    profile: &Profile,
    paths: &Paths,
    disks: &[BlockDevice],
    pool: &PoolState,
    decision: &Decision,
) -> Result<()> {
    let writes = Writes::new(profile, config.watch.starts_copy);
    // With `watch.starts_copy` the copy waits for the watcher, which records its start.
    let held = writes.hold_for_watcher;
    let before_copy = || {
        // Setting a phase warns of each parameter the module lacks.
        writes
            .before_copy(&paths.tunables())
            .with_context(|| format!("setting profile {}'s boot phase", profile.name))?;
        if held {
            crate::faults::after("hold")?;
        }
        Ok(())
    };
    let removal = pool.status.removal.as_ref();
    match decision {
        Decision::Steps { steps } => {
            in_window(paths, profile, &writes, || {
                run_steps(exec, disks, steps, &before_copy)
            })?;
            // The copy flows once `zpool remove` returns (it spends seconds syncing first).
            if !held {
                for step in steps {
                    if let Step::Remove { pool, vdev } = step {
                        record_copy_start(exec, paths, pool, vdev);
                    }
                }
            }
        }
        // A reboot mid-copy: the copy resumes with this boot (or its watcher), under the boot
        // phase.
        _ if removal.map(|r| r.state) == Some(RemovalState::InProgress) => {
            before_copy()?;
            match removal.and_then(|r| r.path.as_deref()) {
                Some(vdev) if !held => record_copy_start(exec, paths, &config.pool, vdev),
                _ => {}
            }
        }
        _ => {}
    }
    Ok(())
}

/// The module parameters `apply` writes around `decision`, as `zevac plan` prints them (the
/// same [`Writes`] that [`start_copy`] sets); `imports`: the pool is not imported writable yet,
/// so `apply` imports it, with the copy paused around the import ([`survey_disks`]).
pub fn describe_writes(writes: &Writes, decision: &Decision, imports: bool) -> Vec<String> {
    let mut lines = Vec::new();
    // Every decision but these has `apply` import the pool for the boot.
    let no_import = matches!(
        decision,
        Decision::Refuse(_) | Decision::Nothing(plan::Idle::NoLocalDisks | plan::Idle::Disabled)
    );
    if imports && !no_import {
        lines.push(Writes::import_line());
    }
    lines.extend(describe_copy_writes(writes, decision));
    lines
}

/// [`describe_writes`] from the first `zpool add` on.
fn describe_copy_writes(writes: &Writes, decision: &Decision) -> Vec<String> {
    match decision {
        Decision::Steps { steps } => {
            let at = |f: fn(&Step) -> bool| steps.iter().position(f).map(|i| i + 1);
            let Some(from) = at(|s| matches!(s, Step::Add { .. } | Step::Remove { .. })) else {
                return Vec::new();
            };
            let remove = at(|s| matches!(s, Step::Remove { .. }));
            let mut lines: Vec<String> = writes
                .window_line(from, remove.unwrap_or(steps.len()))
                .into_iter()
                .collect();
            if let Some(n) = remove {
                lines.extend(writes.copy_lines(&format!("just before step {n}")));
            }
            lines
        }
        Decision::Nothing(plan::Idle::Running { .. }) => {
            writes.copy_lines("as the removal resumes with this boot")
        }
        Decision::Nothing(_) | Decision::Refuse(_) => Vec::new(),
    }
}

/// Runs `f` (the pool's configuration changes) with the profile's `[apply]` parameters set, and
/// puts them back whatever `f` returns; a kill in between leaves that to [`recover`].
fn in_window(
    paths: &Paths,
    profile: &Profile,
    writes: &Writes,
    f: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let tunables = paths.tunables();
    let opened = writes
        .open_window(&tunables)
        .with_context(|| format!("setting profile {}'s [apply] parameters", profile.name))?;
    warn_missing(profile, &opened);
    let done = f();
    let closed = tunables
        .close_window()
        .context("putting back the [apply] parameters");
    done.and(closed.map(drop))
}

/// One warning for the parameters of `profile` the running module lacks (its OpenZFS version).
fn warn_missing(profile: &Profile, applied: &crate::tunables::Applied) {
    if !applied.missing.is_empty() {
        tracing::warn!(profile = %profile.name, missing = ?applied.missing, "the zfs module lacks these parameters");
    }
}

/// Where the copy starts (or resumes), for the watcher's cap: the origin's read counter now.
/// Best effort: without it the cap counts from the watcher's start.
fn record_copy_start(exec: &dyn Executor, paths: &Paths, pool: &str, vdev: &str) {
    let Some(bytes) = crate::origin::read_counter(exec, &paths.sys, vdev, &mut None) else {
        tracing::debug!(
            vdev,
            "no read counter for the origin: the cap counts from the watcher"
        );
        return;
    };
    if let Err(e) = crate::records::CopyStart::now(pool, bytes).save(&paths.run_dir) {
        tracing::warn!("cannot record where the copy starts: {e:#}");
    }
}

/// Carries the steps out; `before_remove` runs just before `zpool remove` (the boot phase).
fn run_steps(
    exec: &dyn Executor,
    disks: &[BlockDevice],
    steps: &[Step],
    before_remove: &dyn Fn() -> Result<()>,
) -> Result<()> {
    let zpool = Zpool::new(exec);
    let layouts: Vec<_> = steps
        .iter()
        .filter_map(|s| {
            if let Step::Partition(l) = s {
                Some(l.clone())
            } else {
                None
            }
        })
        .collect();
    for (i, step) in steps.iter().enumerate() {
        let what = step.describe();
        tracing::info!(step = i + 1, of = steps.len(), "{what}");
        let done = match step {
            Step::Remove { .. } => before_remove().and_then(|()| run_actions(exec, disks, step)),
            _ => run_actions(exec, disks, step),
        };
        // Partitions first appear once udev has seen them: wait after the last of them, so the
        // steps after them, and a caller reading the disks again, find their by-id links.
        let done = done.and_then(|()| {
            let last_partition = matches!(step, Step::Partition(_))
                && !matches!(steps.get(i + 1), Some(Step::Partition(_)));
            if last_partition {
                partition::wait_for_partitions(exec, &layouts, Duration::from_secs(60))
            } else {
                Ok(())
            }
        });
        let done = done.and_then(|()| crate::faults::after(step.kind()));
        if let Err(e) = done {
            let now = pool_summary(&zpool, steps);
            return Err(e.context(format!(
                "step {} of {} failed: {what}. Steps before it are done ({now}); run zevac apply again to continue from here",
                i + 1,
                steps.len()
            )));
        }
    }
    Ok(())
}

/// Does what the step's actions say, in order: what `zevac plan` printed.
fn run_actions(exec: &dyn Executor, disks: &[BlockDevice], step: &Step) -> Result<()> {
    for action in step.actions() {
        match action {
            Action::Run(cmd) => exec.check(&cmd).map(drop)?,
            Action::WriteGpt(l) => {
                let disk = disks
                    .iter()
                    .find(|d| d.owns_path(&l.disk))
                    .context("the disk to partition vanished")?;
                partition::write_gpt(&l, disk.logical_sector)?
            }
            Action::ZeroStoreHeader(cow) => crate::devmapper::zero_cow_header(&cow)?,
        }
    }
    Ok(())
}

/// One line on the pool's state after a failed step, for the error message.
fn pool_summary(zpool: &Zpool, steps: &[Step]) -> String {
    let Some(pool) = steps.iter().find_map(|s| match s {
        Step::Add { pool, .. } | Step::Remove { pool, .. } => Some(pool.as_str()),
        Step::Partition(_) | Step::Snapshot(_) => None,
    }) else {
        return "pool state unknown".into();
    };
    let state = zpool.version().and_then(|v| zpool.status(pool, v));
    match state {
        Ok(st) => {
            let vdevs: Vec<&str> = st.vdevs.iter().map(|v| v.name.as_str()).collect();
            let removal = st.removal.map_or("no removal".to_string(), |r| {
                format!("removal {:?}", r.state)
            });
            format!("pool {pool} now has vdevs {}; {removal}", vdevs.join(", "))
        }
        Err(e) => format!("pool {pool}: cannot read its state: {e:#}"),
    }
}

/// Reads `path` as the config (defaults when the default file is missing).
pub fn load_config(path: Option<&Path>) -> Result<Config> {
    match path {
        Some(p) => Config::load(p, true),
        None => Config::load(Path::new(crate::config::DEFAULT_PATH), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::FakeExecutor;

    const IS1: &str = "/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_AWS129EA13962D6AFE69";

    /// `zevac plan` names each module parameter `apply` writes, at the step it comes with, from
    /// the same [`Writes`] `apply` sets (the shipped balanced profile).
    #[test]
    fn plan_shows_the_parameter_writes_at_their_steps() {
        let profile = crate::profile::find(Path::new("/nonexistent"), "balanced").unwrap();
        let add = Step::Add {
            pool: "rpool".into(),
            ashift: 12,
            class: crate::zfs::VdevClass::Normal,
            devices: vec![IS1.into()],
        };
        let remove = Step::Remove {
            pool: "rpool".into(),
            vdev: crate::devmapper::SNAPSHOT_PATH.into(),
        };
        let steps = Decision::Steps {
            steps: vec![add, remove.clone()],
        };
        let held = describe_writes(&Writes::new(&profile, true), &steps, false);
        assert_eq!(
            held,
            [
                "from step 1 until step 2 returns, profile balanced's [apply] table: zfs_txg_timeout=1",
                "just before step 2, profile balanced's boot phase: zfs_remove_max_segment=1048576 zfs_vdev_removal_max_active=2 zfs_vdev_removal_min_active=1",
                "just before step 2, for watch.starts_copy: zfs_removal_suspend_progress=1 (zevac watch lifts it)",
            ]
        );
        // After a crash between add and remove: the window opens at the remove itself.
        let only_remove = Decision::Steps {
            steps: vec![remove],
        };
        let mut empty = profile.clone();
        empty.apply.clear();
        let lines = describe_writes(&Writes::new(&empty, false), &only_remove, false);
        assert_eq!(lines.len(), 1, "no [apply] line, no pause: {lines:?}");
        assert!(lines[0].starts_with("just before step 1, profile balanced's boot phase"));
        let resumes = Decision::Nothing(plan::Idle::Running {
            vdev: None,
            percent: 10.0,
            copied: 1,
            to_copy: 10,
        });
        let lines = describe_writes(&Writes::new(&profile, true), &resumes, false);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines
            .iter()
            .all(|l| l.starts_with("as the removal resumes")));
        // Not imported yet (the probe's view): the pause around apply's own import comes first.
        let lines = describe_writes(&Writes::new(&profile, true), &resumes, true);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0], Writes::import_line());
        assert!(lines[0].starts_with("around the writable import: zfs_removal_suspend_progress=1"));
        let finished = Decision::Nothing(plan::Idle::Finished {
            pool: "rpool".into(),
        });
        assert!(describe_writes(&Writes::new(&profile, true), &finished, false).is_empty());
        assert_eq!(
            describe_writes(&Writes::new(&profile, true), &finished, true),
            [Writes::import_line()],
            "a finished pool is still imported for the boot"
        );
        let disabled = Decision::Nothing(plan::Idle::Disabled);
        assert!(describe_writes(&Writes::new(&profile, true), &disabled, true).is_empty());
    }

    /// A failing step says which step, what ZFS said, and what the pool looks like now; all from
    /// outputs recorded in the lab (the refused removal under a checkpoint).
    #[test]
    fn a_failed_step_names_itself_zfs_and_the_pool_state() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/fixtures/zfs-2.3.2/states");
        let mut exec = FakeExecutor::new();
        exec.expect_recorded(
            &format!("zpool remove rpool {IS1}"),
            &dir,
            "remove_with_checkpoint",
        )
        .unwrap();
        exec.expect_recorded("zpool version", &dir, "version")
            .unwrap();
        exec.expect_recorded(
            "zpool status -j --json-int -p -g rpool",
            &dir,
            "checkpointed_status_json",
        )
        .unwrap();
        let steps = [Step::Remove {
            pool: "rpool".into(),
            vdev: IS1.into(),
        }];
        let err = format!(
            "{:#}",
            run_steps(&exec, &[], &steps, &|| Ok(())).unwrap_err()
        );
        assert!(
            err.contains("step 1 of 1 failed: zpool remove rpool"),
            "{err}"
        );
        assert!(err.contains("checkpoint exists"), "what ZFS said: {err}");
        // In the recording, the EBS removal had finished before the checkpoint was taken.
        assert!(
            err.contains("pool rpool now has vdevs") && err.contains("removal Finished"),
            "{err}"
        );
    }
}

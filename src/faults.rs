//! Fault injection for the lab's failure tests: with `ZEVAC_TEST_FAIL_AFTER=<step>[,<step>…]`,
//! `zevac apply` fails right after each step named (`probe`: the read-only import and the plan;
//! `partition`, `snapshot` (made, or re-created in a boot after a crash), `import`, `add`,
//! `hold` (the copy paused for the watcher, just before `zpool remove`), `remove`), as a crash
//! of zevac there would, minus the crash; `guard` makes the fall-back's start of the removal
//! fail, as ZFS refusing it would.
//! Debug builds only (the lab tests'): a release build, what users run, never reads the variable.

/// The variable's name.
pub const VAR: &str = "ZEVAC_TEST_FAIL_AFTER";

/// Whether the variable names `point` (in a debug build).
fn named(point: &str) -> bool {
    cfg!(debug_assertions) && std::env::var(VAR).is_ok_and(|v| names(&v, point))
}

/// Whether the comma-separated `list` names `point`.
fn names(list: &str, point: &str) -> bool {
    list.split(',').any(|p| p.trim() == point)
}

/// Fails when the variable names `step`.
pub fn after(step: &str) -> anyhow::Result<()> {
    if named(step) {
        anyhow::bail!("failing after the {step} step, as {VAR} asks (a test)");
    }
    Ok(())
}

/// Fails when the variable names `point`, in place of the action there.
pub fn instead_of(point: &str, action: &str) -> anyhow::Result<()> {
    if named(point) {
        anyhow::bail!("failing instead of {action}, as {VAR} asks (a test)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn a_list_names_each_of_its_points_and_no_other() {
        assert!(names("add", "add"));
        assert!(names("add, guard", "guard"));
        assert!(names("snapshot,guard", "snapshot"));
        assert!(!names("add", "ad"));
        assert!(!names("add,guard", "remove"));
        assert!(!names("", "add"));
    }
}

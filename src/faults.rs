//! Fault injection for the lab's failure tests: with `ZEVAC_TEST_FAIL_AFTER=<step>`, `zevac
//! apply` fails right after that step (`probe`: the read-only import and the plan; `partition`,
//! `snapshot`, `import`, `add`, `remove`), as a crash of zevac there would, minus the crash.
//! Debug builds only (the lab tests'): a release build, what users run, never reads the variable.

/// The variable's name.
pub const VAR: &str = "ZEVAC_TEST_FAIL_AFTER";

/// Fails when the variable names `step` (in a debug build).
pub fn after(step: &str) -> anyhow::Result<()> {
    if cfg!(debug_assertions) && std::env::var(VAR).is_ok_and(|v| v == step) {
        anyhow::bail!("failing after the {step} step, as {VAR} asks (a test)");
    }
    Ok(())
}

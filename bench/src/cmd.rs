//! Running host commands: one place that logs each with its duration and turns failures into errors
//! that carry the command line and the tail of what it printed.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// How many trailing lines of a failed command's output go into the error.
const TAIL_LINES: usize = 30;

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd` to completion, capturing its output; fails unless it exits 0.
pub fn run(cmd: &mut Command) -> Result<Output> {
    let line = describe(cmd);
    let start = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot start `{line}`"))?;
    let secs = start.elapsed().as_secs_f64();
    tracing::debug!(command = %line, secs, status = ?out.status, "ran");
    if !out.status.success() {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        bail!(
            "`{line}` failed ({}); its last lines:\n{}",
            out.status,
            tail(&text, TAIL_LINES)
        );
    }
    Ok(out)
}

/// Runs `cmd` with stdout and stderr sent to `log`; on failure the error quotes the log's tail.
pub fn run_logged(cmd: &mut Command, log: &Path) -> Result<()> {
    let line = describe(cmd);
    let file =
        std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let start = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("cannot start `{line}`"))?;
    tracing::info!(command = %line, secs = start.elapsed().as_secs_f64(), %status, "ran");
    if !status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        bail!(
            "`{line}` failed ({status}); full log: {}; its last lines:\n{}",
            log.display(),
            tail(&text, TAIL_LINES)
        );
    }
    Ok(())
}

/// Runs `cmd` and returns its stdout as text.
pub fn stdout(cmd: &mut Command) -> Result<String> {
    Ok(String::from_utf8_lossy(&run(cmd)?.stdout).into_owned())
}

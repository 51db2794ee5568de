//! Running system tools. Every command zevac runs is a [`Cmd`] that goes through an [`Executor`]:
//! the real one runs it (with `LC_ALL=C`, logged with its duration), the fake one answers from
//! outputs recorded in the lab, in the order a test expects, so the logic above is testable
//! without a kernel.

use std::collections::VecDeque;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};

pub use crate::cmd::Cmd;

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// Exit `status` with `stdout` and nothing on stderr.
    pub fn with(status: i32, stdout: &str) -> Self {
        Self {
            status,
            stdout: stdout.to_string(),
            stderr: String::new(),
        }
    }
}

/// A command failed; carries what it said, so callers can match ZFS's error texts.
#[derive(Debug, thiserror::Error)]
#[error("`{command}` failed (exit {status}): {}", stderr.trim())]
pub struct CommandFailed {
    pub command: String,
    pub status: i32,
    pub stderr: String,
}

/// Runs commands.
pub trait Executor: Send + Sync {
    /// Runs `cmd`; `Ok` whatever the exit code.
    fn run(&self, cmd: &Cmd) -> Result<Output>;

    /// Runs and fails unless the exit code is 0.
    fn check(&self, cmd: &Cmd) -> Result<Output> {
        let out = self.run(cmd)?;
        if !out.success() {
            return Err(CommandFailed {
                command: cmd.to_string(),
                status: out.status,
                stderr: if out.stderr.trim().is_empty() {
                    out.stdout.clone()
                } else {
                    out.stderr.clone()
                },
            }
            .into());
        }
        Ok(out)
    }
}

/// Runs commands on this machine.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealExecutor;

impl Executor for RealExecutor {
    fn run(&self, cmd: &Cmd) -> Result<Output> {
        let start = Instant::now();
        let out = Command::new(&cmd.program)
            .args(&cmd.args)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .output()
            .with_context(|| {
                format!(
                    "cannot run `{cmd}` (is {} installed and on PATH?)",
                    cmd.program
                )
            })?;
        let status = out.status.code().unwrap_or(-1);
        tracing::info!(command = %cmd, status, secs = format_args!("{:.3}", start.elapsed().as_secs_f64()), "ran");
        Ok(Output {
            status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// Answers the commands a test expects, in the order it expects them, from recordings. A command
/// out of order, or one not expected, is an error; an expected command never asked for fails the
/// test when the fake is dropped.
#[derive(Debug, Default)]
pub struct FakeExecutor {
    expected: Mutex<VecDeque<(String, Output)>>,
    /// Every command line asked for, in order.
    asked: Mutex<Vec<String>>,
}

impl FakeExecutor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Expects `command_line` next (after those expected before), and answers it with `output`.
    pub fn expect(&mut self, command_line: &str, output: Output) -> &mut Self {
        lock(&self.expected).push_back((command_line.to_string(), output));
        self
    }

    /// Expects `command_line` next and answers it with the command named `name` of a directory
    /// written by `zevac-bench lab record` (`NAME.stdout`, `NAME.stderr`, and its exit code in
    /// `commands.tsv`).
    pub fn expect_recorded(
        &mut self,
        command_line: &str,
        dir: &Path,
        name: &str,
    ) -> Result<&mut Self> {
        let output = recorded(dir, name)?;
        Ok(self.expect(command_line, output))
    }

    /// The command lines asked for so far.
    pub fn asked(&self) -> Vec<String> {
        lock(&self.asked).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The output of command `name` recorded in `dir`.
fn recorded(dir: &Path, name: &str) -> Result<Output> {
    let index = std::fs::read_to_string(dir.join("commands.tsv"))
        .with_context(|| format!("no recording index in {}", dir.display()))?;
    let status = index
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?, f.next()?))
        })
        .find(|(n, _)| *n == name)
        .with_context(|| format!("{name} is not recorded in {}", dir.display()))?
        .1
        .parse()?;
    let read =
        |ext: &str| std::fs::read_to_string(dir.join(format!("{name}.{ext}"))).unwrap_or_default();
    Ok(Output {
        status,
        stdout: read("stdout"),
        stderr: read("stderr"),
    })
}

impl Executor for FakeExecutor {
    fn run(&self, cmd: &Cmd) -> Result<Output> {
        let line = cmd.to_string();
        lock(&self.asked).push(line.clone());
        match lock(&self.expected).pop_front() {
            Some((want, out)) if want == line => Ok(out),
            Some((want, _)) => {
                anyhow::bail!("the fake executor expected `{want}` next, and was asked `{line}`")
            }
            None => {
                anyhow::bail!("the fake executor expected nothing more, and was asked `{line}`")
            }
        }
    }
}

impl Drop for FakeExecutor {
    fn drop(&mut self) {
        let left = lock(&self.expected);
        if !left.is_empty() && !std::thread::panicking() {
            let lines: Vec<&str> = left.iter().map(|(l, _)| l.as_str()).collect();
            panic!("expected commands never asked for: {lines:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fake_answers_in_order_and_refuses_the_unexpected() {
        let mut exec = FakeExecutor::new();
        exec.expect("zpool version", Output::with(0, "zfs-2.3.2"))
            .expect("zpool list -H -o name rpool", Output::with(1, ""));
        let list = Cmd::new("zpool").args(["list", "-H", "-o", "name", "rpool"]);
        let err = exec.run(&list).unwrap_err().to_string();
        assert!(err.contains("expected `zpool version` next"), "{err}");
        // The out-of-order call used up the first expectation; the second still answers.
        assert_eq!(exec.run(&list).unwrap().status, 1);
        let err = exec.run(&list).unwrap_err().to_string();
        assert!(err.contains("expected nothing more"), "{err}");
        assert_eq!(exec.asked().len(), 3);
    }

    #[test]
    #[should_panic(expected = "never asked for")]
    fn the_fake_fails_on_leftovers() {
        let mut exec = FakeExecutor::new();
        exec.expect("zpool version", Output::with(0, ""));
    }

    #[test]
    fn check_carries_what_the_command_said() {
        let mut exec = FakeExecutor::new();
        exec.expect(
            "zpool remove rpool sda",
            Output {
                status: 1,
                stdout: String::new(),
                stderr: "cannot remove sda: pool has a checkpoint\n".into(),
            },
        );
        let err = exec
            .check(&Cmd::new("zpool").args(["remove", "rpool", "sda"]))
            .unwrap_err();
        let failed = err.downcast_ref::<CommandFailed>().unwrap();
        assert_eq!(failed.command, "zpool remove rpool sda");
        assert!(failed.stderr.contains("checkpoint"));
    }
}

//! Running system tools. Every command zevac runs goes through an [`Executor`]: the real one runs
//! it (with `LC_ALL=C`, logged with its duration), the fake one answers from outputs recorded in
//! the lab, so the logic above is testable without a kernel.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};

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
    /// Runs `program` with `args`; `Ok` whatever the exit code.
    fn run(&self, program: &str, args: &[String]) -> Result<Output>;

    /// Runs and fails unless the exit code is 0.
    fn check(&self, program: &str, args: &[String]) -> Result<Output> {
        let out = self.run(program, args)?;
        if !out.success() {
            return Err(CommandFailed {
                command: command_line(program, args),
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

/// `program arg arg ...`, as logged and as the fake executor keys its recordings.
pub fn command_line(program: &str, args: &[String]) -> String {
    std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs commands on this machine.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealExecutor;

impl Executor for RealExecutor {
    fn run(&self, program: &str, args: &[String]) -> Result<Output> {
        let line = command_line(program, args);
        let start = Instant::now();
        let out = Command::new(program)
            .args(args)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .output()
            .with_context(|| {
                format!("cannot run `{line}` (is {program} installed and on PATH?)")
            })?;
        let status = out.status.code().unwrap_or(-1);
        tracing::info!(command = %line, status, secs = format_args!("{:.3}", start.elapsed().as_secs_f64()), "ran");
        Ok(Output {
            status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// Answers commands from recordings; records every command it was asked to run.
#[derive(Debug, Default)]
pub struct FakeExecutor {
    answers: HashMap<String, Output>,
    /// Every command line asked for, in order.
    pub asked: Mutex<Vec<String>>,
}

impl FakeExecutor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `command_line` with `output`.
    pub fn answer(&mut self, command_line: &str, output: Output) -> &mut Self {
        self.answers.insert(command_line.to_string(), output);
        self
    }

    /// Answers `command_line` with the command named `name` of a directory written by
    /// `zevac-bench lab record` (`NAME.stdout`, `NAME.stderr`, and its exit code in `commands.tsv`).
    pub fn answer_recorded(
        &mut self,
        command_line: &str,
        dir: &Path,
        name: &str,
    ) -> Result<&mut Self> {
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
        let read = |ext: &str| {
            std::fs::read_to_string(dir.join(format!("{name}.{ext}"))).unwrap_or_default()
        };
        Ok(self.answer(
            command_line,
            Output {
                status,
                stdout: read("stdout"),
                stderr: read("stderr"),
            },
        ))
    }
}

impl Executor for FakeExecutor {
    fn run(&self, program: &str, args: &[String]) -> Result<Output> {
        let line = command_line(program, args);
        self.asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line.clone());
        self.answers
            .get(&line)
            .cloned()
            .with_context(|| format!("the fake executor has no answer for `{line}`"))
    }
}

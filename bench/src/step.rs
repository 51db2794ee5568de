//! The lab's long set-up steps (installing packages, building the OpenZFS modules, the golden
//! images) say what they do and how far along they are: a spinner with the step's name, its
//! elapsed time and the last run of the same step on this machine (kept in the cache), when
//! stderr is a terminal; a log line at the start and at the end otherwise.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::cache;

/// The seconds each kind of step took last, by name: `<cache>/step-times.json`. Not keyed by
/// versions on purpose: a new version's build compares with the last one of any version.
fn times_file() -> PathBuf {
    cache::root().join("step-times.json")
}

fn load_times() -> BTreeMap<String, f64> {
    std::fs::read_to_string(times_file())
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn human(secs: f64) -> String {
    humantime::format_duration(Duration::from_secs(secs.round() as u64)).to_string()
}

/// A step under way; [`Step::done`] records its time.
pub struct Step {
    kind: String,
    what: String,
    started: Instant,
    spinner: Option<ProgressBar>,
}

impl Step {
    /// Starts the step `what`, of the kind `kind` (the key its time is kept under).
    pub fn start(kind: impl Into<String>, what: impl Into<String>) -> Self {
        let kind = kind.into();
        let what = what.into();
        let last = load_times().get(&kind).copied();
        let against = last.map_or("no earlier run on this machine".to_string(), |s| {
            format!("the last took {}", human(s))
        });
        let spinner = std::io::stderr().is_terminal().then(|| {
            let s = ProgressBar::new_spinner();
            s.set_style(
                ProgressStyle::with_template("{spinner} {msg}: {elapsed} ({prefix})")
                    .expect("a valid template"),
            );
            s.set_prefix(against.clone());
            s.set_message(what.clone());
            s.enable_steady_tick(Duration::from_millis(200));
            s
        });
        if spinner.is_none() {
            tracing::info!(step = %what, last = %against, "started");
        }
        Self {
            kind,
            what,
            started: Instant::now(),
            spinner,
        }
    }

    /// The step ended well: its time is kept for the next run's comparison.
    pub fn done(self) {
        let secs = self.started.elapsed().as_secs_f64();
        let mut times = load_times();
        times.insert(self.kind.clone(), secs);
        if let Ok(text) = serde_json::to_string_pretty(&times) {
            // Best effort: a comparison lost is no reason to fail the set-up.
            let _ = std::fs::write(times_file(), text);
        }
        if let Some(s) = &self.spinner {
            s.finish_and_clear();
        }
        tracing::info!(step = %self.what, took = %human(secs), "done");
    }
}

impl Drop for Step {
    /// A step that failed (an error, a panic) clears its spinner and keeps no time.
    fn drop(&mut self) {
        if let Some(s) = &self.spinner {
            if !s.is_finished() {
                s.abandon();
            }
        }
    }
}

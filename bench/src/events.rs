//! Events the guest sends (JSON lines on its second serial port, written by `guest/lib.sh`), parsed
//! into types.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use base64::Engine;
use serde::Deserialize;

/// One event: a name and string fields.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Event {
    pub event: String,
    #[serde(flatten)]
    pub fields: BTreeMap<String, String>,
}

impl Event {
    /// Parses one line; `None` for a line that is not an event (noise on the port).
    pub fn parse(line: &str) -> Option<Event> {
        let line = line.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if !line.starts_with('{') {
            return None;
        }
        serde_json::from_str(line).ok()
    }

    pub fn field(&self, key: &str) -> Result<&str> {
        self.fields
            .get(key)
            .map(String::as_str)
            .with_context(|| format!("event {} has no field {key}", self.event))
    }

    pub fn number(&self, key: &str) -> Result<f64> {
        let v = self.field(key)?;
        v.parse()
            .with_context(|| format!("event {}: {key}={v:?} is not a number", self.event))
    }

    /// The command record of a `cmd` event.
    pub fn as_cmd(&self) -> Option<CmdRecord> {
        (self.event == "cmd")
            .then(|| CmdRecord::from_event(self))
            .and_then(Result::ok)
    }

    /// The `name` field of `mark` and `cmd` events.
    pub fn name(&self) -> Option<&str> {
        self.fields.get("name").map(String::as_str)
    }
}

/// A command the guest ran with `run`/`must`: what it printed, its exit code and timing (seconds
/// since the guest booted).
#[derive(Debug, Clone, PartialEq)]
pub struct CmdRecord {
    pub name: String,
    pub argv: String,
    pub rc: i32,
    pub start: f64,
    pub end: f64,
    pub stdout: String,
    pub stderr: String,
}

impl CmdRecord {
    fn from_event(e: &Event) -> Result<Self> {
        let b64 = |k: &str| -> Result<String> {
            let raw = base64::engine::general_purpose::STANDARD.decode(e.field(k)?)?;
            Ok(String::from_utf8_lossy(&raw).into_owned())
        };
        Ok(Self {
            name: e.field("name")?.to_string(),
            argv: e.field("argv")?.to_string(),
            rc: e.field("rc")?.parse()?,
            start: e.number("start")?,
            end: e.number("end")?,
            stdout: b64("stdout")?,
            stderr: b64("stderr")?,
        })
    }

    pub fn seconds(&self) -> f64 {
        self.end - self.start
    }
}

/// All events of one boot, in order.
#[derive(Debug, Clone, Default)]
pub struct Events(pub Vec<Event>);

impl Events {
    /// The last command record named `name`.
    pub fn cmd(&self, name: &str) -> Result<CmdRecord> {
        self.0
            .iter()
            .rev()
            .filter_map(Event::as_cmd)
            .find(|c| c.name == name)
            .with_context(|| format!("the guest ran no command named {name}"))
    }

    /// What the last command named `name` printed, read as one whole number (a counter the
    /// guest read).
    pub fn cmd_number(&self, name: &str) -> Result<u64> {
        let out = self.cmd(name)?.stdout;
        out.trim()
            .parse()
            .with_context(|| format!("{name}: {out:?}"))
    }

    /// The last event named `event` (with `name` = `name` if given).
    pub fn find(&self, event: &str, name: Option<&str>) -> Result<&Event> {
        self.0
            .iter()
            .rev()
            .find(|e| e.event == event && (name.is_none() || e.name() == name))
            .with_context(|| {
                format!(
                    "the guest sent no {event} event{}",
                    name.map(|n| format!(" named {n}")).unwrap_or_default()
                )
            })
    }

    /// The `fail` event's reason, if the scenario failed.
    pub fn failure(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.event == "fail")
            .and_then(|e| e.fields.get("reason"))
            .map(String::as_str)
    }

    /// The scenario's exit code from the `end` event.
    pub fn exit_code(&self) -> Option<i32> {
        self.0
            .iter()
            .find(|e| e.event == "end")
            .and_then(|e| e.fields.get("rc")?.parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cmd_event_decodes() {
        // "NAME\tSIZE\n" and "" in base64, as lib.sh's `run` sends them.
        let line = r#"{"event":"cmd","name":"list","argv":"zpool list -Hp","rc":"0","start":"12.50","end":"12.75","stdout":"TkFNRQlTSVpFCg==","stderr":""}"#;
        let e = Event::parse(line).unwrap();
        let c = e.as_cmd().unwrap();
        assert_eq!(c.stdout, "NAME\tSIZE\n");
        assert_eq!(c.rc, 0);
        assert!((c.seconds() - 0.25).abs() < 1e-9);
    }

    #[test]
    fn noise_is_not_an_event() {
        assert!(Event::parse("\r\n").is_none());
        assert!(Event::parse("[    1.2] nvme nvme0: 2/0/0 queues").is_none());
        assert!(
            Event::parse("{\"event\":\"ready\",\"zfs_version\":\"2.3.2-2~bpo12+2\"}\r").is_some()
        );
    }
}

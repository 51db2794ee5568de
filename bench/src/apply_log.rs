//! Where `zevac apply`'s time goes, read from its own log: its executor logs every command it
//! runs with the seconds it took (`ran command=<shell line> status=<code> secs=<seconds>`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One command `apply` ran, and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandTime {
    pub command: String,
    pub seconds: f64,
}

/// What a command was for, in the order `apply` runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// Reading sysfs' disks and probing them (`blkid`).
    Discover,
    /// The read-only import that plans without changing anything.
    ProbeImport,
    Export,
    /// The writable import.
    Import,
    /// `zpool status`/`get`/`list`/`version`, `zdb -l`, `zfs get`: what the planner reads.
    Inspect,
    /// Partition tables and udev, the snapshot's device-mapper table, read-only flags.
    Devices,
    Add,
    /// `zpool set allocating=off`.
    StopAllocating,
    Remove,
    Other,
}

impl Part {
    pub const ALL: [Part; 10] = [
        Part::Discover,
        Part::ProbeImport,
        Part::Export,
        Part::Import,
        Part::Inspect,
        Part::Devices,
        Part::Add,
        Part::StopAllocating,
        Part::Remove,
        Part::Other,
    ];

    /// The part a logged command line belongs to.
    pub fn of(command: &str) -> Part {
        let words: Vec<&str> = command.split_whitespace().collect();
        match words.as_slice() {
            ["zpool", "import", rest @ ..] if rest.contains(&"readonly=on") => Part::ProbeImport,
            ["zpool", "import", ..] => Part::Import,
            ["zpool", "export", ..] => Part::Export,
            ["zpool", "add", ..] => Part::Add,
            ["zpool", "remove", ..] => Part::Remove,
            ["zpool", "set", rest @ ..] if rest.contains(&"allocating=off") => Part::StopAllocating,
            ["zpool", "set", ..] => Part::Other,
            ["zpool" | "zdb" | "zfs", ..] => Part::Inspect,
            ["blkid", ..] => Part::Discover,
            ["dmsetup" | "blockdev" | "wipefs" | "udevadm", ..] => Part::Devices,
            _ => Part::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Part::Discover => "discover",
            Part::ProbeImport => "probe import",
            Part::Export => "export",
            Part::Import => "import",
            Part::Inspect => "inspect",
            Part::Devices => "devices",
            Part::Add => "add",
            Part::StopAllocating => "allocating=off",
            Part::Remove => "remove",
            Part::Other => "other",
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// The commands in `apply`'s log (its standard error), in order; other lines are skipped.
pub fn commands(log: &str) -> Vec<CommandTime> {
    log.lines().filter_map(command).collect()
}

fn command(line: &str) -> Option<CommandTime> {
    let (_, rest) = line.split_once(" ran command=")?;
    // The command is free text; the two fields after it are not.
    let (rest, secs) = rest.rsplit_once(" secs=")?;
    let (command, _status) = rest.rsplit_once(" status=")?;
    Some(CommandTime {
        command: command.to_string(),
        seconds: secs.trim().parse().ok()?,
    })
}

/// Seconds per part, over the commands given.
pub fn by_part(commands: &[CommandTime]) -> BTreeMap<Part, f64> {
    let mut parts = BTreeMap::new();
    for c in commands {
        *parts.entry(Part::of(&c.command)).or_insert(0.0) += c.seconds;
    }
    parts
}

/// `probe import 0.80 s, export 0.09 s, ...`: the parts that took any time, and what the
/// commands do not account for (zevac's own work: the GPT writes, its waits) of `total`.
pub fn line(commands: &[CommandTime], total: f64) -> String {
    let mut out: Vec<String> = by_part(commands)
        .iter()
        .map(|(p, s)| format!("{p} {s:.2} s"))
        .collect();
    out.push(format!(
        "zevac itself {:.2} s",
        (total - logged_seconds(commands)).max(0.0)
    ));
    out.join(", ")
}

/// The seconds the commands account for.
pub fn logged_seconds(commands: &[CommandTime]) -> f64 {
    commands.iter().map(|c| c.seconds).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `zevac apply`'s log in the demo (512 MiB, EBS 16 MiB/s, OpenZFS 2.3.2), recorded in the lab.
    const DEMO: &str = include_str!("../fixtures/zfs-2.3.2/demo-apply-stderr.log");

    #[test]
    fn the_demo_log_reads_as_its_commands_and_parts() {
        let cmds = commands(DEMO);
        assert_eq!(cmds.len(), 31, "every `ran` line, and no other");
        assert_eq!(
            cmds[4].command,
            "zpool import -N -o readonly=on -d /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0b2bbaafa22850faa-part1 -d /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0b2bbaafa22850faa-part2 rpool"
        );
        assert_eq!(cmds[4].seconds, 0.798);
        // A quoted table with spaces stays one command.
        let dm = cmds
            .iter()
            .find(|c| c.command.starts_with("dmsetup create"))
            .unwrap();
        assert!(dm.command.ends_with("P 8'"), "{}", dm.command);
        let parts = by_part(&cmds);
        assert_eq!(parts[&Part::ProbeImport], 0.798);
        assert_eq!(parts[&Part::Import], 1.279);
        assert_eq!(parts[&Part::Remove], 1.329);
        assert_eq!(parts[&Part::Add], 0.882);
        assert!(!parts.contains_key(&Part::Other), "{parts:?}");
        let total: f64 = parts.values().sum();
        let line = line(&cmds, 7.73);
        assert!(
            line.starts_with(
                "discover 0.14 s, probe import 0.80 s, export 0.09 s, import 1.28 s, inspect "
            ),
            "{line}"
        );
        assert!(
            line.ends_with(&format!("zevac itself {:.2} s", 7.73 - total)),
            "{line}"
        );
    }

    #[test]
    fn commands_are_told_apart_by_what_they_do() {
        for (cmd, part) in [
            (
                "zpool import -N -d /dev/mapper/zevac-origin rpool",
                Part::Import,
            ),
            (
                "zpool set allocating=off rpool /dev/mapper/zevac-origin",
                Part::StopAllocating,
            ),
            ("zpool set cachefile=none rpool", Part::Other),
            ("zdb -l /dev/mapper/zevac-origin", Part::Inspect),
            ("udevadm settle --timeout=30", Part::Devices),
            ("sgdisk -p /dev/x", Part::Other),
        ] {
            assert_eq!(Part::of(cmd), part, "{cmd}");
        }
        assert!(command("2026 INFO zevac::apply: zpool remove rpool x step=2 of=2").is_none());
    }
}

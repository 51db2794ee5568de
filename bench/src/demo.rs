//! `zevac-bench demo`, the main job for a newcomer: the golden image boots from a throttled EBS
//! with instance stores, `zevac apply` runs in the initrd and `zevac watch` after it, and the
//! guest's `zevac status --watch` is shown live here until the copy is verified: a bar on a
//! terminal, lines on a pipe.

use std::collections::BTreeMap;
use std::time::Duration;

use std::io::IsTerminal;

use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use zevac::config::{CapSetting, Config};
use zevac::status::StatusReport;

use crate::apply_log::{self, Part};
use crate::cell::Workload;
use crate::peers::{self, Peer, PeerCell};
use crate::{golden, BootSpec, Lab, Throttle};

/// The demo's knobs (also its command-line flags).
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    #[arg(long, default_value_t = 512)]
    pub data_mib: u64,
    /// EBS throttle in MiB/s.
    #[arg(long, default_value_t = 16)]
    pub throttle_mib: u64,
    #[arg(long, default_value_t = 2)]
    pub instance_stores: usize,
    #[arg(long, default_value_t = 1024)]
    pub instance_store_mib: u64,
    #[arg(long, default_value = "balanced")]
    pub profile: String,
    /// A bandwidth cap for the copy, e.g. "8 MiB/s", "50%" or "none"; absent: the profile's.
    #[arg(long, value_parser = |s: &str| CapSetting::try_from(s.to_string()).map_err(|e| e.to_string()))]
    pub cap: Option<CapSetting>,
    /// The zevac binary carried into the guest (built from the work tree by the command line).
    #[arg(skip)]
    pub zevac: std::path::PathBuf,
}

/// The summary printed at the end.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// How long `zevac apply` held the boot.
    pub boot_blocking_seconds: f64,
    /// `apply`'s seconds by part, from its log.
    pub apply_parts: BTreeMap<Part, f64>,
    /// Mounting the root's four file systems right after `apply`, before the watcher starts the
    /// copy.
    pub root_mount_seconds: f64,
    /// The same boot without zevac, measured first in the same run: the import from EBS and
    /// the same mounts.
    pub ebs_alone_seconds: f64,
    /// (`apply` + root mount) / EBS alone.
    pub held_to_ebs_alone: f64,
    /// ZFS's copy, from its own removal clock (2.3; whole seconds), else from the guest's clock.
    pub copy_seconds: Option<f64>,
    pub copied_bytes: u64,
    pub rate_mib_per_second: Option<f64>,
    pub throttle_mib_per_second: u64,
    pub scrub_errors: Option<u64>,
    pub manifest_ok: bool,
    pub state: String,
    /// The Debian versions the guest ran.
    pub versions: crate::Versions,
}

/// Runs the demo, printing the guest's progress lines as they arrive.
pub fn run(lab: &Lab, opts: &Options) -> Result<Summary> {
    let g = golden::golden(lab, opts.data_mib)?;
    let ebs = ebs_alone(lab, opts)?;
    let run = lab.new_run("demo")?;
    let list = run.ec2_disks(
        &g,
        Some(Throttle::mib_per_second(opts.throttle_mib)),
        opts.instance_stores,
        opts.instance_store_mib,
    )?;
    let mut config = Config::default();
    config.tunables.profile = opts.profile.clone();
    config.tunables.cap = opts.cap;
    config.watch.interval = Duration::from_secs(1);
    // As the NixOS module boots: the root mounts with EBS to itself, the watcher starts the copy.
    config.watch.starts_copy = true;
    let spec = BootSpec::new("demo", list, include_str!("../guest/demo.sh"))
        .file(crate::golden::MANIFEST, g.manifest.clone())
        .file("/etc/zevac.toml", config.to_toml())
        .binary("/bin/zevac", &opts.zevac);
    println!(
        "booting: {} MiB of data on an EBS volume throttled to {} MiB/s, {} instance stores, profile {}{}",
        opts.data_mib,
        opts.throttle_mib,
        opts.instance_stores,
        opts.profile,
        opts.cap
            .map(|c| format!(", cap {}", String::from(c)))
            .unwrap_or_default()
    );
    let mut vm = lab.boot(&run, &spec)?;
    let view = std::cell::RefCell::new(View::new());
    vm.wait_for("the demo to finish", Duration::from_secs(1800), |e| {
        view.borrow_mut().show(e);
        e.event == "mark" && e.name() == Some("demo_done")
    })?;
    view.borrow().finish();
    let outcome = vm.wait_exit()?.ok()?;
    let summary = summarize(lab, opts, &outcome.events, ebs)?;
    println!("run directory: {}", run.dir.display());
    let watch = outcome.events.cmd("watch")?;
    if watch.rc != 0 {
        bail!("zevac watch failed ({}): {}", watch.rc, watch.stdout);
    }
    run.remove_images()?;
    Ok(summary)
}

/// The guest's events as they arrive: `zevac apply`'s result and where its time went, then the
/// copy's progress (`zevac status --watch --json`, a report a second) as a bar when stdout is a
/// terminal, else a line per change.
struct View {
    bar: Option<ProgressBar>,
    last: String,
}

impl View {
    fn new() -> Self {
        let bar = std::io::stdout().is_terminal().then(|| {
            let b = ProgressBar::hidden();
            b.set_style(
                ProgressStyle::with_template(
                    "  guest | {msg}\n  guest | [{bar:50}] {percent:>3}%  {elapsed}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            b
        });
        Self {
            bar,
            last: String::new(),
        }
    }

    fn say(&self, line: String) {
        match &self.bar {
            Some(b) if !b.is_hidden() => b.println(line),
            _ => println!("{line}"),
        }
    }

    fn show(&mut self, e: &crate::Event) {
        match (e.event.as_str(), e.name()) {
            ("progress", _) => self.progress(e.field("json").unwrap_or("")),
            ("cmd", Some("apply")) => {
                if let Some(c) = e.as_cmd() {
                    self.say(format!(
                        "  guest | zevac apply: exit {} after {:.2} s",
                        c.rc,
                        c.seconds()
                    ));
                    for l in c.stdout.lines() {
                        self.say(format!("  guest |   {l}"));
                    }
                    let commands = apply_log::commands(&c.stderr);
                    self.say(format!(
                        "  guest |   where: {}",
                        apply_log::line(&commands, c.seconds())
                    ));
                }
            }
            _ => {}
        }
    }

    /// One report: the bar follows its estimate, the message its phase, rate and ETA.
    fn progress(&mut self, json: &str) {
        let Ok(r) = serde_json::from_str::<StatusReport>(json) else {
            return self.say(format!("  guest | {json}"));
        };
        let line = r.line();
        match &self.bar {
            Some(b) => {
                if b.is_hidden() {
                    b.set_draw_target(indicatif::ProgressDrawTarget::stdout());
                }
                b.set_length(r.total_bytes.max(1));
                b.set_position(r.estimated_bytes.max(r.copied_bytes));
                b.set_message(line.clone());
            }
            None if line != self.last => println!("  guest | {line}"),
            None => {}
        }
        self.last = line;
    }

    /// Leaves the bar's last state on the screen.
    fn finish(&self) {
        if let Some(b) = self.bar.as_ref().filter(|b| !b.is_hidden()) {
            b.finish();
        }
    }
}

/// The summary from the demo's events, with the EBS-alone boot's `ebs` seconds.
fn summarize(lab: &Lab, opts: &Options, ev: &crate::events::Events, ebs: f64) -> Result<Summary> {
    let apply = ev.cmd("apply")?;
    if apply.rc != 0 {
        bail!("zevac apply failed: {}", apply.stderr);
    }
    let after = crate::sweep::status_report(ev)?;
    let copied = after.copied_bytes;
    let copy_seconds = after.elapsed_seconds.map(|s| s as f64);
    let root_mount_seconds = ev.cmd("mount_root")?.seconds();
    let held = apply.seconds() + root_mount_seconds;
    let summary = Summary {
        boot_blocking_seconds: apply.seconds(),
        apply_parts: apply_log::by_part(&apply_log::commands(&apply.stderr)),
        root_mount_seconds,
        ebs_alone_seconds: ebs,
        held_to_ebs_alone: held / ebs,
        copy_seconds,
        copied_bytes: copied,
        rate_mib_per_second: copy_seconds
            .filter(|&s| s > 0.0)
            .map(|s| copied as f64 / s / f64::from(1 << 20)),
        throttle_mib_per_second: opts.throttle_mib,
        scrub_errors: after.scrub_errors(),
        manifest_ok: ev.cmd("verify")?.rc == 0,
        state: after.state.name().to_string(),
        versions: lab.versions(),
    };
    Ok(summary)
}

/// The EBS-alone peer of the same data and throttle: what the boot takes without zevac.
fn ebs_alone(lab: &Lab, opts: &Options) -> Result<f64> {
    println!(
        "booting without zevac first (the pool on EBS alone, for the comparison): import and mount the root"
    );
    let peer = peers::run_peer(
        lab,
        &PeerCell {
            peer: Peer::Ebs,
            data_mib: opts.data_mib,
            throttle_mib: opts.throttle_mib,
            workload: Workload::None,
        },
    )?;
    println!(
        "  EBS alone: import {} + root mount {:.2} s",
        peer.import_seconds
            .map_or("?".into(), |s| format!("{s:.2} s")),
        peer.root_mount_seconds
    );
    Ok(peer.boot_held_seconds())
}

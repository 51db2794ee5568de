//! The `zevac` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use zevac::apply::{self, Paths};
use zevac::config::Cmdline;
use zevac::exec::RealExecutor;
use zevac::plan::{self, Decision};
use zevac::profile::{self, Phase};
use zevac::runfile::RunRecord;
use zevac::zfs::Zpool;
use zevac::{status, watch};

/// Exit codes (also in the README).
mod exit {
    /// Done, or nothing to do.
    pub const OK: u8 = 0;
    /// Something failed while zevac was acting; the message says which step and what state is left.
    pub const FAILED: u8 = 1;
    /// Bad usage or a bad configuration file (clap also uses 2).
    pub const USAGE: u8 = 2;
    /// Refused before changing anything; the message says why.
    pub const REFUSED: u8 = 3;
}

/// Moves a ZFS root pool from its network boot volume (EBS) onto the local disks (instance
/// stores): adds them to the pool and removes the EBS vdev, so ZFS copies the data in the
/// background while the machine boots.
#[derive(Parser)]
#[command(
    version,
    after_help = "Exit codes: 0 done or nothing to do, 1 failed, 2 bad usage or configuration, 3 refused."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Lists every disk: paths, model, serial, size, sector sizes, its role (origin, local, other)
    /// and why, and whether it is blank.
    ///
    /// Example: zevac devices --json
    Devices {
        #[arg(long)]
        json: bool,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Prints what `apply` would do, or why it refuses. Changes nothing; with --import it imports
    /// the pool read-only to inspect it, and exports it again.
    ///
    /// Example: zevac plan --import --config /etc/zevac.toml
    Plan {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Import the pool read-only (`zpool import -N -o readonly=on`) if it is not imported.
        #[arg(long)]
        import: bool,
    },
    /// Does it: imports the pool if needed (with the copy paused, so a running evacuation does
    /// not hold the import), partitions blank local disks, adds them, removes the origin vdev.
    /// Meant for the initrd, before the root is mounted. Safe to run again at any point.
    ///
    /// Example: zevac apply
    Apply {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print what was done as JSON (`decision`, its steps, `import_seconds`).
        #[arg(long)]
        json: bool,
    },
    /// After `apply` failed or was killed: gives the boot its pool on EBS back if no local disk
    /// has joined the pool yet (exports it, removes the snapshot, zeroes its store's header,
    /// makes EBS writable), so the boot's own import finds it; that import then writes EBS.
    /// Once a local disk is in the pool it changes nothing. Does nothing when systemd says the
    /// unit succeeded (`SERVICE_RESULT=success`, in `ExecStopPost=`). Safe to repeat.
    ///
    /// Example: zevac recover
    Recover {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Where the evacuation stands: state, copied of total, percent, rate, ETA, profile and cap,
    /// origin and new disks; after the end, when and how long, and the scrub's result. Does not
    /// need the watcher.
    ///
    /// Example: zevac status --watch
    Status {
        /// The pool (default: the config's).
        #[arg(long)]
        pool: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
        /// A stable JSON object (documented in docs/usage.md); with --watch, one per line, a
        /// line a second.
        #[arg(long)]
        json: bool,
        /// Follow the copy live until it ends, once a second (a bar on a terminal, a line per
        /// change on a pipe).
        #[arg(long)]
        watch: bool,
    },
    /// The stage-2 service: follows the copy to a verified end (steady phase, bandwidth cap,
    /// scrub), reporting to systemd and to the metrics file. SIGTERM restores the tunables and
    /// leaves ZFS copying.
    ///
    /// Example: zevac watch
    Watch {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Lists the tunables profiles (shipped and from files) with their values.
    ///
    /// Example: zevac profiles --json
    Profiles {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Applies a profile's phase by hand, changes the copy's cap at runtime, or restores the
    /// values zevac found.
    ///
    /// Example: zevac tune --cap none
    Tune {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The profile whose phase to apply.
        #[arg(long, required_unless_present_any = ["restore", "cap"])]
        profile: Option<String>,
        #[arg(long, value_enum, default_value = "steady")]
        phase: zevac::profile::Phase,
        /// A cap for the running watcher (`"20 MiB/s"`, or `"50%"` of the origin's measured
        /// rate), or `none`; `profile` drops the override.
        #[arg(long)]
        cap: Option<String>,
        /// Puts back every parameter zevac changed, as it found them.
        #[arg(long, conflicts_with_all = ["profile", "cap"])]
        restore: bool,
    },
    /// Writes zevac's man pages into a directory (zevac.1 and one per subcommand), or a shell's
    /// completions to standard output, made from these very definitions (the Nix package
    /// installs both).
    ///
    /// Example: zevac generate man /tmp/man && zevac generate bash > zevac.bash
    Generate {
        #[arg(value_enum)]
        what: Generated,
        /// Where the man pages go (`man` only).
        #[arg(required_if_eq("what", "man"))]
        dir: Option<PathBuf>,
    },
}

/// What `zevac generate` writes.
#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Generated {
    /// The man pages (roff): zevac(1) and zevac-<subcommand>(1).
    Man,
    Bash,
    Zsh,
    Fish,
}

/// `zevac generate`: the man pages into `dir`, or a shell's completions on standard output.
fn generate(what: Generated, dir: Option<&std::path::Path>) -> Result<()> {
    use anyhow::Context;
    use clap::CommandFactory;
    use clap_complete::Shell;
    use std::io::Write;
    let mut cmd = Cli::command();
    let shell = match what {
        Generated::Man => {
            let dir = dir.context("zevac generate man needs a directory")?;
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            return clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("writing the man pages into {}", dir.display()));
        }
        Generated::Bash => Shell::Bash,
        Generated::Zsh => Shell::Zsh,
        Generated::Fish => Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "zevac", &mut script);
    std::io::stdout()
        .write_all(&script)
        .context("writing the completions")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| cli.command.log_level().into()),
        )
        .with_writer(std::io::stderr)
        // journald and the initrd's console get plain lines; colours only on a terminal.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("zevac: {e:#}");
            let usage = e.chain().any(|c| c.is::<zevac::config::ConfigError>());
            ExitCode::from(if usage { exit::USAGE } else { exit::FAILED })
        }
    }
}

/// How `zevac plan` reaches the origin, printed with its decision.
#[derive(serde::Serialize)]
struct OriginView {
    origin_mode: zevac::config::OriginMode,
    /// `raw`, `snapshot` or `local-only` (see `zevac::origin::Access`).
    access: zevac::origin::Access,
    /// The snapshot's store, when it exists.
    cow: Option<zevac::devmapper::CowUsage>,
}

impl OriginView {
    fn read(
        exec: &dyn zevac::exec::Executor,
        mode: zevac::config::OriginMode,
        access: zevac::origin::Access,
    ) -> Result<Self> {
        Ok(Self {
            origin_mode: mode,
            access,
            cow: zevac::devmapper::Dmsetup::new(exec).snapshot_usage()?,
        })
    }

    fn line(&self) -> String {
        let mut line = format!(
            "origin: {}, reached {}",
            self.origin_mode.name(),
            self.access.name()
        );
        if let Some(usage) = self.cow {
            line += &format!(" ({}, {usage})", zevac::devmapper::SNAPSHOT_PATH);
        }
        line
    }
}

fn print_decision(d: &Decision, json: bool) -> Result<u8> {
    print_plan(d, None, None, json)
}

/// The decision; with `zevac plan`, also how the origin is reached and the module parameters
/// `apply` would write around the steps (`writes`, and whether `apply` imports the pool).
fn print_plan(
    d: &Decision,
    origin: Option<&OriginView>,
    writes: Option<(&zevac::tunables::Writes, bool)>,
    json: bool,
) -> Result<u8> {
    let param_lines = writes.map_or(Vec::new(), |(w, imports)| {
        apply::describe_writes(w, d, imports)
    });
    let writes = writes.map(|(w, _)| w);
    if json {
        #[derive(serde::Serialize)]
        struct Plan<'a> {
            #[serde(flatten)]
            decision: &'a Decision,
            #[serde(flatten)]
            origin: Option<&'a OriginView>,
            #[serde(skip_serializing_if = "Option::is_none")]
            parameters: Option<&'a zevac::tunables::Writes>,
        }
        let parameters = writes.filter(|_| !param_lines.is_empty());
        println!(
            "{}",
            serde_json::to_string_pretty(&Plan {
                decision: d,
                origin,
                parameters,
            })?
        );
    } else {
        if let Some(o) = origin {
            println!("{}", o.line());
        }
        match d {
            Decision::Nothing(idle) => println!("nothing to do: {idle}"),
            Decision::Refuse(refusal) => println!("refused: {refusal}"),
            Decision::Steps { steps } => {
                for (i, s) in steps.iter().enumerate() {
                    println!("{}. {}", i + 1, s.describe());
                }
            }
        }
        if !param_lines.is_empty() {
            println!("module parameters (each recorded in /run/zevac/tunables.json first):");
            for line in &param_lines {
                println!("- {line}");
            }
        }
    }
    Ok(exit_code(d))
}

fn exit_code(d: &Decision) -> u8 {
    if matches!(d, Decision::Refuse { .. }) {
        exit::REFUSED
    } else {
        exit::OK
    }
}

impl Cmd {
    /// The log level without `RUST_LOG`: what changes the machine logs each command it runs;
    /// the status view, asked every second, keeps its terminal to itself.
    fn log_level(&self) -> &'static str {
        match self {
            Cmd::Status { .. } => "warn",
            _ => "info",
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    let exec = RealExecutor;
    let paths = Paths::default();
    match cli.command {
        Cmd::Generate { what, dir } => {
            generate(what, dir.as_deref())?;
            Ok(exit::OK)
        }
        Cmd::Devices { json, config } => devices(&exec, &paths, config, json),
        Cmd::Plan {
            config,
            json,
            import,
        } => plan_cmd(&exec, &paths, config, json, import),
        Cmd::Apply { config, json } => apply_cmd(&exec, &paths, config, json),
        Cmd::Recover { config } => recover(&exec, &paths, config),
        Cmd::Status {
            pool,
            config,
            json,
            watch,
        } => status_cmd(&exec, &paths, config, pool, json, watch),
        Cmd::Watch { config } => watch_cmd(&exec, &paths, config),
        Cmd::Profiles { config, json } => profiles(config, json),
        Cmd::Tune {
            config,
            profile,
            phase,
            cap,
            restore,
        } => tune(&paths, config, profile, phase, cap, restore),
    }
}

/// `zevac devices`.
fn devices(exec: &RealExecutor, paths: &Paths, config: Option<PathBuf>, json: bool) -> Result<u8> {
    let config = apply::load_config(config.as_deref())?;
    let disks = zevac::discover::machine(exec, paths, &config)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&disks)?);
    } else {
        for d in &disks {
            println!(
                "{}  {:?}  {} MiB  {}/{}  {:?} ({})  {}",
                d.stable_path(),
                d.model,
                d.size_bytes >> 20,
                d.logical_sector,
                d.physical_sector,
                d.role,
                d.why,
                if d.blank {
                    "blank".to_string()
                } else {
                    format!("not blank: {}", d.signature.as_deref().unwrap_or("?"))
                }
            );
        }
    }
    Ok(exit::OK)
}

/// `zevac plan`: the decision, printed; a read-only import is exported again.
fn plan_cmd(
    exec: &RealExecutor,
    paths: &Paths,
    config: Option<PathBuf>,
    json: bool,
    import: bool,
) -> Result<u8> {
    let config = apply::load_config(config.as_deref())?;
    let profile = config.profile(&Cmdline::read())?;
    let writes = zevac::tunables::Writes::new(&profile, config.watch.starts_copy);
    let mode = if import {
        apply::Import::ReadOnly
    } else {
        apply::Import::No
    };
    let survey = apply::survey(exec, &config, paths, mode)?;
    let disks = &survey.disks;
    let decision = match &survey.pool {
        Some(pool) => plan::plan(&config, disks, pool),
        None if !disks.iter().any(|d| d.role == zevac::discover::Role::Local) => {
            Decision::Nothing(plan::Idle::NoLocalDisks)
        }
        None => {
            // The read-only probe import `apply` starts with.
            let cmd = zevac::zfs::commands::import(
                &config.pool,
                &zevac::origin::Origin::new(&config, disks).import_devices(disks, survey.access),
                true,
            );
            println!(
                "pool {} is not imported; `zevac apply` would first run: {cmd}",
                config.pool
            );
            println!("(run `zevac plan --import` to import it and see the rest)");
            return Ok(exit::OK);
        }
    };
    if survey.imported == apply::Import::ReadOnly {
        // A dry run leaves the pool as it found it.
        Zpool::new(exec).export(&config.pool)?;
    }
    let origin = OriginView::read(exec, config.origin.mode, survey.access)?;
    // The probe imported it read-only: `apply` imports it writable.
    let imports = survey.imported == apply::Import::ReadOnly;
    print_plan(&decision, Some(&origin), Some((&writes, imports)), json)
}

/// `zevac apply`.
fn apply_cmd(
    exec: &RealExecutor,
    paths: &Paths,
    config: Option<PathBuf>,
    json: bool,
) -> Result<u8> {
    let cmdline = Cmdline::read();
    // The way out of a bad configuration too: read nothing.
    let (report, pool) = if cmdline.disabled {
        let report = apply::Report {
            decision: Decision::Nothing(plan::Idle::Disabled),
            import_seconds: None,
        };
        (report, None)
    } else {
        let config = apply::load_config(config.as_deref())?;
        let profile = config.profile(&cmdline)?;
        (
            apply::apply(exec, &config, &profile, paths)?,
            Some(config.pool),
        )
    };
    if json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(exit_code(&report.decision));
    }
    if let (Some(s), Some(pool)) = (report.import_seconds, pool) {
        println!("imported pool {pool} in {s:.2} s");
    }
    print_decision(&report.decision, false)
}

/// `zevac recover`: nothing when systemd says the unit succeeded.
fn recover(exec: &RealExecutor, paths: &Paths, config: Option<PathBuf>) -> Result<u8> {
    if std::env::var("SERVICE_RESULT").is_ok_and(|r| r == "success") {
        return Ok(exit::OK);
    }
    let config = apply::load_config(config.as_deref())?;
    // The profile only shortens the txg waits of its changes: recover without it if need be.
    let profile = config
        .profile(&Cmdline::read())
        .map_err(|e| tracing::warn!("recovering without the profile's [apply] table: {e:#}"))
        .ok();
    let outcome = apply::recover(exec, &config, profile.as_ref(), paths)?;
    println!("{}", outcome.describe());
    Ok(exit::OK)
}

/// `zevac status`.
fn status_cmd(
    exec: &RealExecutor,
    paths: &Paths,
    config: Option<PathBuf>,
    pool: Option<String>,
    json: bool,
    watch: bool,
) -> Result<u8> {
    let config = apply::load_config(config.as_deref())?;
    let pool = pool.unwrap_or(config.pool.clone());
    let zpool = Zpool::new(exec);
    let dmsetup = zevac::devmapper::Dmsetup::new(exec);
    // Read only when the pool has no removal; without the disks, no origin is known.
    let pending_removal = |status: &zevac::zfs::PoolStatus| {
        let disks = zevac::discover::machine(exec, paths, &config)
            .map_err(|e| tracing::warn!("cannot read the disks: {e:#}"))
            .ok()?;
        zevac::origin::pending_removal(&config, &disks, status)
    };
    let snapshot_origin = std::cell::RefCell::new(None);
    let origin_read = |path: &str| {
        zevac::origin::read_counter(exec, &paths.sys, path, &mut snapshot_origin.borrow_mut())
    };
    let sources = status::Sources {
        origin_read: &origin_read,
        zpool: &zpool,
        dmsetup: &dmsetup,
        origin_mode: config.origin.mode,
        pending_removal: &pending_removal,
        run_dir: &paths.run_dir,
        params: &paths.params,
    };
    if watch {
        let view = status::View::for_stdout(json);
        let last = status::watch(&sources, &pool, std::time::Duration::from_secs(1), view)?;
        return Ok(match last.map(|r| r.state) {
            Some(status::CopyState::Failed | status::CopyState::Canceled) => exit::FAILED,
            _ => exit::OK,
        });
    }
    let Some(report) = status::report(&sources, &pool)? else {
        if json {
            println!(
                "{}",
                serde_json::json!({"pool": pool, "state": "not-imported"})
            );
        } else {
            println!("pool {pool} is not imported");
        }
        return Ok(exit::OK);
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", report.human());
    }
    Ok(exit::OK)
}

/// `zevac watch`.
fn watch_cmd(exec: &RealExecutor, paths: &Paths, config: Option<PathBuf>) -> Result<u8> {
    let config = apply::load_config(config.as_deref())?;
    let profile = config.profile(&Cmdline::read())?;
    match watch::run(exec, &config, &profile, paths)? {
        watch::Ended::NoEvacuation => {
            println!("pool {}: no evacuation to watch", config.pool)
        }
        watch::Ended::Verified => println!("pool {}: evacuated and verified", config.pool),
        watch::Ended::Stopped => println!("stopped: tunables restored, ZFS keeps copying"),
    }
    Ok(exit::OK)
}

/// `zevac profiles`.
fn profiles(config: Option<PathBuf>, json: bool) -> Result<u8> {
    let config = apply::load_config(config.as_deref())?;
    let all = profile::all(std::path::Path::new(&config.tunables.profile_dir))?;
    if json {
        let list: Vec<_> = all.values().collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(exit::OK);
    }
    for p in all.values() {
        let default = if p.name == config.tunables.profile {
            " (in use)"
        } else {
            ""
        };
        println!("{}{default}: {} [{}]", p.name, p.description, p.source);
        let cap = p.cap.map_or("none".into(), |c| c.to_string());
        println!(
            "  cap {cap}, steady phase after {}",
            humantime::format_duration(p.steady_delay)
        );
        for (table, params) in p.tables() {
            println!("  {table:<7}{}", zevac::tunables::param_list(params));
        }
    }
    Ok(exit::OK)
}

/// `zevac tune`.
fn tune(
    paths: &Paths,
    config: Option<PathBuf>,
    profile: Option<String>,
    phase: Phase,
    cap: Option<String>,
    restore: bool,
) -> Result<u8> {
    let config = apply::load_config(config.as_deref())?;
    let tunables = paths.tunables();
    if restore {
        for (name, value) in tunables.restore()? {
            println!("{name} = {value}");
        }
        return Ok(exit::OK);
    }
    if let Some(cap) = cap {
        let path = zevac::watch::CapOverride::path(&paths.run_dir);
        match cap.as_str() {
            "profile" => {
                let _ = std::fs::remove_file(&path);
                println!("cap: back to the profile's");
            }
            "none" => {
                zevac::watch::CapOverride { cap: None }.save(&paths.run_dir)?;
                println!("cap: none");
            }
            c => {
                let cap = profile::Cap::parse(c)
                    .map_err(|e| zevac::config::ConfigError(format!("--cap: {e:#}")))?;
                zevac::watch::CapOverride { cap: Some(cap) }.save(&paths.run_dir)?;
                println!("cap: {cap}");
            }
        }
    }
    if let Some(name) = profile {
        let p = profile::find(std::path::Path::new(&config.tunables.profile_dir), &name)?;
        let applied = tunables.apply_phase(&p, phase)?;
        for (name, before, now) in &applied.set {
            println!("{name}: {before} -> {now}");
        }
        for name in &applied.missing {
            println!("{name}: the running zfs module has no such parameter; not set");
        }
        if !applied.missing.is_empty() {
            return Ok(exit::FAILED);
        }
    }
    Ok(exit::OK)
}

//! The `zevac` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use zevac::apply::{self, Paths};
use zevac::config::Cmdline;
use zevac::exec::RealExecutor;
use zevac::plan::{self, Decision};
use zevac::zfs::{RemovalState, Zpool};

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
    },
    /// Where the evacuation stands: state, copied and total bytes, percent.
    ///
    /// Example: zevac status --pool rpool --json
    Status {
        #[arg(long, default_value = "rpool")]
        pool: String,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("zevac: {e:#}");
            let usage = e.chain().any(|c| c.is::<zevac::config::ConfigError>());
            ExitCode::from(if usage { exit::USAGE } else { exit::FAILED })
        }
    }
}

fn print_decision(d: &Decision, json: bool) -> Result<u8> {
    if json {
        println!("{}", serde_json::to_string_pretty(d)?);
    } else {
        match d {
            Decision::Nothing { reason } => println!("nothing to do: {reason}"),
            Decision::Refuse { reason } => println!("refused: {reason}"),
            Decision::Steps { steps } => {
                for (i, s) in steps.iter().enumerate() {
                    println!("{}. {}", i + 1, s.describe());
                }
            }
        }
    }
    Ok(if matches!(d, Decision::Refuse { .. }) {
        exit::REFUSED
    } else {
        exit::OK
    })
}

fn run(cli: Cli) -> Result<u8> {
    let exec = RealExecutor;
    let paths = Paths::default();
    match cli.command {
        Cmd::Devices { json, config } => {
            let config = apply::load_config(config.as_deref())?;
            let disks = zevac::discover::inventory(
                &exec,
                &paths.sys,
                &paths.by_id,
                &apply::rules(&config),
            )?;
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
        Cmd::Plan {
            config,
            json,
            import,
        } => {
            let config = apply::load_config(config.as_deref())?;
            let mode = if import {
                apply::Import::ReadOnly
            } else {
                apply::Import::No
            };
            let survey = apply::survey(&exec, &config, &paths, mode)?;
            let disks = &survey.disks;
            let decision = match &survey.pool {
                Some(pool) => plan::plan(&config, disks, pool),
                None if !disks.iter().any(|d| d.role == zevac::discover::Role::Local) => {
                    Decision::Nothing {
                        reason: "no local disks: the pool stays on its origin".into(),
                    }
                }
                None => {
                    let cmd = zevac::zfs::render::import(
                        &config.pool,
                        &zevac::origin::Origin::new(&config, disks).import_devices(disks),
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
                Zpool::new(&exec).export(&config.pool)?;
            }
            print_decision(&decision, json)
        }
        Cmd::Apply { config } => {
            let cmdline = Cmdline::read();
            if cmdline.disabled {
                println!("zevac is disabled on the kernel command line (zevac=off): nothing done");
                return Ok(exit::OK);
            }
            let config = apply::load_config(config.as_deref())?;
            let report = apply::apply(&exec, &config, &paths)?;
            if let Some(s) = report.import_seconds {
                println!("imported pool {} in {s:.2} s", config.pool);
            }
            print_decision(&report.decision, false)
        }
        Cmd::Status { pool, json } => {
            let zpool = Zpool::new(&exec);
            if !zpool.is_imported(&pool)? {
                println!("pool {pool} is not imported");
                return Ok(exit::OK);
            }
            let version = zpool.version()?;
            let status = zpool
                .status(&pool, version)
                .context("reading the pool status")?;
            let r = status.removal.as_ref();
            let state = match r.map(|r| r.state) {
                None => "none",
                Some(RemovalState::InProgress) => "evacuating",
                Some(RemovalState::Finished) => "finished",
                Some(RemovalState::Canceled) => "canceled",
            };
            let (copied, total) = r.map_or((0, 0), |r| (r.copied, r.to_copy));
            let percent = r.map_or(0.0, |r| r.percent());
            if json {
                let v = serde_json::json!({
                    "pool": pool, "state": state, "copied_bytes": copied, "total_bytes": total,
                    "percent": (percent * 100.0).round() / 100.0,
                    "origin": r.and_then(|r| r.path.clone()),
                });
                println!("{v}");
            } else if r.is_none() {
                println!("pool {pool}: no evacuation");
            } else {
                println!(
                    "pool {pool}: {state}, {} of {} MiB copied ({percent:.1}%)",
                    copied >> 20,
                    total >> 20
                );
            }
            Ok(exit::OK)
        }
    }
}

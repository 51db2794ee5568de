//! `zevac-bench`: the lab's command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use zevac_bench::{disks, golden, selftest, BootSpec, Lab, Throttle, ZfsPair};

/// The zevac lab and benchmarks: real OpenZFS in a QEMU guest on emulated EBS and instance stores.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Subcommand)]
enum Top {
    /// The lab itself: set-up, golden images, boots, the self-test.
    #[command(subcommand)]
    Lab(LabCmd),
    /// The main job: boots the golden image from a throttled EBS with instance stores, runs
    /// `zevac apply` in the initrd and `zevac watch` after it, and shows the guest's
    /// `zevac status --watch` live until the copy is verified; then a summary.
    Demo(DemoArgs),
    /// The benchmark harness: runs a matrix of data size x EBS throttle x profile x cap, one
    /// boot per cell, and writes results.json, results.csv and summary.md.
    ///
    /// Example: zevac-bench sweep --quick
    Sweep(SweepArgs),
}

#[derive(Args)]
struct SweepArgs {
    #[command(flatten)]
    pair: PairArg,
    /// One cell (256 MiB, EBS 16 MiB/s, balanced, cap 50 %): what CI runs.
    #[arg(long, conflicts_with = "matrix")]
    quick: bool,
    /// A TOML matrix: data_mib, throttle_mib, profiles, caps ("none", "profile", "25%", "8 MiB/s").
    #[arg(long)]
    matrix: Option<PathBuf>,
    /// Where the results go (default: results/<UTC date and time>).
    #[arg(long, conflicts_with = "resume")]
    out: Option<PathBuf>,
    /// Goes on with the sweep in this directory, cut short earlier: its verified cells stay and
    /// are not run again; the matrix is the one it recorded (matrix.toml) unless --matrix.
    #[arg(long, conflicts_with = "quick")]
    resume: Option<PathBuf>,
    /// Runs nothing: merges the results of earlier sweeps (their directories) into --out,
    /// with one summary and the plots.
    #[arg(long = "report-from", conflicts_with_all = ["quick", "matrix"])]
    report_from: Vec<PathBuf>,
}

#[derive(Args)]
struct DemoArgs {
    #[command(flatten)]
    pair: PairArg,
    #[command(flatten)]
    opts: zevac_bench::demo::Options,
}

#[derive(Args, Clone, Copy)]
struct PairArg {
    /// Kernel and OpenZFS pair of the guest: 2.3 (kernel 6.12, OpenZFS 2.3.2) or 2.1 (6.1, 2.1.11).
    #[arg(long = "zfs", default_value = "2.3")]
    pair: ZfsPair,
}

#[derive(Subcommand)]
enum LabCmd {
    /// Sets the host up and builds what is missing (kernel modules are cached); prints the
    /// versions and the paths. The versions are resolved from the mirror the first time and then
    /// kept with the build, even once the mirror has moved on.
    ///
    /// Example: zevac-bench lab setup --zfs 2.1 --refresh
    Setup {
        #[command(flatten)]
        pair: PairArg,
        /// Resolves the versions from the mirror again even when a build is cached (the newest
        /// complete kernel of the series; a new one is built). Also: ZEVAC_LAB_REFRESH=1.
        #[arg(long)]
        refresh: bool,
    },
    /// Resolves the pair's versions from the mirror as set-up would, builds nothing, and prints
    /// them as JSON; with --record, also writes apt's answer there (a fixture for the resolver's
    /// unit tests).
    ///
    /// Example: zevac-bench lab resolve --zfs 2.1 --record bench/fixtures/apt/madison-2.1.txt
    Resolve {
        #[command(flatten)]
        pair: PairArg,
        #[arg(long)]
        record: Option<PathBuf>,
    },
    /// Builds (or finds in the cache) the golden EBS image for a data size; prints its directory.
    ///
    /// Example: zevac-bench lab golden --data-mib 1024
    Golden {
        #[command(flatten)]
        pair: PairArg,
        #[arg(long, default_value_t = 256)]
        data_mib: u64,
    },
    /// Evacuates a golden image with plain zpool commands, verifies and scrubs it, and prints one
    /// JSON line; exits non-zero if anything failed.
    ///
    /// Example: zevac-bench lab selftest --zfs 2.1 --throttle-mib 32
    Selftest {
        #[command(flatten)]
        pair: PairArg,
        #[arg(long, default_value_t = 256)]
        data_mib: u64,
        /// EBS throttle in MiB/s.
        #[arg(long, default_value_t = 32)]
        throttle_mib: u64,
    },
    /// Boots a copy of a golden image with instance stores and runs a guest script; the work
    /// tree's zevac (built with cargo) is in the guest's /bin.
    ///
    /// Example: zevac-bench lab boot --script my.sh --instance-stores 2 --kill-after 20
    Boot {
        #[command(flatten)]
        pair: PairArg,
        /// Shell script run in the guest after udev settles (`/lab/lib.sh` is sourced first).
        #[arg(long)]
        script: PathBuf,
        #[arg(long, default_value_t = 256)]
        data_mib: u64,
        #[arg(long, default_value_t = 2)]
        instance_stores: usize,
        #[arg(long, default_value_t = 1024)]
        instance_store_mib: u64,
        /// EBS throttle in MiB/s (0: none).
        #[arg(long, default_value_t = 32)]
        throttle_mib: u64,
        /// SIGKILL the VM this many seconds after the scenario starts.
        #[arg(long)]
        kill_after: Option<u64>,
        /// Debian's systemd as PID 1, udev and the scenario as its units.
        #[arg(long)]
        systemd: bool,
    },
    /// Prints the sha256 of disk images.
    Hash { images: Vec<PathBuf> },
    /// Writes what each guest command of a boot printed into `OUT/<name>.stdout` and `.stderr` (when
    /// not empty), with an index `OUT/commands.tsv`: fixtures for parser tests, recorded in
    /// the lab rather than invented.
    ///
    /// Example: zevac-bench lab record ~/.cache/zevac-lab/runs/selftest-.../boot0-events.jsonl bench/fixtures/zfs-2.3
    Record { events: PathBuf, out: PathBuf },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Top::Lab(cmd) => lab(cmd),
        Top::Demo(args) => demo(args),
        Top::Sweep(args) => sweep(args),
    }
}

fn sweep(args: SweepArgs) -> Result<()> {
    use zevac_bench::sweep::{self, Matrix};
    let matrix = match (&args.matrix, &args.resume, args.quick) {
        (Some(path), _, _) => Matrix::load(path)?,
        (None, Some(dir), _) => Matrix::load(&dir.join("matrix.toml"))?,
        (None, None, true) => Matrix::quick(),
        (None, None, false) => Matrix::full(),
    };
    let out = args.out.or(args.resume.clone()).unwrap_or_else(|| {
        let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        PathBuf::from("results").join(stamp.trim_end_matches('Z').replace(':', ""))
    });
    if !args.report_from.is_empty() {
        let results = sweep::load(&args.report_from)?;
        let peers = zevac_bench::peers::load(&args.report_from)?;
        std::fs::create_dir_all(&out)?;
        sweep::write_results(&results, &peers, args.pair.pair, &out)?;
        println!(
            "{} cells from {} sweeps in {}",
            results.len(),
            args.report_from.len(),
            out.display()
        );
        return Ok(());
    }
    let lab = Lab::prepare(args.pair.pair)?;
    let zevac = zevac_bench::build_zevac()?;
    let done = sweep::run(&lab, &matrix, &zevac, &out, args.resume.is_some())?;
    println!("\n{}", sweep::summary(&done.cells, args.pair.pair));
    println!("results in {}", out.display());
    if !done.failed.is_empty() {
        anyhow::bail!(
            "{} cells failed (run again with --resume {}):\n{}",
            done.failed.len(),
            out.display(),
            done.failed.join("\n")
        );
    }
    if done.cells.iter().any(|r| !r.ok()) || done.peers.iter().any(|p| !p.manifest_ok) {
        anyhow::bail!(
            "a cell did not end verified with its data intact: see {}",
            out.display()
        );
    }
    Ok(())
}

fn demo(args: DemoArgs) -> Result<()> {
    let DemoArgs { pair, mut opts } = args;
    let lab = Lab::prepare(pair.pair)?;
    opts.zevac = zevac_bench::build_zevac()?;
    let summary = zevac_bench::demo::run(&lab, &opts)?;
    println!(
        "\nsummary: boot held {:.1} s by zevac (apply {:.1} s + root mount {:.1} s) against {:.1} s on EBS alone: {:.1}x; copy {} at {}; scrub {}; data {}; {}",
        summary.boot_blocking_seconds + summary.root_mount_seconds,
        summary.boot_blocking_seconds,
        summary.root_mount_seconds,
        summary.ebs_alone_seconds,
        summary.held_to_ebs_alone,
        summary
            .copy_seconds
            .map_or("?".into(), |s| format!("{s:.0} s")),
        summary.rate_mib_per_second.map_or("?".into(), |r| format!(
            "{r:.1} MiB/s (EBS throttled to {} MiB/s)",
            summary.throttle_mib_per_second
        )),
        summary
            .scrub_errors
            .map_or("not run".into(), |e| format!("{e} errors")),
        if summary.manifest_ok {
            "intact"
        } else {
            "CHANGED"
        },
        summary.versions
    );
    println!("{}", serde_json::to_string(&summary)?);
    if summary.state != "verified" || !summary.manifest_ok {
        std::process::exit(1);
    }
    Ok(())
}

/// `lab setup`: prints the versions, the kernel and its modules.
fn setup(pair: ZfsPair, refresh: bool) -> Result<()> {
    let lab = Lab::prepare_with(pair, refresh || zevac_bench::pins::refresh_from_env())?;
    println!("versions: {}", lab.versions());
    println!("kernel: {}", lab.kernel.vmlinuz.display());
    println!("booted as: {}", lab.kernel.image.display());
    for m in &lab.kernel.modules {
        println!("module: {}", m.display());
    }
    Ok(())
}

/// `lab resolve`: what the mirror gives `pair` today, and apt's answer into `record`.
fn resolve(pair: ZfsPair, record: Option<PathBuf>) -> Result<()> {
    zevac_bench::apt::ensure_host()?;
    let (pins, madison) = zevac_bench::pins::from_mirror(pair)?;
    if let Some(path) = record {
        std::fs::write(&path, madison)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("{}", serde_json::to_string_pretty(&pins)?);
    Ok(())
}

fn lab(cmd: LabCmd) -> Result<()> {
    match cmd {
        LabCmd::Setup { pair, refresh } => setup(pair.pair, refresh),
        LabCmd::Resolve { pair, record } => resolve(pair.pair, record),
        LabCmd::Golden { pair, data_mib } => {
            let lab = Lab::prepare(pair.pair)?;
            let g = golden::golden(&lab, data_mib)?;
            println!("{}", g.dir.display());
            Ok(())
        }
        LabCmd::Selftest {
            pair,
            data_mib,
            throttle_mib,
        } => lab_selftest(pair.pair, data_mib, throttle_mib),
        LabCmd::Boot {
            pair,
            script,
            data_mib,
            instance_stores,
            instance_store_mib,
            throttle_mib,
            kill_after,
            systemd,
        } => {
            let disks = DiskArgs {
                data_mib,
                instance_stores,
                instance_store_mib,
                throttle_mib,
            };
            let init = if systemd {
                zevac_bench::vm::Init::Systemd
            } else {
                zevac_bench::vm::Init::Busybox
            };
            lab_boot(pair.pair, &script, &disks, kill_after, init)
        }
        LabCmd::Record { events, out } => record(&events, &out),
        LabCmd::Hash { images } => {
            for i in images {
                println!("{}  {}", disks::sha256(&i)?, i.display());
            }
            Ok(())
        }
    }
}

/// `lab selftest`: exits 1 unless the selftest passed.
fn lab_selftest(pair: ZfsPair, data_mib: u64, throttle_mib: u64) -> Result<()> {
    let lab = Lab::prepare(pair)?;
    let zevac = Some(zevac_bench::build_zevac()?);
    let opts = selftest::Options {
        data_mib,
        throttle_mib,
        zevac,
        ..Default::default()
    };
    let report = selftest::run(&lab, &opts)?;
    println!("{}", serde_json::to_string(&report)?);
    if !report.passed() {
        std::process::exit(1);
    }
    Ok(())
}

/// The disks of `lab boot`.
struct DiskArgs {
    data_mib: u64,
    instance_stores: usize,
    instance_store_mib: u64,
    throttle_mib: u64,
}

/// `lab boot`: a scenario script on the EC2-like disks, to its end or killed after `kill_after`.
fn lab_boot(
    pair: ZfsPair,
    script: &Path,
    d: &DiskArgs,
    kill_after: Option<u64>,
    init: zevac_bench::vm::Init,
) -> Result<()> {
    let lab = Lab::prepare(pair)?;
    let g = golden::golden(&lab, d.data_mib)?;
    let run = lab.new_run("boot")?;
    let throttle = (d.throttle_mib > 0).then(|| Throttle::mib_per_second(d.throttle_mib));
    let disk_list = run.ec2_disks(&g, throttle, d.instance_stores, d.instance_store_mib)?;
    let text = std::fs::read_to_string(script)
        .with_context(|| format!("cannot read {}", script.display()))?;
    let mut spec = BootSpec::new("boot", disk_list, text)
        .file(zevac_bench::golden::MANIFEST, g.manifest.clone())
        .binary("/bin/zevac", zevac_bench::build_zevac()?);
    spec.init = init;
    let mut vm = lab.boot(&run, &spec)?;
    if let Some(secs) = kill_after {
        if vm.wait_ready(Duration::from_secs(300))? != zevac_bench::vm::Ready::Started {
            anyhow::bail!(
                "the scenario did not start; console: {}",
                vm.files.console.display()
            );
        }
        std::thread::sleep(Duration::from_secs(secs));
        vm.kill()?;
        eprintln!("killed; disks and logs in {}", run.dir.display());
        return Ok(());
    }
    let outcome = vm.wait_exit()?;
    for e in &outcome.events.0 {
        println!("{}", serde_json::to_string(&e.fields)?);
    }
    eprintln!("run directory: {}", run.dir.display());
    outcome.ok().map(drop)
}

/// `lab record`: a guest's command records as fixtures (`NAME.stdout`, `NAME.stderr`, and the
/// index `commands.tsv`).
fn record(events: &Path, out: &Path) -> Result<()> {
    let text = std::fs::read_to_string(events)
        .with_context(|| format!("cannot read {}", events.display()))?;
    std::fs::create_dir_all(out)?;
    let mut index = String::from("name\trc\targv\n");
    for cmd in text
        .lines()
        .filter_map(zevac_bench::Event::parse)
        .filter_map(|e| e.as_cmd())
    {
        for (ext, text) in [("stdout", &cmd.stdout), ("stderr", &cmd.stderr)] {
            if !text.is_empty() {
                std::fs::write(out.join(format!("{}.{ext}", cmd.name)), text)?;
            }
        }
        index.push_str(&format!("{}\t{}\t{}\n", cmd.name, cmd.rc, cmd.argv));
    }
    std::fs::write(out.join("commands.tsv"), index)?;
    Ok(())
}

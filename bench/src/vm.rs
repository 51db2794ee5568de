//! Booting the guest: the per-boot initramfs, the QEMU command line, and a handle on the running VM
//! that reads its events, times out every wait, and can be killed or re-throttled.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::disks::{Disk, Throttle};
use crate::events::{Event, Events};
use crate::initramfs::Initramfs;
use crate::qmp::Qmp;

/// Hostid of every lab guest, so a pool left imported by a killed boot imports again without -f,
/// as on a real instance (NixOS sets `networking.hostId`).
const HOSTID: [u8; 4] = *b"zevc";

/// What to boot.
#[derive(Debug, Clone)]
pub struct BootSpec {
    /// Short name, used for the run directory.
    pub name: String,
    pub disks: Vec<Disk>,
    /// Shell script run by the guest's /init after udev has settled (`/lab/lib.sh` is sourced).
    pub scenario: String,
    /// Extra files: guest path and contents.
    pub files: Vec<(String, Vec<u8>, u32)>,
    /// Symbolic links to put in the guest (guest path, target).
    pub symlinks: Vec<(String, String)>,
    /// Host binaries to put in the guest (guest path, host path), with their libraries.
    pub binaries: Vec<(String, PathBuf)>,
    pub memory_mib: u32,
    pub cpus: u32,
    /// Longest the whole boot may take before the VM is killed and the boot fails.
    pub timeout: Duration,
    pub init: Init,
    /// More kernel arguments (`zevac=off`), after the lab's own.
    pub kernel_args: Vec<String>,
}

/// The guest's PID 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Init {
    /// The lab's busybox script: udev started and settled by hand, then the scenario.
    #[default]
    Busybox,
    /// Debian's systemd in initrd mode: udev and the scenario as units.
    Systemd,
}

impl Init {
    pub const SYSTEMD_PATH: &'static str = "/lab/init-systemd";

    /// The kernel's `rdinit=`.
    fn path(self) -> &'static str {
        match self {
            Self::Busybox => "/init",
            Self::Systemd => Self::SYSTEMD_PATH,
        }
    }
}

impl BootSpec {
    pub fn new(name: &str, disks: Vec<Disk>, scenario: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            disks,
            scenario: scenario.into(),
            files: Vec::new(),
            symlinks: Vec::new(),
            binaries: Vec::new(),
            memory_mib: 2048,
            cpus: 2,
            timeout: Duration::from_secs(900),
            init: Init::Busybox,
            kernel_args: Vec::new(),
        }
    }

    /// Adds `arg` to the guest kernel's command line.
    pub fn kernel_arg(mut self, arg: &str) -> Self {
        self.kernel_args.push(arg.into());
        self
    }

    /// Boots under systemd ([`Init::Systemd`]).
    pub fn under_systemd(mut self) -> Self {
        self.init = Init::Systemd;
        self
    }

    pub fn file(mut self, guest_path: &str, data: impl Into<Vec<u8>>) -> Self {
        self.files.push((guest_path.into(), data.into(), 0o644));
        self
    }

    /// A file the guest runs: mode 0755.
    pub fn executable(mut self, guest_path: &str, data: impl Into<Vec<u8>>) -> Self {
        self.files.push((guest_path.into(), data.into(), 0o755));
        self
    }

    pub fn symlink(mut self, guest_path: &str, target: &str) -> Self {
        self.symlinks.push((guest_path.into(), target.into()));
        self
    }

    pub fn binary(mut self, guest_path: &str, host_path: impl Into<PathBuf>) -> Self {
        self.binaries.push((guest_path.into(), host_path.into()));
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Files of one boot in its run directory.
#[derive(Debug, Clone)]
pub struct RunFiles {
    pub dir: PathBuf,
    pub console: PathBuf,
    pub events: PathBuf,
    pub qmp: PathBuf,
    pub initrd: PathBuf,
}

impl RunFiles {
    pub fn new(dir: &Path, boot: usize) -> Self {
        let f = |n: &str| dir.join(format!("boot{boot}-{n}"));
        Self {
            dir: dir.to_path_buf(),
            console: f("console.log"),
            events: f("events.jsonl"),
            qmp: f("qmp.sock"),
            initrd: f("initrd.cpio"),
        }
    }
}

/// Adds the per-boot parts to the shared base initramfs and writes it.
pub fn write_initramfs(
    base: &Initramfs,
    spec: &BootSpec,
    lib_dirs: &[PathBuf],
    out: &Path,
) -> Result<()> {
    let mut ir = base.clone();
    let models: String = spec
        .disks
        .iter()
        .filter(|d| d.kind != crate::disks::DiskKind::Virtio)
        .map(|d| format!("{}\t{}\n", d.serial, d.kind.model()))
        .collect();
    let env = format!(
        "LAB_DISK_COUNT={}\n{}",
        spec.disks.len(),
        disk_env(&spec.disks)
    );
    ir.bytes("/lab/models", models, 0o644)
        .bytes("/lab/env", env, 0o644)
        .bytes("/lab/scenario.sh", spec.scenario.clone(), 0o755)
        .bytes("/etc/hostid", HOSTID.to_vec(), 0o644);
    for (path, data, mode) in &spec.files {
        ir.bytes(path, data.clone(), *mode);
    }
    for (path, target) in &spec.symlinks {
        ir.symlink(path, target);
    }
    for (path, host) in &spec.binaries {
        let small = crate::initramfs::stripped(host, &crate::cache::root().join("stripped"))?;
        ir.binary(path, &small, lib_dirs)?;
    }
    ir.write(out)
}

/// Shell variables naming the disks by their by-id paths: `LAB_EBS`, `LAB_IS0`, `LAB_IS1`, ... and
/// `LAB_INSTANCE_STORES` (all of them, space-separated).
fn disk_env(disks: &[Disk]) -> String {
    let mut env = String::new();
    let mut stores = Vec::new();
    for d in disks {
        env.push_str(&format!("LAB_{}={}\n", d.id.to_uppercase(), d.by_id()));
        if d.kind == crate::disks::DiskKind::InstanceStore {
            stores.push(d.by_id());
        }
    }
    env.push_str(&format!("LAB_INSTANCE_STORES=\"{}\"\n", stores.join(" ")));
    env
}

/// The guest kernel's loops per jiffy, from the host's BogoMIPS (the emulated CPU counts the
/// host's TSC; Debian's kernels have HZ=250): given on the command line, it spares each boot
/// measuring its second CPU's delay loop, most of a second under emulation.
fn preset_delay_loop() -> Option<u64> {
    lpj_of(&std::fs::read_to_string("/proc/cpuinfo").ok()?)
}

fn lpj_of(cpuinfo: &str) -> Option<u64> {
    const HZ: f64 = 250.0;
    let line = cpuinfo.lines().find(|l| l.starts_with("bogomips"))?;
    let bogomips: f64 = line.split(':').nth(1)?.trim().parse().ok()?;
    (bogomips > 0.0).then(|| (bogomips * 500_000.0 / HZ).round() as u64)
}

/// More kernel arguments for every boot, from `ZEVAC_LAB_KERNEL_ARGS` (to look into a boot:
/// `initcall_debug loglevel=7`).
fn kernel_args() -> String {
    std::env::var("ZEVAC_LAB_KERNEL_ARGS").map_or(String::new(), |a| format!(" {a}"))
}

/// The QEMU command for a boot.
pub fn qemu_command(vmlinuz: &Path, spec: &BootSpec, files: &RunFiles) -> Command {
    let mut c = Command::new("qemu-system-x86_64");
    c.args([
        "-accel",
        "tcg,thread=multi",
        "-cpu",
        "max",
        "-nodefaults",
        "-display",
        "none",
        "-no-reboot",
    ])
    .args([
        "-smp",
        &spec.cpus.to_string(),
        "-m",
        &spec.memory_mib.to_string(),
    ])
    .arg("-kernel")
    .arg(vmlinuz)
    .arg("-initrd")
    .arg(&files.initrd)
    .args([
        "-append",
        &format!(
            "console=ttyS0 panic=-1 loglevel=4 rdinit={}{}{}{}",
            spec.init.path(),
            preset_delay_loop().map_or(String::new(), |lpj| format!(" lpj={lpj}")),
            spec.kernel_args
                .iter()
                .map(|a| format!(" {a}"))
                .collect::<String>(),
            kernel_args()
        ),
    ])
    .args([
        "-chardev",
        &format!("file,id=console,path={}", files.console.display()),
    ])
    .args(["-serial", "chardev:console"])
    .args([
        "-chardev",
        &format!("file,id=events,path={}", files.events.display()),
    ])
    .args(["-serial", "chardev:events"])
    .args([
        "-qmp",
        &format!("unix:{},server=on,wait=off", files.qmp.display()),
    ]);
    for d in &spec.disks {
        c.args(d.qemu_args());
    }
    c
}

/// A running (or finished) guest.
pub struct Vm {
    child: Child,
    pub files: RunFiles,
    started: Instant,
    deadline: Instant,
    events_pos: u64,
    partial: String,
    /// Every event received so far.
    pub events: Events,
    /// How many of `events` a wait has looked at: the next wait starts after them.
    scanned: usize,
    exit: Option<ExitStatus>,
}

/// The kernel's words for a stalled boot (`rcu: INFO: rcu_preempt detected stalls on CPUs/tasks`).
const STALL: &str = "detected stalls on CPUs";

fn shows_stall(console: &[u8]) -> bool {
    console.windows(STALL.len()).any(|w| w == STALL.as_bytes())
}

/// How a wait for the scenario's start ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// The scenario started, or the guest stopped before it did.
    Started,
    /// The guest kernel reported an RCU stall before the scenario started.
    Stalled,
    TimedOut,
}

/// How a boot ended.
#[derive(Debug)]
pub struct Outcome {
    pub events: Events,
    pub status: ExitStatus,
    pub wall: Duration,
    pub files: RunFiles,
}

impl Outcome {
    /// Fails unless the scenario ran to its end with exit code 0.
    pub fn ok(self) -> Result<Self> {
        if let Some(reason) = self.events.failure() {
            bail!(
                "the guest scenario failed: {reason} (console: {})",
                self.files.console.display()
            );
        }
        match self.events.exit_code() {
            Some(0) => Ok(self),
            Some(rc) => bail!(
                "the guest scenario exited {rc} (console: {})",
                self.files.console.display()
            ),
            None => bail!(
                "the guest stopped ({}) before its scenario ended (console: {})",
                self.status,
                self.files.console.display()
            ),
        }
    }
}

impl Vm {
    /// Starts QEMU. `vmlinuz` and an initramfs already written to `files.initrd`.
    pub fn start(vmlinuz: &Path, spec: &BootSpec, files: RunFiles) -> Result<Vm> {
        for p in [&files.console, &files.events] {
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?;
        }
        let _ = std::fs::remove_file(&files.qmp);
        for d in spec.disks.iter().filter(|d| !d.faults.is_empty()) {
            std::fs::write(d.blkdebug_path(), d.blkdebug_config())
                .with_context(|| format!("writing {}", d.blkdebug_path().display()))?;
        }
        let qemu_log = files.dir.join("qemu.log");
        let log = File::options().create(true).append(true).open(&qemu_log)?;
        let mut cmd = qemu_command(vmlinuz, spec, &files);
        tracing::info!(name = %spec.name, dir = %files.dir.display(), "booting the guest");
        tracing::debug!(?cmd, "qemu");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start qemu-system-x86_64 (is qemu-system-x86 installed?)")?;
        let now = Instant::now();
        Ok(Vm {
            child,
            files,
            started: now,
            deadline: now + spec.timeout,
            events_pos: 0,
            partial: String::new(),
            events: Events::default(),
            scanned: 0,
            exit: None,
        })
    }

    /// Time since QEMU started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn context(&self) -> String {
        let qemu_log = self.files.dir.join("qemu.log");
        let tail = std::fs::read_to_string(&qemu_log).unwrap_or_default();
        let tail = crate::cmd::tail(&tail, 5);
        format!(
            "console log: {}{}",
            self.files.console.display(),
            if tail.trim().is_empty() {
                String::new()
            } else {
                format!("; qemu said: {tail}")
            }
        )
    }

    /// Reads newly arrived events; returns them.
    pub fn poll(&mut self) -> Result<Vec<Event>> {
        let mut f = File::open(&self.files.events)?;
        f.seek(SeekFrom::Start(self.events_pos))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)?;
        self.events_pos += buf.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&buf));
        let mut new = Vec::new();
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            if let Some(e) = Event::parse(&line) {
                tracing::debug!(event = %e.event, name = ?e.name(), "guest");
                new.push(e);
            }
        }
        self.events.0.extend(new.iter().cloned());
        if self.exit.is_none() {
            self.exit = self.child.try_wait()?;
        }
        self.check_console()?;
        Ok(new)
    }

    fn check_console(&self) -> Result<()> {
        let console = std::fs::read_to_string(&self.files.console).unwrap_or_default();
        if let Some(at) = console.find("Kernel panic") {
            let line = console[at..].lines().next().unwrap_or("");
            bail!("the guest kernel panicked: {line} ({})", self.context());
        }
        Ok(())
    }

    /// Whether QEMU has exited.
    pub fn exited(&self) -> bool {
        self.exit.is_some()
    }

    /// Waits for an event matching `pred`, at most `timeout` (and never past the boot's deadline).
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Event) -> bool,
    ) -> Result<Event> {
        let until = (Instant::now() + timeout).min(self.deadline);
        loop {
            self.poll()?;
            if let Some(e) = self.take_next(&pred) {
                return Ok(e);
            }
            self.scanned = self.events.0.len();
            if let Some(reason) = self.events.failure() {
                bail!(
                    "the guest failed while waiting for {what}: {reason} ({})",
                    self.context()
                );
            }
            if self.exited() {
                // One more read: the last lines may have landed just before QEMU exited.
                self.poll()?;
                if let Some(e) = self.take_next(&pred) {
                    return Ok(e);
                }
                bail!("the guest stopped before {what} ({})", self.context());
            }
            if Instant::now() >= until {
                self.kill()?;
                bail!(
                    "timed out after {:?} waiting for {what} ({})",
                    timeout,
                    self.context()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the guest's init has started the scenario (its `ready` event, which may have
    /// come already), it exited, the kernel reported an RCU stall on the console, or `timeout`
    /// passed (never past the boot's deadline).
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<Ready> {
        let until = (Instant::now() + timeout).min(self.deadline);
        let mut next_look = Instant::now();
        loop {
            self.poll()?;
            if let Some(i) = self.events.0.iter().position(|e| e.event == "ready") {
                self.scanned = self.scanned.max(i + 1);
                return Ok(Ready::Started);
            }
            if self.exited() {
                return Ok(Ready::Started);
            }
            if Instant::now() >= next_look {
                if self.console_shows_stall() {
                    return Ok(Ready::Stalled);
                }
                next_look = Instant::now() + Duration::from_secs(1);
            }
            if Instant::now() >= until {
                return Ok(Ready::TimedOut);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the guest kernel said its RCU grace periods stalled: under software emulation
    /// such a boot has not been seen to recover.
    fn console_shows_stall(&self) -> bool {
        std::fs::read(&self.files.console).is_ok_and(|c| shows_stall(&c))
    }

    /// The first event after those already looked at that matches `pred`; the next wait starts
    /// after it, so an event that arrived in the same read is not lost.
    fn take_next(&mut self, pred: &impl Fn(&Event) -> bool) -> Option<Event> {
        let at = self.events.0[self.scanned..].iter().position(pred)?;
        self.scanned += at + 1;
        Some(self.events.0[self.scanned - 1].clone())
    }

    /// Whether QEMU was ended by a signal (its own abort, not the guest powering off) before the
    /// guest started its scenario.
    pub fn qemu_died_before_ready(&self) -> bool {
        use std::os::unix::process::ExitStatusExt;
        self.exit.is_some_and(|s| s.signal().is_some())
            && !self.events.0.iter().any(|e| e.event == "ready")
    }

    /// Whether the boot's own deadline has passed.
    pub fn past_deadline(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Waits for a `mark` event named `name`.
    pub fn wait_mark(&mut self, name: &str, timeout: Duration) -> Result<Event> {
        self.wait_for(&format!("mark {name}"), timeout, |e| {
            e.event == "mark" && e.name() == Some(name)
        })
    }

    /// Waits until QEMU exits (the scenario powers off) or the boot's deadline passes.
    pub fn wait_exit(mut self) -> Result<Outcome> {
        loop {
            self.poll()?;
            if let Some(status) = self.exit {
                return Ok(Outcome {
                    events: std::mem::take(&mut self.events),
                    status,
                    wall: self.started.elapsed(),
                    files: self.files.clone(),
                });
            }
            if Instant::now() >= self.deadline {
                self.kill()?;
                bail!("the guest did not finish in time ({})", self.context());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills QEMU with SIGKILL, like pulling the plug; the disks keep what reached them.
    pub fn kill(&mut self) -> Result<()> {
        if self.exit.is_none() {
            self.child.kill()?;
            self.exit = Some(self.child.wait()?);
        }
        Ok(())
    }

    /// Changes a drive's throttle while the guest runs.
    pub fn set_throttle(&self, drive: &str, throttle: Option<Throttle>) -> Result<()> {
        Qmp::connect(&self.files.qmp)?.set_throttle(drive, throttle)
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's /proc/cpuinfo, and the lpj its guests' kernels measured (9200168).
    #[test]
    fn the_delay_loop_comes_from_the_hosts_bogomips() {
        let cpuinfo = "cpu MHz\t\t: 2300.002\ncache size\t: 46080 KB\nbogomips\t: 4600.00\n";
        assert_eq!(lpj_of(cpuinfo), Some(9_200_000));
        assert_eq!(lpj_of("processor\t: 0\n"), None);
    }

    /// Consoles recorded in the lab: a boot that stalled and never reached its scenario, and
    /// the same scenario's next boot.
    #[test]
    fn a_stalled_boot_shows_and_a_normal_one_does_not() {
        assert!(shows_stall(include_bytes!(
            "../fixtures/linux-6.12/console-rcu-stall.txt"
        )));
        assert!(!shows_stall(include_bytes!(
            "../fixtures/linux-6.12/console-normal.txt"
        )));
    }
}

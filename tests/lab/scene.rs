//! What every lab scenario shares: the one-guest-at-a-time lock, the prepared lab and golden
//! image, the EC2-like disks, a boot with zevac, and readers of the guest's records.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use zevac_bench::golden::{self, Golden};
use zevac_bench::Outcome;
use zevac_bench::{disks, BootSpec, Disk, Lab, Run, Throttle, ZfsPair};

/// One guest at a time: two emulated VMs on two cores would skew each other's timings.
pub(crate) static LAB: Mutex<()> = Mutex::new(());

pub(crate) fn one_at_a_time() -> MutexGuard<'static, ()> {
    LAB.lock().unwrap_or_else(|e| e.into_inner())
}

/// What every scenario starts from: this test's turn at the lab, the prepared lab for `pair`,
/// and the 256 MiB golden image.
pub(crate) struct Scene {
    pub(crate) _turn: MutexGuard<'static, ()>,
    pub(crate) lab: Lab,
    pub(crate) golden: Golden,
}

pub(crate) fn scene(pair: ZfsPair) -> Scene {
    let turn = one_at_a_time();
    let lab = Lab::prepare(pair).expect("preparing the lab");
    let golden = golden::golden(&lab, 256).expect("building the golden image");
    Scene {
        _turn: turn,
        lab,
        golden,
    }
}

/// A run with a copy of the golden image as a throttled EBS volume and `stores` blank instance
/// stores of 1 GiB.
pub(crate) fn ec2_disks(
    run: &Run,
    golden: &Golden,
    throttle: Throttle,
    stores: usize,
) -> Vec<Disk> {
    run.ec2_disks(golden, Some(throttle), stores, 1024).unwrap()
}

/// A boot of `script` with the work tree's zevac in the guest's /bin and the golden manifest.
pub(crate) fn zevac_spec(name: &str, disks: Vec<Disk>, script: &str, golden: &Golden) -> BootSpec {
    BootSpec::new(name, disks, script)
        .binary("/bin/zevac", env!("CARGO_BIN_EXE_zevac"))
        .file(zevac_bench::golden::MANIFEST, golden.manifest.clone())
}

/// Boots [`zevac_spec`] to the end, with `config` as /etc/zevac.toml if given.
pub(crate) fn boot_with_zevac(
    lab: &Lab,
    run: &Run,
    golden: &Golden,
    disks: Vec<Disk>,
    script: &str,
    config: Option<&str>,
) -> Outcome {
    let mut spec = zevac_spec("zevac", disks, script, golden);
    if let Some(c) = config {
        spec = spec.file("/etc/zevac.toml", c);
    }
    lab.run(run, &spec).unwrap()
}

/// How many 4 KiB blocks of `a` and `b` differ: what a boot wrote to an image.
pub(crate) fn changed_blocks(a: &std::path::Path, b: &std::path::Path) -> usize {
    use std::io::Read;
    let (mut fa, mut fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut changed = 0;
    loop {
        let n = fa.read(&mut ba).unwrap();
        fb.read_exact(&mut bb[..n]).unwrap();
        if n == 0 {
            return changed;
        }
        changed += ba[..n]
            .chunks(4096)
            .zip(bb[..n].chunks(4096))
            .filter(|(x, y)| x != y)
            .count();
    }
}

/// sha256 of every image of `disks`.
pub(crate) fn hashes(disks: &[Disk]) -> Vec<String> {
    disks
        .iter()
        .map(|d| disks::sha256(&d.image).unwrap())
        .collect()
}

/// SIGKILL during the copy, boot again: zevac imports quickly with the copy paused, leaves the
/// running removal alone, and it completes with the data intact.
/// The seconds of zevac's own import in an `apply` output ("imported pool rpool in 0.96 s").
pub(crate) fn import_seconds(apply_stdout: &str) -> f64 {
    apply_stdout
        .split("imported pool rpool in ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no import time in {apply_stdout}"))
}

/// A first boot that starts the copy (EBS throttled to 4 MiB/s, so that it is still running),
/// then a kill of the VM: the instance stores now carry the pool.
pub(crate) fn boot_killed_mid_copy(
    lab: &Lab,
    run: &Run,
    golden: &Golden,
    disks: &[Disk],
    config: &str,
) {
    let script = "run apply zevac apply\nmark applied\nwhile true; do sleep 10; done\n";
    let spec = zevac_spec("first", disks.to_vec(), script, golden).file("/etc/zevac.toml", config);
    let mut vm = lab.boot(run, &spec).unwrap();
    vm.wait_mark("applied", Duration::from_secs(300)).unwrap();
    vm.kill().unwrap();
    let apply = vm.events.cmd("apply").unwrap();
    assert_eq!(apply.rc, 0, "the first boot: {}", apply.stderr);
    assert!(apply.stdout.contains("zpool remove"), "{}", apply.stdout);
}

/// `name:value` lines (`grep -H . PARAMS...` in the guest) as a map.
pub(crate) fn params(
    ev: &zevac_bench::events::Events,
    name: &str,
) -> std::collections::BTreeMap<String, u64> {
    let out = ev.cmd(name).unwrap().stdout;
    out.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().parse().unwrap()))
        .collect()
}

/// A command's stdout as a number.
pub(crate) fn number_of(ev: &zevac_bench::events::Events, name: &str) -> u64 {
    let out = ev.cmd(name).unwrap().stdout;
    out.trim()
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {e}: {out:?}"))
}

/// A command's stdout as JSON.
pub(crate) fn json_of(ev: &zevac_bench::events::Events, name: &str) -> serde_json::Value {
    let cmd = ev.cmd(name).unwrap();
    serde_json::from_str(&cmd.stdout)
        .unwrap_or_else(|e| panic!("{name}: {e}: {}{}", cmd.stdout, cmd.stderr))
}

/// The config the watch scenarios run with.
/// Boots a watch scenario: the EBS copy throttled to `throttle_mib` MiB/s and two instance
/// stores, the config with a metrics file, a 1 s interval and `extra`; checks that the
/// scenario's `zevac apply` succeeded.
pub(crate) fn boot_watch_scenario(
    scene: &Scene,
    name: &str,
    throttle_mib: u64,
    extra: &str,
    script: &str,
) -> (Run, Outcome) {
    let run = scene.lab.new_run(name).unwrap();
    let disks = ec2_disks(
        &run,
        &scene.golden,
        Throttle::mib_per_second(throttle_mib),
        2,
    );
    let config = format!("[watch]\nmetrics_file = \"/run/zevac.prom\"\ninterval = \"1s\"\n{extra}");
    let outcome = boot_with_zevac(
        &scene.lab,
        &run,
        &scene.golden,
        disks,
        script,
        Some(&config),
    );
    let apply = outcome.events.cmd("apply").unwrap();
    assert_eq!(apply.rc, 0, "{}", apply.stderr);
    (run, outcome)
}

/// Copied bytes per second between two `zevac status --json` records.
pub(crate) fn rate_between(ev: &zevac_bench::events::Events, a: &str, b: &str) -> f64 {
    let (ca, cb) = (ev.cmd(a).unwrap(), ev.cmd(b).unwrap());
    let (ja, jb) = (json_of(ev, a), json_of(ev, b));
    let bytes = jb["copied_bytes"].as_u64().unwrap() - ja["copied_bytes"].as_u64().unwrap();
    bytes as f64 / (cb.end - ca.end)
}

/// The record of the guest's command `name`, after checking that it exited `rc` and printed
/// `text`: on stdout when it succeeded, on stderr when it failed.
pub(crate) fn said(
    ev: &zevac_bench::events::Events,
    name: &str,
    rc: i32,
    text: &str,
) -> zevac_bench::events::CmdRecord {
    let c = ev.cmd(name).unwrap();
    assert_eq!(c.rc, rc, "{name}: {}{}", c.stdout, c.stderr);
    let out = if rc == 0 { &c.stdout } else { &c.stderr };
    assert!(
        out.contains(text),
        "{name} should say {text:?}: {}{}",
        c.stdout,
        c.stderr
    );
    c
}

/// The watcher's log has its warning of a copy that stands still.
pub(crate) fn assert_warned_of_a_stall(log: &str) {
    assert!(
        log.contains("the copy has made no progress for a minute"),
        "no stall warning:\n{log}"
    );
}

//! The NixOS module (`nix/`, `flake.nix`): every file parses; the module, the EC2 profile and the
//! AMI expression are evaluated inside whole NixOS systems by nixpkgs' own `eval-config.nix`
//! (`nix/tests/nixos.nix`), and the units and files they render are checked; and zevac accepts
//! the configuration the module renders.
//!
//! The first two need Nix and nixpkgs, which cargo does not bring: they are `#[ignore]`d, so a
//! plain `cargo test` lists them as ignored, and the README's test command (`--include-ignored`)
//! runs them and fails when they cannot run. nixpkgs comes from `ZEVAC_NIXPKGS` (a checkout),
//! else from the nixpkgs release tarball named by `ZEVAC_NIXPKGS_TARBALL`, unpacked once into the
//! lab cache. nixpkgs 24.05 is the newest that Debian bookworm's Nix (2.8) evaluates.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `nix-instantiate`, with Debian's nix.conf's build group set aside: it names a group that
/// its package does not create, and nothing is built here.
fn nix_command() -> Command {
    let mut cmd = Command::new("nix-instantiate");
    cmd.env("NIX_CONFIG", "build-users-group =");
    cmd
}

/// Makes sure `nix-instantiate` is here and its store exists: Debian's nix-bin, installed like
/// the lab's packages, then one evaluation that writes to the store. Once, before any test
/// uses it: apt takes one install at a time, and two first uses of a new store race to create
/// it (`creating symlink ... /nix/var/nix/profiles: File exists`, seen on a fresh machine).
fn nix_instantiate() -> Command {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        zevac_bench::apt::ensure_installed(&["nix-bin"]).expect("installing Debian's nix-bin");
        let out = nix_command()
            .args(["--eval", "--read-write-mode", "-E", "builtins.storeDir"])
            .output()
            .expect("running nix-instantiate");
        assert!(
            out.status.success(),
            "setting up Nix's store: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    nix_command()
}

/// A nixpkgs tree: `ZEVAC_NIXPKGS`, else unpacked from `ZEVAC_NIXPKGS_TARBALL` into the cache.
fn nixpkgs() -> PathBuf {
    if let Some(tree) = std::env::var_os("ZEVAC_NIXPKGS") {
        return PathBuf::from(tree);
    }
    let Some(tarball) = std::env::var_os("ZEVAC_NIXPKGS_TARBALL").map(PathBuf::from) else {
        panic!(
            "cannot evaluate the module: no nixpkgs. Set ZEVAC_NIXPKGS to a nixpkgs checkout, or \
             ZEVAC_NIXPKGS_TARBALL to a nixpkgs release tarball (24.05 evaluates with Debian \
             bookworm's Nix 2.8; newer ones need Nix 2.18)"
        );
    };
    let digest = zevac_bench::disks::sha256(&tarball)
        .unwrap_or_else(|e| panic!("cannot read {}: {e:#}", tarball.display()));
    let dir = zevac_bench::cache::root()
        .join("nixpkgs")
        .join(format!("{}-tree", &digest[..16]));
    let _lock = zevac_bench::cache::lock("nixpkgs-tree").unwrap();
    let done = dir.join(".zevac-complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("tar")
            .arg("-xaf")
            .arg(&tarball)
            .arg("-C")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "unpacking {}: {}",
            tarball.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&done, b"").unwrap();
    }
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("nixos/lib/eval-config.nix").exists())
        .unwrap_or_else(|| panic!("{} holds no nixpkgs tree", tarball.display()))
}

fn nix_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "nix") {
                out.push(p);
            }
        }
    }
    let mut files = vec![root().join("flake.nix")];
    walk(&root().join("nix"), &mut files);
    files
}

#[test]
#[ignore = "nix: needs nix-instantiate (installs Debian's nix-bin as root); the test command runs it"]
fn every_nix_file_parses() {
    let files = nix_files();
    assert!(files.len() >= 7, "{files:?}");
    for f in files {
        let out = nix_instantiate().arg("--parse").arg(&f).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Evaluates `attr` of `nix/tests/nixos.nix` (one whole NixOS system) against nixpkgs. Nix's
/// own warnings (and NixOS's, which eval-config traces) come on stderr: returned beside the value.
fn evaluate(nixpkgs: &Path, attr: &str) -> (serde_json::Value, String) {
    // One at a time: parallel instantiations wait on each other's lock of the store's database.
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let start = std::time::Instant::now();
    let out = nix_instantiate()
        .args(["--eval", "--strict", "--json", "--read-write-mode"])
        .arg(root().join("nix/tests/nixos.nix"))
        .arg("--argstr")
        .arg("nixpkgs")
        .arg(nixpkgs)
        .args(["-A", attr])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "evaluating {attr}: {stderr}");
    println!("evaluated {attr} in {:.1} s", start.elapsed().as_secs_f64());
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

/// Whether Nix's stderr holds a warning of the evaluation: `lib.warn` and `builtins.trace`
/// print `trace: `, nixpkgs' deprecations `evaluation warning`.
fn warned(stderr: &str) -> bool {
    stderr
        .lines()
        .any(|l| l.starts_with("trace: ") || l.contains("evaluation warning"))
}

/// The system `attr` evaluates to a toplevel derivation, with no failed assertion, no NixOS
/// warning and no evaluation warning.
fn evaluate_clean(nixpkgs: &Path, attr: &str) -> serde_json::Value {
    let (d, stderr) = evaluate(nixpkgs, attr);
    assert_eq!(d["failedAssertions"], serde_json::json!([]), "{attr}");
    assert_eq!(d["warnings"], serde_json::json!([]), "{attr}");
    assert!(!warned(&stderr), "{attr}: {stderr}");
    let drv = d["drvPath"].as_str().unwrap();
    assert!(
        drv.starts_with("/nix/store/") && drv.ends_with(".drv") && Path::new(drv).exists(),
        "{attr}: {drv}"
    );
    d
}

/// The `key=value` lines of a rendered unit, `key` by `key` (systemd's ini form).
fn unit_values<'a>(unit: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    let text = unit.as_str().unwrap_or_else(|| panic!("no unit: {unit}"));
    text.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .flat_map(|v| v.split(' '))
        .filter(|v| !v.is_empty())
        .collect()
}

/// What the module renders into a system, wherever it is: zevac's stage-1 unit before
/// nixpkgs' import of `pool` and the root mount, its binary, config and tools in the initrd,
/// and the stage-2 watcher.
fn check_rendering(d: &serde_json::Value, pool: &str) {
    let unit = &d["zevacUnit"];
    let before = unit_values(unit, "Before");
    for u in [
        &format!("zfs-import-{pool}.service"),
        "zfs-import.target",
        "sysroot.mount",
    ] {
        assert!(before.contains(&u), "{unit}");
    }
    assert!(
        unit_values(unit, "After").contains(&"systemd-udev-settle.service"),
        "{unit}"
    );
    assert_eq!(
        unit_values(unit, "DefaultDependencies"),
        ["false"],
        "{unit}"
    );
    assert_eq!(unit_values(unit, "Type"), ["oneshot"], "{unit}");
    assert_eq!(unit_values(unit, "WantedBy"), ["initrd.target"], "{unit}");
    let zevac = d["zevacPath"].as_str().unwrap();
    let exec = |key: &str, args: &str| {
        let line = format!("{key}={zevac}/bin/zevac {args} --config /etc/zevac.toml");
        assert!(
            unit.as_str().unwrap().lines().any(|l| l == line),
            "{line}\n{unit}"
        );
    };
    exec("ExecStart", "apply");
    exec("ExecStopPost", "recover");
    // nixpkgs' import: ordered by zevac's Before= only, so zevac's failure never stops it.
    let import = &d["importUnit"];
    assert!(!import.as_str().unwrap().contains("zevac"), "{import}");
    let script = d["importScript"].as_str().unwrap();
    let dev_nodes = d["devNodes"].as_str().unwrap();
    assert!(
        script.contains(&format!(
            "import -d \"{dev_nodes}\" -N $ZFS_FORCE \"$pool\""
        )),
        "{script}"
    );
    assert!(script.contains("if ! poolImported"), "{script}");
    // In the initrd: the binary, its configuration, and every tool it calls.
    assert!(strings(&d["storePaths"])
        .iter()
        .any(|p| p.starts_with(zevac)));
    assert!(d["configSource"].as_str().unwrap().ends_with("-zevac.toml"));
    assert!(strings(&d["initrdFiles"]).contains(&"/etc/zevac.toml"));
    for tool in [
        "zpool", "zfs", "zdb", "blkid", "blockdev", "wipefs", "udevadm",
    ] {
        assert!(
            d["initrdBin"][tool].is_string(),
            "{tool}: {}",
            d["initrdBin"]
        );
    }
    let watch = &d["watchUnit"];
    assert_eq!(unit_values(watch, "Type"), ["notify"], "{watch}");
    assert_eq!(unit_values(watch, "Restart"), ["on-failure"], "{watch}");
    assert!(
        unit_values(watch, "After").contains(&"zfs-import.target"),
        "{watch}"
    );
    assert_eq!(
        unit_values(watch, "WantedBy"),
        ["multi-user.target"],
        "{watch}"
    );
    let line = format!("ExecStart={zevac}/bin/zevac watch --config /etc/zevac.toml");
    assert!(
        watch.as_str().unwrap().lines().any(|l| l == line),
        "{watch}"
    );
}

/// The lab's systemd boots run the units the module renders: its copy
/// ([`zevac_bench::nixos::RENDERED_PATH`]) is this rendering with the store's hashes taken out.
/// `ZEVAC_UPDATE_RENDERED=1` writes the copy anew (then read its diff).
fn lab_copy_is_current(d: &serde_json::Value) {
    use zevac_bench::nixos::{without_hashes, RENDERED_KEYS, RENDERED_PATH};
    let kept: serde_json::Map<_, _> = RENDERED_KEYS
        .iter()
        .map(|k| (k.to_string(), d[*k].clone()))
        .collect();
    let now = without_hashes(&serde_json::to_string_pretty(&kept).unwrap()) + "\n";
    let path = root().join(RENDERED_PATH);
    if std::env::var_os("ZEVAC_UPDATE_RENDERED").is_some() {
        std::fs::write(&path, &now).unwrap();
    }
    let copy = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        copy == now,
        "the module renders other units than the lab boots ({RENDERED_PATH}); run this test \
         with ZEVAC_UPDATE_RENDERED=1 and read the diff.\nrendered now:\n{now}"
    );
}

fn immutable_needs(d: &serde_json::Value) {
    assert!(d["initrdBin"]["dmsetup"].is_string(), "{}", d["initrdBin"]);
    for module in ["dm-mod", "dm-snapshot"] {
        assert!(
            strings(&d["kernelModules"]).contains(&module),
            "{}",
            d["kernelModules"]
        );
    }
}

/// JSON as TOML: what nixpkgs' `formats.toml` generate does (remarshal's json2toml).
fn toml_of(json: &serde_json::Value) -> String {
    toml::to_string(&toml::Value::try_from(json).unwrap()).unwrap()
}

fn strings(v: &serde_json::Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

/// The module on a plain ZFS root with the systemd initrd: its defaults, the in-place origin,
/// every option set (the checked-in rendering), and the scripted initrd refused.
#[test]
#[ignore = "nix: needs Nix and nixpkgs (ZEVAC_NIXPKGS or ZEVAC_NIXPKGS_TARBALL); the test command runs it"]
fn the_module_evaluates_in_a_whole_nixos_system() {
    let nixpkgs = nixpkgs();
    let d = evaluate_clean(&nixpkgs, "module");
    check_rendering(&d, "rpool");
    immutable_needs(&d);
    lab_copy_is_current(&d);
    let config = zevac::config::Config::parse(&toml_of(&d["settings"])).unwrap();
    // zevac's defaults, but for the watcher the module runs in stage 2 starting the copy.
    let mut want = zevac::config::Config::default();
    want.watch.starts_copy = true;
    assert_eq!(config, want);
    // The package: complete meta, the man pages and completions installed, no check that
    // needs more than the build sandbox has.
    let package = &d["package"];
    assert!(
        Path::new(package["drvPath"].as_str().unwrap()).exists(),
        "{package}"
    );
    assert_eq!(package["mainProgram"], "zevac");
    assert_eq!(package["hasLongDescription"], true);
    let post_install = package["postInstall"].as_str().unwrap();
    for line in [
        "zevac generate man",
        "installManPage",
        "installShellCompletion",
    ] {
        assert!(post_install.contains(line), "{post_install}");
    }
    assert_eq!(
        strings(&package["checkFlags"]),
        [
            "--skip",
            "no_locked_dependency_needs_a_newer_rustc_than_rust_version"
        ]
    );

    let in_place = evaluate_clean(&nixpkgs, "inPlace");
    check_rendering(&in_place, "rpool");
    assert!(in_place["initrdBin"]["dmsetup"].is_null());
    assert!(!strings(&in_place["kernelModules"]).contains(&"dm-snapshot"));
    assert_eq!(in_place["settings"]["origin"]["mode"], "in-place");

    let example = evaluate_clean(&nixpkgs, "example");
    check_rendering(&example, "tank");
    let rendered: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("nix/tests/example-rendered.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(example["settings"], rendered["settings"]);
    assert_eq!(example["profile"], rendered["profile"]);
    assert!(strings(&example["initrdFiles"]).contains(&"/etc/zevac/profiles/nixos.toml"));
    assert!(strings(&example["etcFiles"]).contains(&"zevac/profiles/nixos.toml"));

    let (scripted, _) = evaluate(&nixpkgs, "scripted");
    let failed = strings(&scripted["failedAssertions"]).join("\n");
    assert!(
        failed.contains("boot.initrd.systemd.enable = true"),
        "{failed}"
    );
}

/// The EC2 profile with nixpkgs' `amazon-image.nix`, as the flake's example and the README
/// have it, and the AMI expression (`nix/image.nix`): both instantiate, clean.
#[test]
#[ignore = "nix: needs Nix and nixpkgs (ZEVAC_NIXPKGS or ZEVAC_NIXPKGS_TARBALL); the test command runs it"]
fn the_ec2_profile_and_its_image_evaluate_with_amazon_image_nix() {
    let nixpkgs = nixpkgs();
    let d = evaluate_clean(&nixpkgs, "ec2");
    check_rendering(&d, "tank");
    immutable_needs(&d);
    // amazon-image.nix's own choice, which the profile keeps (see the profile for why).
    assert_eq!(d["devNodes"], "/dev/");
    let config = zevac::config::Config::parse(&toml_of(&d["settings"])).unwrap();
    assert_eq!(config.pool, "tank");
    let (image, stderr) = evaluate(&nixpkgs, "image");
    assert!(!warned(&stderr), "{stderr}");
    let drv = image["drvPath"].as_str().unwrap();
    assert!(drv.ends_with(".drv") && Path::new(drv).exists(), "{drv}");
}

/// The example's rendering (checked above against the module by the test command) is
/// a configuration and a profile that zevac accepts, and `zevac plan --config` reads it.
#[test]
fn zevac_accepts_what_the_module_renders() {
    let rendered: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("nix/tests/example-rendered.json")).unwrap(),
    )
    .unwrap();
    let mut settings = rendered["settings"].clone();
    let text = toml_of(&settings);
    let config = zevac::config::Config::parse(&text).unwrap();
    assert_eq!(config.pool, "tank");
    assert!(config.local.allow_wipe);
    assert_eq!(config.tunables.profile, "nixos");
    assert_eq!(config.watch.interval, std::time::Duration::from_secs(5));
    assert!(
        config.watch.starts_copy,
        "the module's watcher starts the copy"
    );
    let profile =
        zevac::profile::Profile::parse("nixos", "nixos.toml", &toml_of(&rendered["profile"]))
            .unwrap();
    assert_eq!(profile.cap.and_then(|c| c.resolve(None)), Some(20 << 20));

    // The command itself: its configuration errors are exit 2 with the line (tests/cli.rs);
    // here the configuration is read, so whatever follows is about this machine's disks.
    // `plan` reads the profile too (it prints its parameter writes): the module's, in a
    // directory of this test's own in place of /etc/zevac/profiles.
    let dir = std::env::temp_dir().join(format!("zevac-nix-{}", std::process::id()));
    let profiles = dir.join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(profiles.join("nixos.toml"), toml_of(&rendered["profile"])).unwrap();
    settings["tunables"]["profile_dir"] = profiles.display().to_string().into();
    let file = dir.join("zevac.toml");
    std::fs::write(&file, toml_of(&settings)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_zevac"))
        .arg("plan")
        .arg("--config")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!(
        "zevac plan --config (module-rendered): exit {:?}\n{}{stderr}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
    );
    assert_ne!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains(&file.display().to_string()), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The NixOS VM test (`nix/tests/vm.nix`): its driver instantiates. Running it needs KVM and a
/// binary cache, which this machine has not.
#[test]
#[ignore = "nix: needs Nix and nixpkgs (ZEVAC_NIXPKGS or ZEVAC_NIXPKGS_TARBALL); the test command runs it"]
fn the_nixos_vm_test_instantiates() {
    let (d, stderr) = evaluate(&nixpkgs(), "vmTest");
    assert!(!warned(&stderr), "{stderr}");
    let drv = d["drvPath"].as_str().unwrap();
    assert!(
        drv.ends_with("-nixos-test-driver-zevac.drv") && Path::new(drv).exists(),
        "{drv}"
    );
}

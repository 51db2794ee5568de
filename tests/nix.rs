//! The NixOS module (`nix/`, `flake.nix`): every file parses; the module is evaluated with
//! nixpkgs' `lib.evalModules` and its units and rendered configuration are checked; and zevac
//! accepts the configuration the module renders.
//!
//! The first two need Nix and nixpkgs, which cargo does not bring: they are `#[ignore]`d, so a
//! plain `cargo test` lists them as ignored, and the README's test command (`--include-ignored`)
//! runs them and fails when they cannot run. nixpkgs' `lib` comes from `NIXPKGS_LIB` (a checkout
//! of it), else from the nixpkgs release tarball named by `ZEVAC_NIXPKGS_TARBALL`, unpacked once
//! into the lab cache.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Makes sure `nix-instantiate` is here: Debian's nix-bin, installed like the lab's packages
/// (once: the tests run in parallel, and apt takes one install at a time).
fn nix_instantiate() -> Command {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        zevac_bench::apt::ensure_installed(&["nix-bin"]).expect("installing Debian's nix-bin")
    });
    Command::new("nix-instantiate")
}

/// nixpkgs' `lib/`: `NIXPKGS_LIB`, else unpacked from `ZEVAC_NIXPKGS_TARBALL` into the cache.
fn nixpkgs_lib() -> PathBuf {
    if let Some(lib) = std::env::var_os("NIXPKGS_LIB") {
        return PathBuf::from(lib);
    }
    let Some(tarball) = std::env::var_os("ZEVAC_NIXPKGS_TARBALL").map(PathBuf::from) else {
        panic!(
            "cannot evaluate the module: no nixpkgs. Set NIXPKGS_LIB to a checkout of nixpkgs' \
             lib/, or ZEVAC_NIXPKGS_TARBALL to a nixpkgs release tarball (24.05 evaluates with \
             Debian bookworm's Nix 2.8; newer ones need Nix 2.18)"
        );
    };
    let digest = zevac_bench::disks::sha256(&tarball)
        .unwrap_or_else(|e| panic!("cannot read {}: {e:#}", tarball.display()));
    let dir = zevac_bench::cache::root()
        .join("nixpkgs")
        .join(&digest[..16]);
    let _lock = zevac_bench::cache::lock("nixpkgs-lib").unwrap();
    let done = dir.join(".zevac-complete");
    if !done.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        // Only the top folder's lib/ (nixpkgs/ or nixpkgs-<rev>/): 2 MB of the 365.
        let out = Command::new("tar")
            .arg("-xaf")
            .arg(&tarball)
            .arg("-C")
            .arg(&dir)
            .args(["--wildcards", "--no-wildcards-match-slash", "*/lib"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "unpacking lib/ from {}: {}",
            tarball.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&done, b"").unwrap();
    }
    let top = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("lib/default.nix").exists())
        .unwrap_or_else(|| panic!("{} holds no nixpkgs lib/", tarball.display()));
    top.join("lib")
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

/// Evaluates `nix/tests/eval.nix` over `configuration` (a Nix expression).
fn evaluate(lib: &Path, configuration: &str) -> serde_json::Value {
    let out = nix_instantiate()
        .args(["--eval", "--strict", "--json"])
        .arg(root().join("nix/tests/eval.nix"))
        .arg("--arg")
        .arg("lib")
        .arg(format!("import {}", lib.display()))
        .arg("--arg")
        .arg("configuration")
        .arg(configuration)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "evaluating {configuration}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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

#[test]
#[ignore = "nix: needs Nix and nixpkgs (NIXPKGS_LIB or ZEVAC_NIXPKGS_TARBALL); the test command runs it"]
fn the_module_evaluates_with_nixpkgs_lib() {
    let lib = nixpkgs_lib();

    // The defaults: the units, their order, and a configuration zevac accepts.
    let d = evaluate(
        &lib,
        "{ services.zevac.enable = true; boot.initrd.systemd.enable = true; }",
    );
    assert_eq!(d["failedAssertions"], serde_json::json!([]), "{d}");
    let unit = &d["initrdUnit"];
    for before in [
        "zfs-import-rpool.service",
        "zfs-import.target",
        "sysroot.mount",
    ] {
        assert!(strings(&unit["before"]).contains(&before), "{unit}");
    }
    assert!(strings(&unit["after"]).contains(&"systemd-udev-settle.service"));
    assert_eq!(unit["unitConfig"]["DefaultDependencies"], false);
    assert_eq!(unit["serviceConfig"]["Type"], "oneshot");
    let exec = unit["serviceConfig"]["ExecStart"].as_str().unwrap();
    assert!(
        exec.ends_with("-zevac/bin/zevac apply --config /etc/zevac.toml"),
        "{exec}"
    );
    assert!(unit["serviceConfig"]["ExecStopPost"]
        .as_str()
        .unwrap()
        .ends_with("-zevac/bin/zevac recover --config /etc/zevac.toml"));
    // The unit's binary, its config and every tool zevac calls besides zpool/zfs are in the initrd.
    assert!(strings(&d["initrdStorePaths"])
        .iter()
        .any(|p| exec.starts_with(p)));
    assert!(strings(&d["initrdFiles"]).contains(&"/etc/zevac.toml"));
    for tool in ["zdb", "blkid", "blockdev", "wipefs", "udevadm", "dmsetup"] {
        assert!(
            d["initrdBin"][tool].is_string(),
            "{tool}: {}",
            d["initrdBin"]
        );
    }
    let watch = &d["watchUnit"];
    assert_eq!(watch["serviceConfig"]["Type"], "notify");
    assert_eq!(watch["serviceConfig"]["Restart"], "on-failure");
    assert!(strings(&watch["after"]).contains(&"zfs-import.target"));
    assert!(strings(&watch["wantedBy"]).contains(&"multi-user.target"));
    assert!(watch["serviceConfig"]["ExecStart"]
        .as_str()
        .unwrap()
        .ends_with("/bin/zevac watch --config /etc/zevac.toml"));
    // The immutable origin (the default) needs the snapshot target in the initrd.
    assert!(
        strings(&d["initrdKernelModules"]).contains(&"dm-snapshot"),
        "{}",
        d["initrdKernelModules"]
    );
    let config = zevac::config::Config::parse(&toml_of(&d["settings"])).unwrap();
    assert_eq!(config, zevac::config::Config::default());

    // In place: no device mapper.
    let in_place = evaluate(
        &lib,
        "{ services.zevac.enable = true; services.zevac.originMode = \"in-place\"; \
         boot.initrd.systemd.enable = true; }",
    );
    assert_eq!(in_place["initrdKernelModules"], serde_json::json!([]));
    assert!(in_place["initrdBin"]["dmsetup"].is_null());
    assert_eq!(in_place["settings"]["origin"]["mode"], "in-place");

    // Every option set: the module still renders the checked-in example, and zevac accepts it.
    let example = evaluate(
        &lib,
        &format!("import {}", root().join("nix/tests/example.nix").display()),
    );
    let rendered: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("nix/tests/example-rendered.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(example["settings"], rendered["settings"]);
    assert_eq!(example["profile"], rendered["profile"]);
    assert!(strings(&example["initrdFiles"]).contains(&"/etc/zevac/profiles/nixos.toml"));
    assert!(strings(&example["etcFiles"]).contains(&"zevac/profiles/nixos.toml"));
    assert!(strings(&example["initrdUnit"]["before"]).contains(&"zfs-import-tank.service"));

    // The scripted initrd: a clear assertion, not a silently missing unit.
    let scripted = evaluate(&lib, "{ services.zevac.enable = true; }");
    let failed = strings(&scripted["failedAssertions"]).join("\n");
    assert!(
        failed.contains("boot.initrd.systemd.enable = true"),
        "{failed}"
    );
}

/// The example's rendering (checked above against the module by the test command) is
/// a configuration and a profile that zevac accepts, and `zevac plan --config` reads it.
#[test]
fn zevac_accepts_what_the_module_renders() {
    let rendered: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("nix/tests/example-rendered.json")).unwrap(),
    )
    .unwrap();
    let text = toml_of(&rendered["settings"]);
    let config = zevac::config::Config::parse(&text).unwrap();
    assert_eq!(config.pool, "tank");
    assert!(config.local.allow_wipe);
    assert_eq!(config.tunables.profile, "nixos");
    assert_eq!(config.watch.interval, "5s");
    let profile =
        zevac::profile::Profile::parse("nixos", "nixos.toml", &toml_of(&rendered["profile"]))
            .unwrap();
    assert_eq!(profile.cap.and_then(|c| c.resolve(None)), Some(20 << 20));

    // The command itself: its configuration errors are exit 2 with the line (tests/cli.rs);
    // here the configuration is read, so whatever follows is about this machine's disks.
    let dir = std::env::temp_dir().join(format!("zevac-nix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("zevac.toml");
    std::fs::write(&file, &text).unwrap();
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

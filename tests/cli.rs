//! The command line's contract: help texts, and exit code 2 with the line and reason for a bad
//! configuration (checked before zevac looks at any disk).

use std::process::Command;

fn zevac(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zevac"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn help_explains_every_command_with_an_example_and_the_exit_codes() {
    let (rc, out, _) = zevac(&["--help"]);
    assert_eq!(rc, 0);
    assert!(out.contains("Exit codes: 0 done"), "{out}");
    for cmd in ["devices", "plan", "apply", "status"] {
        let (rc, out, _) = zevac(&[cmd, "--help"]);
        assert_eq!(rc, 0, "{cmd}");
        assert!(out.contains("Example: zevac "), "{cmd}: {out}");
    }
}

#[test]
fn a_bad_configuration_is_exit_2_with_line_and_reason() {
    let dir = std::env::temp_dir().join(format!("zevac-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "pool = \"rpool\"\n[local]\nallow_wipe = \"yes\"\n").unwrap();
    let (rc, _, err) = zevac(&["plan", "--config", bad.to_str().unwrap()]);
    assert_eq!(rc, 2, "{err}");
    assert!(
        err.contains("line 3") && err.contains("allow_wipe"),
        "{err}"
    );
    let (rc, _, err) = zevac(&[
        "apply",
        "--config",
        dir.join("missing.toml").to_str().unwrap(),
    ]);
    assert_eq!(rc, 2, "{err}");
    assert!(err.contains("missing.toml"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn generate_writes_man_pages_and_completions_for_every_subcommand() {
    let dir = std::env::temp_dir().join(format!("zevac-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (rc, _, err) = zevac(&["generate", "man", dir.to_str().unwrap()]);
    assert_eq!(rc, 0, "{err}");
    let page = std::fs::read_to_string(dir.join("zevac.1")).unwrap();
    assert!(page.contains(".TH zevac 1"), "{page}");
    assert!(page.contains("Exit codes: 0 done"), "{page}");
    for sub in [
        "devices", "plan", "apply", "recover", "status", "watch", "profiles", "tune",
    ] {
        let page = std::fs::read_to_string(dir.join(format!("zevac-{sub}.1"))).unwrap();
        assert!(page.contains("Example: zevac"), "zevac-{sub}.1: {page}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let (rc, out, err) = zevac(&["generate", shell]);
        assert_eq!(rc, 0, "{shell}: {err}");
        assert!(
            out.contains("recover") && out.contains("config"),
            "{shell}: {out}"
        );
    }
    let (rc, _, err) = zevac(&["generate", "man"]);
    assert_eq!(rc, 2, "{err}");
}

//! The minimum Rust version in `Cargo.toml` (`rust-version`) holds for what `Cargo.lock` pins:
//! no dependency built for this platform asks for a newer rustc. That is the version docs/nixos.md
//! names for building zevac (and the nixpkgs releases whose rustc meets it). zevac's own code is
//! held to it by clippy's `incompatible_msrv` lint, which reads the same field.

use std::process::Command;

/// `1.85` as (1, 85); a patch level, if any, is ignored.
fn minor(version: &str) -> (u64, u64) {
    let mut parts = version.split('.').map(|p| p.parse::<u64>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap_or(0))
}

#[test]
fn no_locked_dependency_needs_a_newer_rustc_than_rust_version() {
    let ours = minor(env!("CARGO_PKG_RUST_VERSION"));
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let host = rustc
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap_or_default()
        .to_string();
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if !host.trim().is_empty() {
        cmd.args(["--filter-platform", host.trim()]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let in_resolve: std::collections::BTreeSet<&str> = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    let mut newer = Vec::new();
    let mut counted = 0;
    for p in meta["packages"].as_array().unwrap() {
        if !in_resolve.contains(p["id"].as_str().unwrap()) {
            continue;
        }
        counted += 1;
        if let Some(v) = p["rust_version"].as_str() {
            if minor(v) > ours {
                newer.push(format!("{} {} needs rustc {v}", p["name"], p["version"]));
            }
        }
    }
    assert!(counted > 50, "only {counted} packages in the resolve");
    assert!(
        newer.is_empty(),
        "rust-version is {}, but Cargo.lock pins:\n{}\n(cargo update with \
         CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback picks versions that fit)",
        env!("CARGO_PKG_RUST_VERSION"),
        newer.join("\n")
    );
}

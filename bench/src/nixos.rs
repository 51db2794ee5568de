//! NixOS's initrd units for the lab's systemd boot: zevac's module and nixpkgs' ZFS module as a
//! real NixOS evaluation renders them (`bench/guest/nixos/rendered.json`, which the nix test keeps
//! in step with the module), with only the Nix store's paths rewritten to the lab guest's.

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::BootSpec;

/// The rendering, relative to the repository.
pub const RENDERED_PATH: &str = "bench/guest/nixos/rendered.json";
/// The evaluation's fields the rendering keeps (`nix/tests/nixos.nix`, attribute `module`).
pub const RENDERED_KEYS: &[&str] = &[
    "pool",
    "zevacUnit",
    "zevacWantedBy",
    "importUnit",
    "importScript",
    "importRequiredBy",
    "initrdFstab",
    "watchUnit",
    "settings",
];
const RENDERED: &str = include_str!("../guest/nixos/rendered.json");

/// Where the store's hashes stood: the rendering does not change with every build of zevac.
const HASHED: &str = "/nix/store/HASH-";
const UNITS: &str = "/etc/systemd/system";
const FSTAB: &str = "/lab/nixos/initrd-fstab";
const COMMANDS: &str = "/lab/nixos/commands";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rendered {
    pub pool: String,
    pub zevac_unit: String,
    pub zevac_wanted_by: Vec<String>,
    pub import_unit: String,
    pub import_script: String,
    pub import_required_by: Vec<String>,
    pub initrd_fstab: String,
    pub watch_unit: String,
    pub settings: serde_json::Value,
}

/// `text` with every store path's hash replaced by `HASH`.
pub fn without_hashes(text: &str) -> String {
    const PREFIX: &str = "/nix/store/";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(PREFIX) {
        let (head, tail) = rest.split_at(at + PREFIX.len());
        out.push_str(head);
        let hash = tail.as_bytes().iter().take(33).collect::<Vec<_>>();
        if hash.len() == 33
            && *hash[32] == b'-'
            && hash[..32].iter().all(|c| c.is_ascii_alphanumeric())
        {
            out.push_str("HASH");
            rest = &tail[32..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// The lab guest's path for a store path's package and file (`zfs-user-2.2.6`, `sbin/zpool`),
/// or `None` for a value nothing in the lab reads (the locale archive and time zones in
/// `Environment=`).
fn lab_path(package: &str, file: &str) -> Result<Option<String>> {
    let name = file.rsplit('/').next().unwrap_or(file);
    let starts = |p: &str| package.starts_with(p);
    const ON_PATH: &[&str] = &[
        "zfs-user-",
        "util-linux-",
        "systemd-",
        "lvm2-",
        "coreutils-",
        "findutils-",
        "gnugrep-",
        "gnused-",
    ];
    Ok(Some(
        if (file == "bin" || file == "sbin") && ON_PATH.iter().any(|p| starts(p)) {
            // A `PATH=` entry: the guest's tools are all in /bin and /sbin.
            format!("/{file}")
        } else if starts("zevac-") {
            format!("/bin/{name}")
        } else if starts("zfs-user-") {
            format!("/sbin/{name}")
        } else if starts("systemd-") {
            format!("/bin/{name}")
        } else if starts("gawk-") {
            // busybox's awk (its applet is in /usr/bin): the import script's one line is POSIX.
            format!("/usr/bin/{name}")
        } else if starts("unit-script-") {
            format!("/lab/nixos/{name}")
        } else if starts("glibc-locales-") || starts("tzdata-") {
            return Ok(None);
        } else {
            bail!("the lab has no copy of the store path's package {package} ({file})")
        },
    ))
}

/// Rewrites store paths to the lab's, remembering the guest's paths it wrote so the boot can
/// check that each is there (a path that is not fails only when its line runs, as nixpkgs'
/// import script's awk once did, and then quietly: its loop retries and falls through).
#[derive(Debug, Default)]
struct ToLab {
    written: std::collections::BTreeSet<String>,
}

impl ToLab {
    /// `text` with each store path the lab has a copy of rewritten to it.
    fn rewrite(&mut self, text: &str) -> Result<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(HASHED) {
            out.push_str(&rest[..at]);
            let tail = &rest[at + HASHED.len()..];
            let end = tail
                .find(|c: char| c.is_whitespace() || c == '"' || c == ':')
                .unwrap_or(tail.len());
            let (package, file) = tail[..end].split_once('/').unwrap_or((&tail[..end], ""));
            match lab_path(package, file)? {
                Some(path) => {
                    out.push_str(&path);
                    self.written.insert(path);
                }
                None => out.push_str(&rest[at..at + HASHED.len() + end]),
            }
            rest = &tail[end..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

impl Rendered {
    pub fn load() -> Result<Self> {
        serde_json::from_str(RENDERED).with_context(|| format!("reading {RENDERED_PATH}"))
    }

    fn import_name(&self) -> String {
        format!("zfs-import-{}", self.pool)
    }

    /// The import unit's script as nixpkgs' `makeJobScript` writes it (a `writeShellScriptBin`).
    fn import_start(&self, to_lab: &mut ToLab) -> Result<String> {
        to_lab.rewrite(&format!("#!/bin/bash\nset -e\n{}\n", self.import_script))
    }

    /// [`Self::initrd`], and then a switch-root into the pool's root and a stage 2 there that
    /// runs the module's `zevac-watch.service` as rendered and `stage2` (a scenario script),
    /// under Debian's systemd: `bench/guest/nixos/stage2-prepare.sh` says how.
    pub fn stage2(&self, spec: BootSpec, stage2: &str) -> Result<BootSpec> {
        const S2: &str = "/lab/stage2/etc/systemd/system";
        let mut to_lab = ToLab::default();
        let watch = to_lab.rewrite(&self.watch_unit)?;
        let spec = self
            .initrd_rewritten(spec, to_lab)?
            .file(
                &format!("{UNITS}/lab-stage2-prepare.service"),
                include_str!("../guest/nixos/lab-stage2-prepare.service"),
            )
            .symlink(
                &format!("{UNITS}/initrd.target.requires/lab-stage2-prepare.service"),
                "../lab-stage2-prepare.service",
            )
            .file(
                "/lab/stage2-prepare.sh",
                include_str!("../guest/nixos/stage2-prepare.sh"),
            )
            .file(
                "/lab/stage2-run.sh",
                include_str!("../guest/nixos/stage2-run.sh"),
            )
            .file("/lab/stage2.sh", stage2)
            .file(&format!("{S2}/zevac-watch.service"), watch)
            .file(
                &format!("{S2}/lab-stage2.target"),
                include_str!("../guest/nixos/lab-stage2.target"),
            )
            .file(
                &format!("{S2}/lab-stage2.service"),
                include_str!("../guest/nixos/lab-stage2.service"),
            )
            .symlink(&format!("{S2}/default.target"), "lab-stage2.target")
            // What stops a switch-root, on the console.
            .file(
                &format!("{UNITS}/initrd-switch-root.service.d/lab.conf"),
                "[Service]\nStandardOutput=journal+console\nStandardError=journal+console\n",
            )
            // switch-root goes only into an OS tree: one with an os-release.
            .file(
                "/lab/stage2/etc/os-release",
                "NAME=\"zevac lab stage 2\"\nID=lab\n",
            );
        Ok(spec)
    }

    /// `spec` booting NixOS's initrd units: zevac.service and the pool's import unit with the
    /// links NixOS makes for their `wantedBy` and `requiredBy`, the import script, the root's
    /// fstab handed to systemd's fstab generator as NixOS does (`SYSTEMD_SYSROOT_FSTAB`), the
    /// module's zevac.toml, the boot's unit: `initrd.target`, and the commands the rewriting
    /// pointed at, one per line (`/lab/nixos/commands`).
    pub fn initrd(&self, spec: BootSpec) -> Result<BootSpec> {
        self.initrd_rewritten(spec, ToLab::default())
    }

    /// [`Self::initrd`], `to_lab` holding what was rewritten before.
    fn initrd_rewritten(&self, spec: BootSpec, mut to_lab: ToLab) -> Result<BootSpec> {
        let import = self.import_name();
        let config = toml::to_string(&self.settings).context("writing zevac.toml")?;
        let mut spec = spec
            .file(
                &format!("{UNITS}/zevac.service"),
                to_lab.rewrite(&self.zevac_unit)?,
            )
            .file(
                &format!("{UNITS}/{import}.service"),
                to_lab.rewrite(&self.import_unit)?,
            )
            .executable(
                &format!("/lab/nixos/{import}-start"),
                self.import_start(&mut to_lab)?,
            )
            .file(FSTAB, self.initrd_fstab.clone())
            .file("/etc/zevac.toml", config)
            .file("/etc/systemd/system.conf", system_conf())
            .file("/lab/systemd-unit", "initrd.target");
        let commands: Vec<&str> = to_lab.written.iter().map(String::as_str).collect();
        spec = spec.file(COMMANDS, commands.join("\n") + "\n");
        for target in &self.zevac_wanted_by {
            spec = spec.symlink(
                &format!("{UNITS}/{target}.wants/zevac.service"),
                "../zevac.service",
            );
        }
        for unit in &self.import_required_by {
            spec = spec.symlink(
                &format!("{UNITS}/{unit}.requires/{import}.service"),
                &format!("../{import}.service"),
            );
        }
        Ok(spec)
    }
}

/// The manager's settings NixOS's initrd has that the lab needs: the root's fstab for the
/// generator, and the guest's library and command paths for every unit.
fn system_conf() -> String {
    format!(
        "[Manager]\nManagerEnvironment=SYSTEMD_SYSROOT_FSTAB={FSTAB}\n\
         DefaultEnvironment=PATH=/usr/sbin:/usr/bin:/sbin:/bin \
         LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_go_and_the_rest_stays() {
        let text = "ExecStart=/nix/store/gi560i2avrbjjhsxgf7nyyk8h9j35sa3-zevac-0.1.0/bin/zevac apply /nix/store/short";
        assert_eq!(
            without_hashes(text),
            "ExecStart=/nix/store/HASH-zevac-0.1.0/bin/zevac apply /nix/store/short"
        );
    }

    #[test]
    fn the_rendering_runs_from_the_lab_guests_paths() {
        let r = Rendered::load().unwrap();
        let mut to_lab = ToLab::default();
        let unit = to_lab.rewrite(&r.zevac_unit).unwrap();
        assert!(
            unit.contains("ExecStart=/bin/zevac apply --config /etc/zevac.toml"),
            "{unit}"
        );
        let import = to_lab.rewrite(&r.import_unit).unwrap();
        assert!(
            import.contains("ExecStart=/lab/nixos/zfs-import-rpool-start"),
            "{import}"
        );
        let script = r.import_start(&mut to_lab).unwrap();
        assert!(script.contains("\"/sbin/zpool\" import -d"), "{script}");
        for text in [&unit, &import, &script] {
            for line in text.lines().filter(|l| !l.starts_with("Environment=")) {
                assert!(!line.contains("/nix/store"), "{line}");
            }
        }
        assert!(lab_path("perl-5.38", "bin/perl").is_err());
        let written: Vec<&str> = to_lab.written.iter().map(String::as_str).collect();
        assert_eq!(
            written,
            [
                "/bin/systemd-ask-password",
                "/bin/zevac",
                "/lab/nixos/zfs-import-rpool-start",
                "/sbin/zfs",
                "/sbin/zpool",
                "/usr/bin/awk"
            ]
        );
    }
}

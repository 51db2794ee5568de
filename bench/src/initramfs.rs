//! The guest's initramfs: a tree of files assembled in memory and written as a `newc` cpio archive
//! (uncompressed: the kernel unpacks it faster than it would decompress it under emulation).
//! Binaries come with the shared libraries `ldd` resolves for them.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use cpio::newc::{self, ModeFileType};

use crate::cmd;

#[derive(Debug, Clone)]
enum Node {
    Dir,
    File { source: Source, mode: u32 },
    Symlink(String),
}

#[derive(Debug, Clone)]
enum Source {
    Host(PathBuf),
    Bytes(Vec<u8>),
}

/// An initramfs under construction. Paths are absolute guest paths.
#[derive(Debug, Default, Clone)]
pub struct Initramfs {
    nodes: BTreeMap<String, Node>,
}

fn normalize(path: &str) -> String {
    path.trim_start_matches('/')
        .trim_end_matches('/')
        .to_string()
}

impl Initramfs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `path` and its parents as directories.
    pub fn dir(&mut self, path: &str) -> &mut Self {
        let path = normalize(path);
        let mut cur = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if !cur.is_empty() {
                cur.push('/');
            }
            cur.push_str(part);
            self.nodes.entry(cur.clone()).or_insert(Node::Dir);
        }
        self
    }

    fn parent_dirs(&mut self, path: &str) {
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
    }

    /// Adds a file with the given contents and permission bits.
    pub fn bytes(&mut self, path: &str, data: impl Into<Vec<u8>>, mode: u32) -> &mut Self {
        let path = normalize(path);
        self.parent_dirs(&path);
        self.nodes.insert(
            path,
            Node::File {
                source: Source::Bytes(data.into()),
                mode,
            },
        );
        self
    }

    /// Adds a copy of the host file `src` (following symlinks), keeping its permission bits.
    pub fn file(&mut self, path: &str, src: &Path) -> Result<&mut Self> {
        let meta =
            std::fs::metadata(src).with_context(|| format!("cannot read {}", src.display()))?;
        let path = normalize(path);
        self.parent_dirs(&path);
        let mode = meta.permissions().mode() & 0o7777;
        self.nodes.insert(
            path,
            Node::File {
                source: Source::Host(src.to_path_buf()),
                mode,
            },
        );
        Ok(self)
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        let path = normalize(path);
        self.parent_dirs(&path);
        self.nodes.insert(path, Node::Symlink(target.to_string()));
        self
    }

    /// Copies the host directory `src` to `dest`, keeping symlinks as symlinks.
    pub fn tree(&mut self, dest: &str, src: &Path) -> Result<&mut Self> {
        self.dir(dest);
        for entry in
            std::fs::read_dir(src).with_context(|| format!("cannot read {}", src.display()))?
        {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let guest = format!("{}/{}", dest.trim_end_matches('/'), name);
            let ty = entry.file_type()?;
            if ty.is_symlink() {
                let target = std::fs::read_link(entry.path())?;
                self.symlink(&guest, &target.to_string_lossy());
            } else if ty.is_dir() {
                self.tree(&guest, &entry.path())?;
            } else {
                self.file(&guest, &entry.path())?;
            }
        }
        Ok(self)
    }

    /// Drops `path` and everything under it.
    pub fn remove(&mut self, path: &str) -> &mut Self {
        let path = normalize(path);
        let under = format!("{path}/");
        self.nodes
            .retain(|p, _| *p != path && !p.starts_with(&under));
        self
    }

    /// Adds the ELF binary `src` at `path` with every shared library it needs. Libraries are looked
    /// up first in `lib_dirs` (unpacked guest packages), then on the host; all land in the guest's
    /// `/lib/x86_64-linux-gnu`, the loader at its own path.
    pub fn binary(&mut self, path: &str, src: &Path, lib_dirs: &[PathBuf]) -> Result<&mut Self> {
        self.file(path, src)?;
        for (guest, host) in shared_libraries(src, lib_dirs)? {
            if !self.nodes.contains_key(&normalize(&guest)) {
                self.file(&guest, &host)?;
            }
        }
        Ok(self)
    }

    /// Writes the archive. Parents sort before their children, as the kernel's unpacker needs.
    pub fn write(&self, out: &Path) -> Result<()> {
        let file = std::fs::File::create(out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        let mut w = BufWriter::new(file);
        for (ino, (path, node)) in self.nodes.iter().enumerate() {
            let b = newc::Builder::new(path)
                .ino(ino as u32 + 1)
                .uid(0)
                .gid(0)
                .nlink(1);
            w = match node {
                Node::Dir => b
                    .mode(0o755)
                    .set_mode_file_type(ModeFileType::Directory)
                    .write(w, 0)
                    .finish()?,
                Node::Symlink(target) => {
                    let mut wr = b
                        .mode(0o777)
                        .set_mode_file_type(ModeFileType::Symlink)
                        .write(w, target.len() as u32);
                    wr.write_all(target.as_bytes())?;
                    wr.finish()?
                }
                Node::File { source, mode } => {
                    let data = match source {
                        Source::Bytes(d) => d.clone(),
                        Source::Host(p) => std::fs::read(p)
                            .with_context(|| format!("cannot read {}", p.display()))?,
                    };
                    let size = u32::try_from(data.len())
                        .with_context(|| format!("{path} is over 4 GiB"))?;
                    let mut wr = b
                        .mode(*mode)
                        .set_mode_file_type(ModeFileType::Regular)
                        .write(w, size);
                    wr.write_all(&data)?;
                    wr.finish()?
                }
            };
        }
        let mut w = newc::trailer(w)?;
        w.flush()?;
        Ok(())
    }
}

/// `(guest path, host path)` of every library `ldd` resolves for `binary`.
fn shared_libraries(binary: &Path, lib_dirs: &[PathBuf]) -> Result<Vec<(String, PathBuf)>> {
    let search = std::env::join_paths(lib_dirs)?;
    let out = cmd::stdout(
        Command::new("ldd")
            .arg(binary)
            .env("LD_LIBRARY_PATH", search),
    )
    .with_context(|| format!("resolving the libraries of {}", binary.display()))?;
    parse_ldd(&out).with_context(|| format!("ldd {}", binary.display()))
}

/// Parses `ldd` output into `(guest path, host path)` pairs.
pub fn parse_ldd(text: &str) -> Result<Vec<(String, PathBuf)>> {
    let mut libs = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.contains("not found") {
            bail!("a shared library is missing: {line}");
        }
        if line.starts_with("linux-vdso") || line.contains("statically linked") || line.is_empty() {
            continue;
        }
        let host = match line.split_once(" => ") {
            Some((_, rest)) => rest.split(" (").next().unwrap_or(rest).trim(),
            None => line.split(" (").next().unwrap_or(line).trim(),
        };
        let host = PathBuf::from(host);
        let name = host
            .file_name()
            .context("ldd printed a path without a file name")?
            .to_string_lossy();
        let guest = if name.starts_with("ld-linux") {
            host.to_string_lossy().into_owned()
        } else {
            format!("/lib/x86_64-linux-gnu/{name}")
        };
        libs.push((guest, host));
    }
    Ok(libs)
}

/// `src` without its debug sections (`objcopy --strip-debug`), made once per build of it under
/// `cache_dir`: a debug build of zevac is mostly DWARF, and every byte of the archive is
/// unpacked by the emulated kernel at each boot.
pub fn stripped(src: &Path, cache_dir: &Path) -> Result<PathBuf> {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(src).with_context(|| format!("cannot read {}", src.display()))?;
    let key = Sha256::digest(format!(
        "{}\0{}\0{}\0{}",
        src.display(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec()
    ));
    let name = src
        .file_name()
        .map_or("binary".into(), |n| n.to_string_lossy());
    let out = cache_dir.join(format!("{name}-{:x}", key));
    if !out.exists() {
        std::fs::create_dir_all(cache_dir)
            .with_context(|| format!("cannot create {}", cache_dir.display()))?;
        // Earlier builds of the same binary are not booted again.
        let earlier = format!("{name}-");
        for old in std::fs::read_dir(cache_dir)?.flatten() {
            if old.file_name().to_string_lossy().starts_with(&earlier) {
                let _ = std::fs::remove_file(old.path());
            }
        }
        let part = out.with_extension("part");
        cmd::run(
            Command::new("objcopy")
                .arg("--strip-debug")
                .arg(src)
                .arg(&part),
        )
        .with_context(|| format!("stripping {}", src.display()))?;
        std::fs::rename(&part, &out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Part of `ldd zpool` for the unpacked 2.3.2 packages on a bookworm host.
    const LDD: &str = "\tlinux-vdso.so.1 (0x00007ffd5b9f2000)
\tlibzfs.so.6 => /root/.cache/zevac-lab/trees/guest/lib/x86_64-linux-gnu/libzfs.so.6 (0x00007f7d3d3e6000)
\tlibblkid.so.1 => /lib/x86_64-linux-gnu/libblkid.so.1 (0x00007f7d3d16e000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f7d3d1e1000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f7d3d47c000)
";

    #[test]
    fn ldd_output_maps_into_the_guest_lib_dir() {
        let libs = parse_ldd(LDD).unwrap();
        let guest: Vec<&str> = libs.iter().map(|(g, _)| g.as_str()).collect();
        assert_eq!(
            guest,
            [
                "/lib/x86_64-linux-gnu/libzfs.so.6",
                "/lib/x86_64-linux-gnu/libblkid.so.1",
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2"
            ]
        );
        assert!(libs[0].1.starts_with("/root/.cache"));
    }

    #[test]
    fn a_missing_library_is_an_error() {
        let err = parse_ldd("\tlibfoo.so.1 => not found\n").unwrap_err();
        assert!(err.to_string().contains("libfoo"), "{err}");
    }

    #[test]
    fn parents_are_added_and_sorted_first() {
        let mut i = Initramfs::new();
        i.bytes("/a/b/c", "x", 0o644).symlink("/a-b", "a");
        let keys: Vec<&String> = i.nodes.keys().collect();
        assert_eq!(keys, ["a", "a-b", "a/b", "a/b/c"]);
    }

    #[test]
    fn remove_drops_a_tree_and_not_its_namesakes() {
        let mut i = Initramfs::new();
        i.bytes("/u/hwdb.d/x", "x", 0o644)
            .bytes("/u/hwdb.d.keep", "y", 0o644)
            .remove("/u/hwdb.d");
        let keys: Vec<&String> = i.nodes.keys().collect();
        assert_eq!(keys, ["u", "u/hwdb.d.keep"]);
    }

    #[test]
    fn a_stripped_binary_is_smaller_and_made_once() {
        if Command::new("objcopy").arg("--version").output().is_err() {
            eprintln!("skipped: no objcopy on this host (binutils; the lab installs it)");
            return;
        }
        let exe = std::env::current_exe().unwrap();
        let dir = std::env::temp_dir().join(format!("zevac-strip-{}", std::process::id()));
        let once = stripped(&exe, &dir).unwrap();
        let size = |p: &Path| std::fs::metadata(p).unwrap().len();
        assert!(size(&once) < size(&exe), "{} bytes", size(&once));
        let made = std::fs::metadata(&once).unwrap().modified().unwrap();
        let twice = stripped(&exe, &dir).unwrap();
        assert_eq!(
            (once.clone(), made),
            (twice, std::fs::metadata(&once).unwrap().modified().unwrap())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

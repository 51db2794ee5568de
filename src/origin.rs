//! The origin: which devices reach the pool's vdev on the network disk, and which devices an
//! import looks at. In place, the pool's vdev is the EBS partition itself. Immutable (the
//! default), the pool is imported through a device-mapper snapshot of that partition whose
//! store is a partition on a local disk ([`crate::devmapper`]), so EBS is never written; how a
//! boot reaches the origin then depends on what the store says ([`Access`]).

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::config::{Config, OriginMode};
use crate::devmapper::{self, CowHeader, Dmsetup, Snapshot};
use crate::discover::{BlockDevice, Role};
use crate::exec::Executor;
use crate::layout::{CACHE_LABEL, COW_LABEL, DATA_LABEL, SPECIAL_LABEL};
use crate::zfs::{PoolStatus, TopVdev, VdevClass};

pub use crate::config::OriginMode as Mode;

/// How this boot reaches the pool's origin vdev.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// The origin partition itself: in place, or immutable before the snapshot exists (a
    /// read-only import only).
    Raw,
    /// Through `/dev/mapper/zevac-origin`.
    Snapshot,
    /// Not at all: the copy finished and the store was released; the local disks hold the pool.
    LocalOnly,
}

impl Access {
    /// Its name, as the JSON spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Snapshot => "snapshot",
            Self::LocalOnly => "local-only",
        }
    }
}

/// Looks at the store and the mapping, and re-creates the snapshot a reboot mid-copy needs:
/// the same table over the same store, never zeroed. Writes nothing anywhere else.
pub fn reach(exec: &dyn Executor, config: &Config, disks: &[BlockDevice]) -> Result<Access> {
    if config.origin.mode == OriginMode::InPlace {
        return Ok(Access::Raw);
    }
    let dm = Dmsetup::new(exec);
    if dm.exists(devmapper::SNAPSHOT_NAME)? {
        return Ok(Access::Snapshot);
    }
    let Some(cow) = cow_partition(disks) else {
        return Ok(Access::Raw);
    };
    match devmapper::read_cow_header(&cow)? {
        CowHeader::Blank => Ok(Access::Raw),
        CowHeader::Released => Ok(Access::LocalOnly),
        CowHeader::Snapshot { valid: false } => bail!(
            "the copy-on-write store {cow} of the immutable origin is invalid (it filled up): \
             the pool's changes since its first boot on these local disks are lost, EBS is \
             unchanged. Wipe the local disks to start again from EBS"
        ),
        CowHeader::Snapshot { valid: true } => {
            let snapshot = snapshot_of(exec, config, disks, &cow)?;
            tracing::info!(table = %snapshot.table(), "re-creating the origin's snapshot over its store");
            dm.create(devmapper::SNAPSHOT_NAME, &snapshot.table())?;
            set_read_only(exec, &snapshot)?;
            crate::faults::after("snapshot")?;
            Ok(Access::Snapshot)
        }
    }
}

/// Marks the origin partition and its disk read-only: nothing may write EBS behind the
/// snapshot's back (the kernel's read-only flag; the next boot starts without it).
pub fn set_read_only(exec: &dyn Executor, snapshot: &Snapshot) -> Result<()> {
    for cmd in snapshot.read_only_commands() {
        exec.check(&cmd)?;
    }
    Ok(())
}

/// The snapshot over store `cow` for the origin partition holding pool `config.pool`: the one
/// partition on an origin disk libblkid calls a `zfs_member` labelled with the pool's name.
fn snapshot_of(
    exec: &dyn Executor,
    config: &Config,
    disks: &[BlockDevice],
    cow: &str,
) -> Result<Snapshot> {
    let mut found = Vec::new();
    for d in disks.iter().filter(|d| d.role == Role::Origin) {
        let candidates: Vec<(String, u64)> = if d.partitions.is_empty() {
            vec![(d.stable_path().to_string(), d.size_bytes)]
        } else {
            d.partitions
                .iter()
                .map(|p| (p.paths[0].clone(), p.size_bytes))
                .collect()
        };
        for (path, bytes) in candidates {
            if holds_pool(exec, &path, &config.pool)? {
                found.push(Snapshot {
                    origin: path,
                    origin_disk: d.stable_path().to_string(),
                    cow: cow.to_string(),
                    sectors: bytes / 512,
                });
            }
        }
    }
    match found.len() {
        1 if found[0].sectors == 0 => bail!("cannot read the size of {}", found[0].origin),
        1 => Ok(found.remove(0)),
        0 => bail!(
            "the store {cow} holds a snapshot, but no origin partition holds pool {}",
            config.pool
        ),
        _ => bail!("more than one origin partition holds pool {}", config.pool),
    }
}

/// Once the copy is done ZFS has closed the origin: removes the snapshot and marks its store
/// released, so no later boot loads it (they import from the local disks alone). Returns the
/// store released, if there is one. Safe to repeat.
pub fn release(exec: &dyn Executor, disks: &[BlockDevice]) -> Result<Option<String>> {
    let dm = Dmsetup::new(exec);
    if dm.exists(devmapper::SNAPSHOT_NAME)? {
        dm.remove(devmapper::SNAPSHOT_NAME)?;
    }
    let Some(cow) = cow_partition(disks) else {
        return Ok(None);
    };
    if devmapper::read_cow_header(&cow)? != CowHeader::Released {
        devmapper::release_cow(&cow)?;
        tracing::info!(store = %cow, "the origin's snapshot is removed and its store released");
    }
    Ok(Some(cow))
}

/// What [`give_back`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GiveBack {
    /// No snapshot (or the in-place mode): the pool is reached on EBS as it is.
    NoSnapshot,
    /// No snapshot, and zevac's read-only probe import was still there (a kill before its
    /// export): exported, so the boot's own import imports the pool writable.
    ProbeExported,
    /// A local disk is in the pool already: its state is on the local disks and in the store,
    /// so the snapshot stays (the next `zevac apply` carries on from there). `guarded`: the
    /// snapshot vdev takes no new blocks (its removal runs or is done, or it is not allocating),
    /// so the store holds labels only; `false` where zevac could not get there (2.1 when ZFS
    /// refuses the removal, or a pool zevac could not import through the snapshot).
    Kept { guarded: bool },
    /// The snapshot is gone, its store's header zeroed and EBS writable again; the pool was
    /// exported first when `exported`.
    Undone { exported: bool },
}

impl GiveBack {
    pub fn describe(self) -> &'static str {
        match self {
            Self::NoSnapshot => "no snapshot: EBS is as the boot's own import expects it",
            Self::ProbeExported => {
                "zevac's read-only probe import was still there: exported, so the boot's own \
                 import imports the pool writable"
            }
            Self::Kept { guarded: true } => {
                "the local disks are in the pool: the snapshot stays, takes no new blocks, and \
                 zevac watch or the next zevac apply carries on from here"
            }
            Self::Kept { guarded: false } => {
                "the local disks are in the pool: the snapshot stays, but zevac could not stop \
                 ZFS writing new blocks to it; if its store fills, the pool suspends: run zevac \
                 apply again"
            }
            Self::Undone { .. } => {
                "zevac removed its snapshot before the local disks joined the pool and left the \
                 pool exported on EBS: the boot's own import finds it there, and writes EBS (the \
                 immutable origin is given up for this boot)"
            }
        }
    }
}

/// After zevac failed or was killed in the initrd: gives the boot its pool on EBS back whenever
/// no local disk has joined the pool yet. Until then the snapshot's store would be the pool's
/// only write target (a full store invalidates the snapshot and suspends the pool), and the
/// raw EBS partition is held by the mapping where the boot's own import looks for it. So:
/// export the pool if it is imported, remove the mapping, zero the store's header (a later boot
/// must not load a snapshot of an EBS this boot's import goes on to write), and clear the
/// read-only flags. What that costs: the fallback import writes EBS. Safe to repeat.
/// `tunables` pauses the copy around an import here, as `apply`'s own imports do.
pub fn give_back(
    exec: &dyn Executor,
    config: &Config,
    disks: &[BlockDevice],
    tunables: &crate::tunables::Tunables,
) -> Result<GiveBack> {
    let zpool = crate::zfs::Zpool::new(exec);
    let probe_exported = export_probe_import(&zpool, &config.pool)?;
    let dm = Dmsetup::new(exec);
    if config.origin.mode == OriginMode::InPlace || !dm.exists(devmapper::SNAPSHOT_NAME)? {
        return Ok(if probe_exported {
            GiveBack::ProbeExported
        } else {
            GiveBack::NoSnapshot
        });
    }
    let imported = zpool.is_imported(&config.pool)?;
    if imported {
        let version = zpool.version()?;
        let status = zpool.status(&config.pool, version)?;
        let joined = status.vdevs.iter().any(|v| {
            v.leaves.iter().any(|l| {
                disks
                    .iter()
                    .any(|d| d.role == Role::Local && d.owns_path(l))
            })
        });
        if joined {
            let guarded = guard_snapshot_vdev(&zpool, &config.pool, version, &status);
            return Ok(GiveBack::Kept { guarded });
        }
    } else if locals_carry_pool(exec, config, disks)? {
        // The boot's own import cannot reach the pool (the snapshot has no by-id link where
        // NixOS looks, and EBS is held by it): import it here, through the snapshot, with the
        // copy paused (its removal is running, and an unpaused import carries it on inside
        // itself, holding the boot for the copy; the lab saw it).
        let devices = Origin::new(config, disks).import_devices(disks, Access::Snapshot);
        let import = tunables.with_removal_paused(|| zpool.import(&config.pool, &devices, false));
        if let Err(e) = import {
            tracing::error!("cannot import {} through the snapshot: {e:#}", config.pool);
            return Ok(GiveBack::Kept { guarded: false });
        }
        let version = zpool.version()?;
        let status = zpool.status(&config.pool, version)?;
        let guarded = guard_snapshot_vdev(&zpool, &config.pool, version, &status);
        return Ok(GiveBack::Kept { guarded });
    }
    if imported {
        zpool
            .export(&config.pool)
            .context("exporting the pool imported through the snapshot")?;
    }
    dm.remove(devmapper::SNAPSHOT_NAME)?;
    if let Some(cow) = cow_partition(disks) {
        devmapper::zero_cow_header(&cow)?;
    }
    for d in disks.iter().filter(|d| d.role == Role::Origin) {
        let devices = std::iter::once(d.stable_path().to_string())
            .chain(d.partitions.iter().map(|p| p.paths[0].clone()));
        for dev in devices {
            exec.check(&crate::blockdev::set_read_write(&dev))
                .with_context(|| format!("making {dev} writable again"))?;
        }
    }
    Ok(GiveBack::Undone { exported: imported })
}

/// The origin vdev whose removal has not started though zevac's local disks are in the pool
/// with it: the initrd stopped short of `zpool remove` (a crash, or ZFS refusing it, when the
/// fall-back stops allocations on it instead). `zevac watch` and the next `zevac apply` start
/// the removal. Its path, as the pool names it.
pub fn pending_removal(
    config: &Config,
    disks: &[BlockDevice],
    status: &PoolStatus,
) -> Option<String> {
    if status.removal.is_some() {
        return None;
    }
    let [vdev] = Origin::new(config, disks).vdevs(status)[..] else {
        return None;
    };
    let local = |leaf: &String| {
        disks
            .iter()
            .any(|d| d.role == Role::Local && d.owns_path(leaf))
    };
    let joined = status
        .vdevs
        .iter()
        .any(|v| v.class == VdevClass::Normal && v.leaves.iter().any(local));
    joined.then(|| vdev.path.clone().unwrap_or_else(|| vdev.name.clone()))
}

/// Makes sure the snapshot vdev of a pool that has its local disks takes no new blocks: its
/// removal running or done, else started now, else (2.2+) `allocating=off`. Whether it does.
fn guard_snapshot_vdev(
    zpool: &crate::zfs::Zpool,
    pool: &str,
    version: crate::zfs::ZfsVersion,
    status: &PoolStatus,
) -> bool {
    use crate::zfs::RemovalState;
    let Some(vdev) = status
        .vdevs
        .iter()
        .find(|v| v.path.as_deref().is_some_and(Origin::is_snapshot))
    else {
        return true; // gone: the copy is done
    };
    if vdev.removing
        || status
            .removal
            .as_ref()
            .is_some_and(|r| r.state == RemovalState::InProgress)
    {
        return true;
    }
    let path = vdev.path.clone().unwrap_or_default();
    let removal = crate::faults::instead_of("guard", "starting the removal")
        .and_then(|()| zpool.remove(pool, &path));
    match removal {
        Ok(()) => return true,
        Err(e) => tracing::error!("cannot start the removal of {path}: {e:#}"),
    }
    if !version.has_vdev_props() {
        return false;
    }
    zpool
        .stop_allocating(pool, &path)
        .map_err(|e| tracing::error!("cannot stop allocations on {path}: {e:#}"))
        .is_ok()
}

/// Exports the pool if it is imported read-only: zevac's probe import, left by a kill before its
/// export. The boot's own import skips a pool that is imported, so the root would come up
/// read-only. Whether it exported one.
fn export_probe_import(zpool: &crate::zfs::Zpool, pool: &str) -> Result<bool> {
    if !zpool.is_imported(pool)? || zpool.properties(pool)?.get("readonly") != Some("on") {
        return Ok(false);
    }
    zpool
        .export(pool)
        .context("exporting zevac's read-only probe import")?;
    Ok(true)
}

/// Whether one of zevac's local partitions carries a ZFS label of the pool (what `zpool add`
/// writes first): read with `blkid -p`, for a pool that is not imported.
fn locals_carry_pool(exec: &dyn Executor, config: &Config, disks: &[BlockDevice]) -> Result<bool> {
    for p in disks
        .iter()
        .filter(|d| d.role == Role::Local)
        .flat_map(|d| &d.partitions)
        .filter(|p| {
            matches!(
                p.label.as_deref(),
                Some(DATA_LABEL | SPECIAL_LABEL | CACHE_LABEL)
            )
        })
    {
        if holds_pool(exec, &p.paths[0], &config.pool)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether libblkid calls `path` a `zfs_member` labelled with `pool`'s name.
fn holds_pool(exec: &dyn Executor, path: &str, pool: &str) -> Result<bool> {
    let fields = crate::discover::probe(exec, path)?.unwrap_or_default();
    Ok(fields.get("TYPE").map(String::as_str) == Some("zfs_member")
        && fields.get("LABEL").map(String::as_str) == Some(pool))
}

/// Bytes read so far from the disk under the origin vdev `path`, from sysfs under `sys`: the
/// EBS disk itself, or the one under the immutable origin's snapshot (its table's origin,
/// looked up once into `snapshot_origin`: the snapshot device's own counters move in jumps of
/// about 100 MiB). `None` where there is no counter to read.
pub fn read_counter(
    exec: &dyn Executor,
    sys: &std::path::Path,
    path: &str,
    snapshot_origin: &mut Option<String>,
) -> Option<u64> {
    if Origin::is_snapshot(path) {
        if snapshot_origin.is_none() {
            *snapshot_origin = Dmsetup::new(exec)
                .snapshot_origin(devmapper::SNAPSHOT_NAME)
                .ok();
        }
        crate::discover::sysfs::device_number_bytes_read(sys, snapshot_origin.as_deref()?)
    } else {
        crate::discover::sysfs::disk_bytes_read(sys, path)
    }
}

/// The immutable origin's store: the local partition named `zevac-cow`, if any.
pub fn cow_partition(disks: &[BlockDevice]) -> Option<String> {
    disks
        .iter()
        .filter(|d| d.role == Role::Local)
        .flat_map(|d| &d.partitions)
        .find(|p| p.label.as_deref() == Some(COW_LABEL))
        .map(|p| p.paths[0].clone())
}

/// The origin disks of a machine, seen through a [`Mode`].
#[derive(Debug, Clone)]
pub struct Origin {
    pub mode: Mode,
    /// Stable paths of the origin disks.
    pub disks: Vec<String>,
    /// Every path that names an origin disk or one of its partitions.
    paths: Vec<String>,
    /// What `zpool import -d` should look at on the origin side when reached raw.
    import: Vec<String>,
}

impl Origin {
    /// The origin of the machine `disks` describe, as the configuration wants it reached.
    pub fn new(config: &Config, disks: &[BlockDevice]) -> Self {
        let origins: Vec<&BlockDevice> = disks.iter().filter(|d| d.role == Role::Origin).collect();
        let mut paths = Vec::new();
        let mut import = Vec::new();
        for d in &origins {
            paths.extend(d.paths.iter().cloned());
            for p in &d.partitions {
                paths.extend(p.paths.iter().cloned());
            }
            if d.partitions.is_empty() {
                import.push(d.stable_path().to_string());
            } else {
                import.extend(d.partitions.iter().map(|p| p.paths[0].clone()));
            }
        }
        // The snapshot is the origin seen through the store, whichever the mode now.
        paths.extend([
            devmapper::SNAPSHOT_PATH.into(),
            devmapper::SNAPSHOT_BY_ID.into(),
        ]);
        Self {
            mode: config.origin.mode,
            disks: origins
                .iter()
                .map(|d| d.stable_path().to_string())
                .collect(),
            paths,
            import,
        }
    }

    /// Whether any origin disk was found.
    pub fn found(&self) -> bool {
        !self.disks.is_empty()
    }

    /// Whether `path` reaches the origin.
    pub fn owns(&self, path: &str) -> bool {
        self.paths.iter().any(|p| p == path)
    }

    /// Whether `path` is the origin's snapshot.
    pub fn is_snapshot(path: &str) -> bool {
        path == devmapper::SNAPSHOT_PATH || path == devmapper::SNAPSHOT_BY_ID
    }

    /// Normal-class top-level vdevs with a leaf on the origin.
    pub fn vdevs<'a>(&self, status: &'a PoolStatus) -> Vec<&'a TopVdev> {
        status
            .vdevs
            .iter()
            .filter(|v| v.class == VdevClass::Normal && v.leaves.iter().any(|l| self.owns(l)))
            .collect()
    }

    /// Devices `zpool import -d` should look at: the origin as `access` reaches it, and zevac's
    /// partitions on local disks. Nothing else, so a stray pool elsewhere is never picked up.
    pub fn import_devices(&self, disks: &[BlockDevice], access: Access) -> Vec<String> {
        let zevac = |p: &&crate::discover::Partition| {
            matches!(
                p.label.as_deref(),
                Some(DATA_LABEL | SPECIAL_LABEL | CACHE_LABEL)
            )
        };
        let origin = match access {
            Access::Raw => self.import.clone(),
            Access::Snapshot => vec![devmapper::SNAPSHOT_PATH.to_string()],
            Access::LocalOnly => Vec::new(),
        };
        let local = disks
            .iter()
            .filter(|d| d.role == Role::Local)
            .flat_map(|d| {
                d.partitions
                    .iter()
                    .filter(zevac)
                    .map(|p| p.paths[0].clone())
            });
        origin.into_iter().chain(local).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OriginMode;
    use crate::exec::{FakeExecutor, Output};
    use crate::testing::{fixture, recorded_disks, scratch};

    const EBS_PART: &str =
        "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0b2bbaafa22850faa-part2";

    /// The recorded machine, with a `zevac-cow` partition (a scratch file holding `header`) on
    /// its first instance store and the EBS partition's size from the recorded `blkid -p`
    /// (`PART_ENTRY_SIZE`; the sysfs recording has no partition sizes).
    fn machine_with_store(header: Option<&[u8]>) -> (Vec<BlockDevice>, String) {
        let mut disks = recorded_disks("2.3.2");
        let blkid = fixture("2.3.2", "blkid_origin.stdout");
        let sectors: u64 = blkid
            .lines()
            .find_map(|l| l.strip_prefix("PART_ENTRY_SIZE="))
            .unwrap()
            .parse()
            .unwrap();
        for d in disks.iter_mut().filter(|d| d.role == Role::Origin) {
            // Only the pool's partition: `blkid -p` of the ESP was not recorded.
            d.partitions
                .retain(|p| p.paths.iter().any(|q| q == EBS_PART));
            for p in &mut d.partitions {
                p.size_bytes = sectors * 512;
            }
        }
        let store = scratch().join("cow");
        let mut data = header.map(<[u8]>::to_vec).unwrap_or_default();
        data.resize(8192, 0);
        std::fs::write(&store, data).unwrap();
        let store = store.to_string_lossy().into_owned();
        if header.is_some() {
            let local = disks.iter_mut().find(|d| d.role == Role::Local).unwrap();
            local.partitions.push(crate::discover::Partition {
                name: format!("{}p2", local.name),
                number: 2,
                label: Some(COW_LABEL.into()),
                size_bytes: 256 << 20,
                paths: vec![store.clone()],
            });
        }
        (disks, store)
    }

    /// `dmsetup info` of a missing mapping exits 1 (lab), of a present one 0.
    fn executor(mapping: bool) -> FakeExecutor {
        let mut exec = FakeExecutor::new();
        exec.expect(
            "dmsetup info zevac-origin",
            Output::with(i32::from(!mapping), ""),
        );
        exec
    }

    /// Recorded states of the lab's pool: with the instance stores added and no removal, the
    /// EBS partition's removal is pending; on EBS alone, removing, removed or canceled it is
    /// not (ZFS's removal record says where it stands then).
    #[test]
    fn a_removal_is_pending_once_the_locals_joined_and_until_it_starts() {
        // The recording's disks are from before the add: give each instance store the
        // partition `zpool add` made on it, as the recorded status names it.
        let mut disks = recorded_disks("2.3.2");
        for d in disks.iter_mut().filter(|d| d.role == Role::Local) {
            d.partitions.push(crate::discover::Partition {
                name: format!("{}p1", d.name),
                number: 1,
                label: None,
                size_bytes: 0,
                paths: vec![format!("{}-part1", d.stable_path())],
            });
        }
        let config = Config::default();
        let state = |name: &str| {
            let json = fixture("2.3.2", &format!("{name}_status_json.stdout"));
            crate::zfs::status::from_json(&json, "rpool").unwrap()
        };
        assert_eq!(
            pending_removal(&config, &disks, &state("added")).as_deref(),
            Some(EBS_PART)
        );
        for name in ["imported", "removing", "finished", "canceled"] {
            assert_eq!(
                pending_removal(&config, &disks, &state(name)),
                None,
                "{name}"
            );
        }
        // Without the disks, nothing on the pool is known to be the origin or zevac's.
        assert_eq!(pending_removal(&config, &[], &state("added")), None);
    }

    #[test]
    fn access_names_are_the_json_names() {
        for a in [Access::Raw, Access::Snapshot, Access::LocalOnly] {
            assert_eq!(serde_json::to_value(a).unwrap(), a.name());
        }
    }

    #[test]
    fn in_place_reaches_the_origin_raw_and_asks_nothing() {
        let mut config = Config::default();
        config.origin.mode = OriginMode::InPlace;
        let (disks, _) = machine_with_store(Some(b"SnAp\x01\0\0\0"));
        let exec = FakeExecutor::new();
        assert_eq!(reach(&exec, &config, &disks).unwrap(), Access::Raw);
        assert!(exec.asked().is_empty());
    }

    #[test]
    fn the_store_decides_how_a_boot_reaches_the_origin() {
        let config = Config::default();
        for (header, access) in [
            (None, Access::Raw),
            (Some(&[0u8; 16][..]), Access::Raw),
            (
                Some(
                    &b"ZEVAC-RELEASED: the copy off the origin finished; this store is unused\n"[..],
                ),
                Access::LocalOnly,
            ),
        ] {
            let (disks, _) = machine_with_store(header);
            // Only `dmsetup info`: nothing is created.
            let exec = executor(false);
            assert_eq!(reach(&exec, &config, &disks).unwrap(), access, "{header:?}");
        }
        // A mapping made earlier in this boot is used as it is.
        let (disks, _) = machine_with_store(Some(b"SnAp\x01\0\0\0"));
        let exec = executor(true);
        assert_eq!(reach(&exec, &config, &disks).unwrap(), Access::Snapshot);
        assert_eq!(exec.asked(), ["dmsetup info zevac-origin"]);
    }

    /// A reboot mid-copy: the same snapshot over the same store, never zeroed, then EBS read-only.
    /// `blkid -p` of the EBS partition is the recorded one.
    #[test]
    fn a_valid_store_gets_its_snapshot_back_unzeroed() {
        let (disks, store) = machine_with_store(Some(b"SnAp\x01\0\0\0\x01\0\0\0\x08\0\0\0"));
        let mut exec = executor(false);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("bench/fixtures/zfs-2.3.2/states");
        exec.expect_recorded(
            &format!("blkid -p -o export {EBS_PART}"),
            &dir,
            "blkid_origin",
        )
        .unwrap();
        let table = format!("0 2097152 snapshot {EBS_PART} {store} P 8");
        let ebs_disk = EBS_PART.trim_end_matches("-part2");
        for cmd in [
            format!("dmsetup create --noudevsync zevac-origin --table '{table}'"),
            "dmsetup mknodes zevac-origin".into(),
            format!("blockdev --setro {EBS_PART}"),
            format!("blockdev --setro {ebs_disk}"),
        ] {
            exec.expect(&cmd, Output::with(0, ""));
        }
        assert_eq!(
            reach(&exec, &Config::default(), &disks).unwrap(),
            Access::Snapshot
        );
        assert!(
            std::fs::read(&store).unwrap().starts_with(b"SnAp\x01"),
            "the store was not zeroed"
        );
    }

    #[test]
    fn an_invalid_store_is_an_error_that_says_ebs_is_unchanged() {
        let (disks, _) = machine_with_store(Some(b"SnAp\0\0\0\0"));
        let err = format!(
            "{:#}",
            reach(&executor(false), &Config::default(), &disks).unwrap_err()
        );
        assert!(
            err.contains("invalid") && err.contains("EBS is unchanged"),
            "{err}"
        );
    }
}

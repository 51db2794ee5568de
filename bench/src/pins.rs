//! Which versions a lab runs: the resolution recorded beside a finished build when there is one
//! (it is used even once the mirror no longer offers those versions), else a new resolution from
//! the mirror ([`crate::resolve`]).

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::versions::{PairPins, ZfsPair};
use crate::{apt, cache, kernel, resolve};

/// Set to `1` to resolve from the mirror even when a build is cached (`lab setup --refresh`).
pub const REFRESH_ENV: &str = "ZEVAC_LAB_REFRESH";

/// Where the resolution behind a finished build of `pair` is kept.
fn record_path(pair: ZfsPair) -> PathBuf {
    cache::root()
        .join("resolved")
        .join(format!("zfs-{pair}.json"))
}

/// The mirror's answer behind the newest resolution, for a unit test to replay.
fn madison_path(pair: ZfsPair) -> PathBuf {
    record_path(pair).with_extension("madison.txt")
}

/// Whether `ZEVAC_LAB_REFRESH` asks for a new resolution.
pub fn refresh_from_env() -> bool {
    std::env::var(REFRESH_ENV).is_ok_and(|v| v == "1")
}

/// The recorded resolution of `pair`, if its build is still complete in the cache.
pub fn cached(pair: ZfsPair) -> Option<PairPins> {
    let text = std::fs::read_to_string(record_path(pair)).ok()?;
    let pins: PairPins = serde_json::from_str(&text).ok()?;
    (pins.pair == pair && kernel::is_cached(&pins)).then_some(pins)
}

/// Resolves `pair` from the mirror's package lists (refreshed first when we are root); also
/// returns apt's answer.
pub fn from_mirror(pair: ZfsPair) -> Result<(PairPins, String)> {
    if nix::unistd::geteuid().is_root() {
        apt::apt_update()?;
    } else {
        tracing::warn!("not root: resolving from apt's package lists as they are");
    }
    let series = pair.series();
    let (offers, madison) = apt::offers(&series)?;
    let pins = resolve::resolve(&series, &offers)
        .with_context(|| format!("resolving the versions of the OpenZFS {pair} pair"))?;
    Ok((pins, madison))
}

/// The pins for `pair`: the cached build's unless `refresh`, else resolved from the mirror.
pub fn choose(pair: ZfsPair, refresh: bool) -> Result<PairPins> {
    if !refresh {
        if let Some(pins) = cached(pair) {
            if pins.has_guest_common() {
                tracing::info!(versions = %pins.summary(), "using the cached build");
                return Ok(pins);
            }
            // The guest's user space grew since that build: resolve it again, and keep the
            // build's kernel and OpenZFS (their modules are built).
            let (fresh, _) = from_mirror(pair)?;
            tracing::info!(versions = %pins.summary(), "using the cached build, with the guest's packages resolved again");
            return Ok(PairPins {
                guest_common: fresh.guest_common,
                ..pins
            });
        }
    }
    let (pins, madison) = from_mirror(pair)?;
    tracing::info!(versions = %pins.summary(), "resolved from the mirror");
    let dir = cache::dir(cache::root().join("resolved"))?;
    cache::write_atomic(&madison_path(pair), madison.as_bytes())
        .with_context(|| format!("keeping apt's answer in {}", dir.display()))?;
    Ok(pins)
}

/// Records `pins` as the resolution behind a finished build.
pub fn record(pins: &PairPins) -> Result<()> {
    cache::dir(cache::root().join("resolved"))?;
    let json = serde_json::to_string_pretty(pins)?;
    cache::write_atomic(&record_path(pins.pair), json.as_bytes())
}

//! Pool properties from `zpool get -Hp all POOL`.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};

/// The properties zevac reads, and all others by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolProps {
    values: BTreeMap<String, String>,
}

impl PoolProps {
    pub fn parse(text: &str) -> Result<Self> {
        let mut values = BTreeMap::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != 4 {
                bail!("unexpected `zpool get` line {line:?}");
            }
            values.insert(f[1].to_string(), f[2].to_string());
        }
        Ok(Self { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// `feature@device_removal` is `enabled` or `active` (not `disabled`, not missing).
    pub fn device_removal_available(&self) -> bool {
        matches!(
            self.get("feature@device_removal"),
            Some("enabled" | "active")
        )
    }

    /// Whether any dataset is encrypted: `feature@encryption` is `active` from the first
    /// encrypted dataset on (zpool-features(7)); only then can a key be missing.
    pub fn encryption_active(&self) -> bool {
        self.get("feature@encryption") == Some("active")
    }

    /// Bytes held by a checkpoint, if there is one (`checkpoint` is `-` without).
    pub fn checkpoint_bytes(&self) -> Result<Option<u64>> {
        match self
            .get("checkpoint")
            .context("`zpool get` has no checkpoint property")?
        {
            "-" => Ok(None),
            v => Ok(Some(
                v.parse().with_context(|| format!("checkpoint {v:?}"))?,
            )),
        }
    }

    /// The pool's `ashift` property (the default for new vdevs; 0 = auto).
    pub fn ashift(&self) -> Option<u32> {
        self.get("ashift")?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;

    #[test]
    fn checkpoint_and_features() {
        let plain = PoolProps::parse(&fixture("2.3.2", "imported_get.stdout")).unwrap();
        assert_eq!(plain.checkpoint_bytes().unwrap(), None);
        assert!(plain.device_removal_available());
        assert_eq!(plain.ashift(), Some(12));
        let cp = PoolProps::parse(&fixture("2.3.2", "checkpointed_get.stdout")).unwrap();
        assert_eq!(cp.checkpoint_bytes().unwrap(), Some(147456), "as recorded");
    }
}

//! ZFS's debug log (`/proc/spl/kstat/zfs/dbgmsg`). It is the only place where ZFS says why it
//! canceled a removal: `zpool status` shows the cancellation, not its cause.

use std::fmt;

/// What ZFS logged when it canceled a removal because of I/O errors
/// (`module/zfs/vdev_removal.c`, `spa_vdev_remove_thread`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovalIoErrors {
    /// Bytes the copy could not read from the vdev being removed.
    pub read_error_bytes: u64,
    /// Bytes it could not write to the vdevs that receive the data.
    pub write_error_bytes: u64,
}

impl fmt::Display for RemovalIoErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ZFS logged \"canceling removal due to IO errors\": {} bytes could not be read from the origin, {} bytes could not be written to the new disks",
            self.read_error_bytes, self.write_error_bytes
        )
    }
}

/// The last removal cancellation for I/O errors in the log's text, if any; with `since`
/// (epoch seconds: the removal's start), only one logged at or after it, so an earlier
/// removal's errors are not blamed for this one's end.
pub fn last_removal_io_errors(log: &str, since: Option<u64>) -> Option<RemovalIoErrors> {
    let logged_at = |l: &str| l.split_whitespace().next()?.parse::<u64>().ok();
    let line = log.lines().rev().find(|l| {
        l.contains("canceling removal due to IO errors")
            && since.is_none_or(|s| logged_at(l).is_some_and(|t| t >= s))
    })?;
    let field = |name: &str| -> Option<u64> {
        let rest = &line[line.find(&format!("[{name}="))? + name.len() + 2..];
        rest[..rest.find(']')?].parse().ok()
    };
    Some(RemovalIoErrors {
        read_error_bytes: field("read_error_bytes")?,
        write_error_bytes: field("write_error_bytes")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture_in;

    /// Recorded in the lab: a bad sector on EBS (QEMU blkdebug) under a running removal.
    #[test]
    fn finds_the_cancellation_zfs_logged() {
        let log = fixture_in("2.3.2", "io-error", "dbgmsg.stdout");
        let found = Some(RemovalIoErrors {
            read_error_bytes: 6934528,
            write_error_bytes: 0,
        });
        assert_eq!(last_removal_io_errors(&log, None), found);
        // The removal started at 1795400894 (`started_at` in the same run's `zevac status`).
        assert_eq!(last_removal_io_errors(&log, Some(1795400894)), found);
        assert_eq!(last_removal_io_errors(&log, Some(1795400912)), None);
        let before: String = log
            .lines()
            .take_while(|l| !l.contains("canceling removal"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(last_removal_io_errors(&before, None), None);
    }
}

//! `blockdev`, `wipefs` and `udevadm`: the kernel's view of a block device (its read-only flag,
//! its partition table) and udev's links, as commands.

use crate::exec::Cmd;

/// `blockdev --setro DEV`: the kernel refuses writes to `dev` until `--setrw` or the next boot.
pub fn set_read_only(dev: &str) -> Cmd {
    Cmd::new("blockdev").args(["--setro", dev])
}

/// `blockdev --setrw DEV`.
pub fn set_read_write(dev: &str) -> Cmd {
    Cmd::new("blockdev").args(["--setrw", dev])
}

/// `blockdev --rereadpt DISK`: the kernel reads the disk's new partition table.
pub fn reread_partitions(disk: &str) -> Cmd {
    Cmd::new("blockdev").args(["--rereadpt", disk])
}

/// `wipefs --all DISK`: erases every signature libblkid finds on the disk.
pub fn wipe_signatures(disk: &str) -> Cmd {
    Cmd::new("wipefs").args(["--all", disk])
}

/// `udevadm settle --timeout=30`: waits for udev to handle the events queued so far.
pub fn udev_settle() -> Cmd {
    Cmd::new("udevadm").args(["settle", "--timeout=30"])
}

/// `blkid -p -o export DEV`: a low-level probe of the signatures on `dev`.
pub fn probe(dev: &str) -> Cmd {
    Cmd::new("blkid").args(["-p", "-o", "export", dev])
}

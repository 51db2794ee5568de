# The EBS volume has a bad sector late in the data. ZFS's copy cannot read it and cancels the
# removal; zevac watch says so with ZFS's reason and restores the tunables. The pool stays
# imported on its origin, and every file but the one on the bad sector is intact.
P=/sys/module/zfs/parameters
read_params() { run "$1" sh -c "cd $P && grep -H . zfs_vdev_removal_max_active zfs_vdev_removal_min_active zfs_removal_suspend_progress"; }
read_params params_before
run apply zevac apply
run watch zevac watch
read_params params_after
run status zevac status --json
run status_human zevac status
run zstatus zpool status -v rpool
run dbgmsg sh -c 'grep "removal" /proc/spl/kstat/zfs/dbgmsg | tail -n 20'
mount_pool rpool /mnt ro || die "cannot mount rpool"
run verify_all sh -c 'cd /mnt && md5sum -c /lab/manifest.md5 2>&1 | grep -v ": OK$"'
umount_pool /mnt
true

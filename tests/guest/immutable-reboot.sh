# Immutable origin, a reboot after the copy: the store says released, so zevac imports the pool
# from the instance stores alone; no snapshot, nothing read from EBS but the probe.
run apply zevac apply
run status zevac status --json
run zstatus zpool status -P rpool
run dm_ls dmsetup ls
verify_manifest rpool
mount_pool rpool /mnt ro || die "cannot mount pool rpool"
run new_file cat /mnt/var/zevac-new
umount_pool /mnt || die "cannot unmount pool rpool"
must export zpool export rpool

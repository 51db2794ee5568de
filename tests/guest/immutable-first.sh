# Immutable origin, first boot: zevac imports the pool through a snapshot of the EBS partition
# (its store on the first instance store), adds the instance stores and removes the snapshot
# vdev. A file is written while the copy runs; the watcher then verifies the copy, removes the
# snapshot and releases its store.
run apply zevac apply
run plan_applied zevac plan --json
run dm_table dmsetup table zevac-origin
run dm_status_applied dmsetup status zevac-origin
run status_applied zevac status --json
mount_pool rpool /mnt || die "cannot mount pool rpool"
must new_file sh -c 'echo "written in the first boot" > /mnt/var/zevac-new && sync'
umount_pool /mnt || die "cannot unmount pool rpool"
must wait zpool wait -t remove rpool
run dm_status_copied dmsetup status zevac-origin
run watch zevac watch
run status_done zevac status --json
run dm_ls dmsetup ls
must export zpool export rpool

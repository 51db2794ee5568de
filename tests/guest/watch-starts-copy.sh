# watch.starts_copy, as the NixOS module boots: apply starts the removal with the copy held, the
# root mounts with EBS to itself, and no watcher comes; the next boot's apply (an export and a
# new apply here) keeps it held; then `zevac watch` starts the copy and takes it to the end.
run apply zevac apply
must mount_root mount_pool rpool /mnt
run read_mounted ebs_read_bytes
sleep 6
run read_later ebs_read_bytes
run status_held zevac status --json
run status_held_text zevac status
umount_pool /mnt
must export zpool export rpool
run apply_again zevac apply
run read_again ebs_read_bytes
sleep 4
run read_again_later ebs_read_bytes
run suspend_held cat /sys/module/zfs/parameters/zfs_removal_suspend_progress
run watch zevac watch
run copy_start cat /run/zevac/copy-start.json
run status_done zevac status --json
run suspend_after cat /sys/module/zfs/parameters/zfs_removal_suspend_progress
verify_manifest rpool

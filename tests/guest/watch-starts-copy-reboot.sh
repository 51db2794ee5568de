# watch.starts_copy, the boot after one whose watcher never came: the module parameters and
# /run/zevac are new, the removal is running; apply imports it paused and holds it again; then
# `zevac watch` starts the copy and takes it to the end.
run apply zevac apply
run read_again ebs_read_bytes
sleep 4
run read_again_later ebs_read_bytes
run suspend_held cat /sys/module/zfs/parameters/zfs_removal_suspend_progress
run status_again zevac status --json
run watch zevac watch
run copy_start cat /run/zevac/copy-start.json
run status_done zevac status --json
run suspend_after cat /sys/module/zfs/parameters/zfs_removal_suspend_progress
verify_manifest rpool

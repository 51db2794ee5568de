# Boot 2 of the crash test: import from the same disks with the copy paused (else the import itself
# carries on the copy and blocks for as long as it takes), see the removal resume, verify.
ORIGIN="$LAB_EBS-part2"
PAUSE=/sys/module/zfs/parameters/zfs_removal_suspend_progress
echo 1 > "$PAUSE"
must import zpool import -N -d "$ORIGIN" -d "$LAB_IS0-part1" -d "$LAB_IS1-part1" rpool
must status_resumed zpool status -p rpool
mark imported
echo 0 > "$PAUSE"
must wait zpool wait -t remove rpool
must status_removed zpool status -p rpool
verify_manifest rpool
must export zpool export rpool

# zevac in the initrd: the pool is not imported yet; zevac apply imports it, adds the instance
# stores, removes the EBS vdev. Then the copy finishes, the data is verified and scrubbed, and a
# second zevac apply (after an export, as at the next boot) finds nothing to do. POOL: the pool's
# name (the host puts it first).
POOL=${POOL:-rpool}
run devices zevac devices
run plan_before zevac plan --import
run apply zevac apply
run txg_timeout cat /sys/module/zfs/parameters/zfs_txg_timeout
run status_applied zevac status --json
run dm_applied dmsetup ls
# What zevac reads mid-copy, for the parsers' fixtures: the JSON without and with -g (2.3; on
# 2.1 these fail), the text with full paths.
run applied_status_json_short zpool status -j --json-int -p "$POOL"
run applied_status_json zpool status -j --json-int -p -g "$POOL"
run applied_status zpool status -p -P "$POOL"
run applied_list zpool list -Hpv -P "$POOL"
must wait zpool wait -t remove "$POOL"
run status_done zevac status --json
must zstatus zpool status -p "$POOL"
verify_manifest "$POOL"
must scrub zpool scrub -w "$POOL"
must status_scrubbed zpool status -p "$POOL"
must export zpool export "$POOL"
run apply_again zevac apply
run dm_again dmsetup ls
run status_again zpool status -p "$POOL"
must export_again zpool export "$POOL"

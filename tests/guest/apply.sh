# zevac in the initrd: the pool is not imported yet; zevac apply imports it, adds the instance
# stores, removes the EBS vdev. Then the copy finishes, the data is verified and scrubbed, and a
# second zevac apply (after an export, as at the next boot) finds nothing to do.
run devices zevac devices
run plan_before zevac plan --import
run apply zevac apply
run status_applied zevac status --json
run dm_applied dmsetup ls
must wait zpool wait -t remove rpool
run status_done zevac status --json
must zstatus zpool status -p rpool
verify_manifest rpool
must scrub zpool scrub -w rpool
must status_scrubbed zpool status -p rpool
must export zpool export rpool
run apply_again zevac apply
run dm_again dmsetup ls
run status_again zpool status -p rpool
must export_again zpool export rpool

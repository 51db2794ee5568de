# Boot 2 of the crash test: zevac apply finds the removal running, imports quickly, leaves it.
run apply zevac apply
mark applied
must wait zpool wait -t remove rpool
run status_done zevac status --json
verify_manifest rpool
must export zpool export rpool

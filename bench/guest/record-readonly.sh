# Records what a read-only import shows (zevac decides on one before it writes anything).
must import zpool import -N -o readonly=on -d "$LAB_EBS-part2" rpool
run ro_status_json zpool status -j --json-int -p -g rpool
run ro_list zpool list -Hpv -P rpool
run ro_used zfs get -Hp -o name,value used,usedbydataset rpool
run ro_get zpool get -Hp all rpool
must export zpool export rpool

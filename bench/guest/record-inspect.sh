# Records what `inspect` reads on a read-only import (zevac's probe), of the golden pool as it is
# and with an encrypted dataset whose key is not loaded: the vdev property ashift (2.2+), and
# `feature@encryption`, which says whether any key can be missing.
# zevac-bench lab boot --script bench/guest/record-inspect.sh, then lab record ... bench/fixtures/zfs-2.3.2/inspect
ORIGIN="$LAB_EBS-part2"
must import_ro zpool import -N -o readonly=on -d "$ORIGIN" rpool
run version zpool version
run plain_status_json zpool status -j --json-int -p -g rpool
run plain_get zpool get -Hp all rpool
run plain_vdev_ashift zpool get -Hp -o value ashift rpool "$ORIGIN"
run plain_used zfs get -Hp -o value used rpool
must export_ro zpool export rpool
must import zpool import -N -d "$ORIGIN" rpool
printf 'zevac-lab-passphrase' > /tmp/key
must encrypt zfs create -o encryption=on -o keyformat=passphrase -o keylocation=file:///tmp/key -o mountpoint=legacy rpool/secret
must unload zfs unload-key rpool/secret
must export zpool export rpool
must import_ro_encrypted zpool import -N -o readonly=on -d "$ORIGIN" rpool
run encrypted_status_json zpool status -j --json-int -p -g rpool
run encrypted_get zpool get -Hp all rpool
run encrypted_vdev_ashift zpool get -Hp -o value ashift rpool "$ORIGIN"
run encrypted_keystatus zfs get -H -r -o name,value -t filesystem,volume keystatus rpool
run encrypted_used zfs get -Hp -o value used rpool
must export_end zpool export rpool

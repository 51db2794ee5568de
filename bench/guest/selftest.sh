# The lab's self-test with plain zpool commands: import the golden pool from EBS, add both instance
# stores with the pool's ashift, remove the EBS vdev, wait, verify the data and scrub.
ORIGIN="$LAB_EBS-part2"
if [ -e /bin/zevac ]; then must zevac_version zevac --version; fi
must import zpool import -N -d "$ORIGIN" rpool
ASHIFT=$(zpool get -Hp -o value ashift rpool)
must list_before zpool list -Hpv rpool
must add zpool add -o ashift="$ASHIFT" rpool $LAB_INSTANCE_STORES
must list_added zpool list -Hpv rpool
must remove zpool remove rpool "$ORIGIN"
must wait zpool wait -t remove rpool
must status_removed zpool status -p rpool
must list_after zpool list -Hpv rpool
# OpenZFS 2.3+ only; on 2.1 this fails and the host knows not to ask.
run status_json zpool status -j --json-int -p rpool
verify_manifest rpool
must scrub zpool scrub -w rpool
must status_scrubbed zpool status -p rpool
must export zpool export rpool

# Boot 1 of the crash test: start the evacuation by hand, then report progress until the host kills us.
ORIGIN="$LAB_EBS-part2"
must import zpool import -N -d "$ORIGIN" rpool
must list_before zpool list -Hpv rpool
must add zpool add -o ashift="$(zpool get -Hp -o value ashift rpool)" rpool $LAB_INSTANCE_STORES
must remove zpool remove rpool "$ORIGIN"
mark removing
while true; do
	run progress zpool status -p rpool > /dev/null
	sleep 2
done

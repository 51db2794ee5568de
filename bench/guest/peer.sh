# A peer of the sweep: what a boot could do instead of zevac, on the same disks and with the same
# workload. PEER (from /lab/sweep.env) is one of
#   ebs    the pool stays on EBS alone: import it and mount the root;
#   l2arc  the same, with both instance stores added as L2ARC (cache) devices;
#   eager  before the root is mounted, the whole pool goes from EBS onto a new pool on the
#          instance stores (zfs send -R | zfs recv), and the boot waits for all of it;
#   lvmcache  the block-level cache: dm-cache in writeback mode with the smq policy
#          (what lvmcache sets up), the pool's EBS partition as its origin, the first instance
#          store as its cache and 8 MiB of the second as its metadata; ZFS imports through it.
# What holds the boot runs from `import` to the `ready` mark. With a WORKLOAD, fio runs right
# after the root is mounted (`first`), keeps running WARM_SECONDS (an L2ARC fills meanwhile),
# then once more (`later`); for fsync, a raw instance store gives the baseline.
. /lab/sweep.env
. /lab/workload.sh
limit_arc

ORIGIN=$LAB_EBS-part2
if [ "$PEER" = lvmcache ]; then
	t0=$(now)
	dm() { dmsetup --noudevsync "$@"; }
	must cache_meta dm create zevac-bench-meta --table "0 16384 linear $(readlink -f "$LAB_IS1") 0"
	must cache_meta_node dmsetup mknodes zevac-bench-meta
	must cache_meta_zero dd if=/dev/zero of=/dev/mapper/zevac-bench-meta bs=1M count=8 conv=fsync
	must cache_create dm create zevac-bench-cache --table "0 $(blockdev --getsz "$ORIGIN") cache \
/dev/mapper/zevac-bench-meta $(readlink -f "$LAB_IS0") $(readlink -f "$ORIGIN") 128 1 writeback smq 0"
	must cache_nodes dmsetup mknodes
	ORIGIN=/dev/mapper/zevac-bench-cache
	mark cache_ready started="$t0"
fi
must import zpool import -N -d "$ORIGIN" rpool
POOL=rpool
case "$PEER" in
ebs | lvmcache) ;;
l2arc)
	must add_cache zpool add -f rpool cache "$LAB_IS0" "$LAB_IS1" ;;
eager)
	must snapshot zfs snapshot -r rpool@eager
	must create zpool create -f -o ashift=12 -O canmount=off -O mountpoint=none fast "$LAB_IS0" "$LAB_IS1"
	run ebs_read_before ebs_read_bytes
	must copy sh -c 'zfs send -R rpool@eager | zfs recv -Fdu fast'
	run ebs_read_after ebs_read_bytes
	must export zpool export rpool
	POOL=fast ;;
*) die "unknown peer $PEER" ;;
esac
mark ready
must mount_root mount_pool "$POOL" /mnt
if [ "$WORKLOAD" != none ]; then
	phase first
	# Keeps the workload going, unrecorded, for as long as zevac's copy would take.
	# shellcheck disable=SC2046
	FIO_SECONDS=$WARM_SECONDS fio $(fio_job warm "$(workload_target)") > /dev/null 2>&1
	phase later
	raw_baseline
fi
run arcstats cat /proc/spl/kstat/zfs/arcstats
if [ "$PEER" = lvmcache ]; then run cache_status dmsetup status zevac-bench-cache; fi
umount_pool /mnt
verify_manifest "$POOL"
true

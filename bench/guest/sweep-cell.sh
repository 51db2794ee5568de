# One cell of the benchmark sweep: zevac apply as in the initrd (the boot-blocking step), zevac
# watch as the stage-2 service (steady phase, cap, scrub), and the EBS disk's read counter at the
# start and end of the copy, so the copy rate is measured on the disk, in real time.
# With a foreground WORKLOAD (fio), it also runs before the copy (the pool on EBS alone, as
# without zevac), during it and after the verification; for fsync, a raw instance store
# ($LAB_RAW) gives the baseline.
. /lab/sweep.env
. /lab/workload.sh
limit_arc

if [ "$WORKLOAD" != none ]; then
	must import_before zpool import -N -d "$LAB_EBS-part2" rpool
	must mount_before mount_pool rpool /mnt
	phase before
	umount_pool /mnt
	must export_before zpool export rpool
fi

run apply zevac apply --json
run ebs_read_at_apply ebs_read_bytes
# The EBS disk's read counter twice a second, to find when the copy read its last byte: ZFS marks
# the removal done a txg sync or two later, seconds on a short copy.
sample_ebs_reads /tmp/ebs-reads &
SAMPLER=$!
# What the boot does next, in the initrd: mount the root file systems. With
# `watch.starts_copy` (in the configuration the host writes) the copy waits for the watcher, so the mounts have EBS alone.
# The watcher comes later, in stage 2.
must mount_root mount_pool rpool /mnt
zevac watch > /tmp/watch.out 2>&1 &
WATCH=$!
if [ "$WORKLOAD" != none ]; then
	# shellcheck disable=SC2046
	( t0=$(now); fio $(fio_job during "$(workload_target)") > /dev/null 2>&1; echo "$t0 $(now)" > /tmp/fio-during.window ) &
	FIO=$!
fi
run wait zpool wait -t remove rpool
run ebs_read_at_copied ebs_read_bytes
# Where the copy started (the origin's read counter, and the uptime clock the other records
# use): when `zpool remove` returned in apply, or when the watcher let the copy go
# (`watch.starts_copy`). The cap holds from there, so its accuracy is measured from there.
run copy_start cat /run/zevac/copy-start.json
kill $SAMPLER
run ebs_reads cat /tmp/ebs-reads
if [ "$WORKLOAD" != none ]; then
	wait $FIO
	run fio_during cat /tmp/fio-during.json
	run fio_during_window cat /tmp/fio-during.window
fi
wait $WATCH
echo $? > /tmp/watch.rc
run watch sh -c 'cat /tmp/watch.out; exit $(cat /tmp/watch.rc)'
run watch_record cat /run/zevac/watch.json
run status_after zevac status --json
if [ "$WORKLOAD" != none ]; then
	phase after
	raw_baseline
fi
umount_pool /mnt
verify_manifest rpool
true

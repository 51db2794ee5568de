# The sweep's foreground workloads (fio, in the guest) and its EBS read counter, shared by
# zevac's cells and the peers.
# WORKLOAD (none, randread, fsync) and FIO_SECONDS come from /lab/sweep.env.

# limit_arc: a 64 MiB ARC, OpenZFS's smallest (zfs_arc_max must stay above zfs_arc_min, so that
# goes down first). The old data is then several times the ARC, as a build farm's store is
# several times its RAM: random reads of it reach the disks, and an L2ARC has something to
# catch. Every cell and every peer runs with it, so they compare.
limit_arc() {
	echo 33554432 > /sys/module/zfs/parameters/zfs_arc_min || die "cannot set zfs_arc_min"
	echo 67108864 > /sys/module/zfs/parameters/zfs_arc_max || die "cannot set zfs_arc_max"
	must arc_max awk '$1 == "c_max" { print $3 }' /proc/spl/kstat/zfs/arcstats
}

# fio_job PHASE TARGET: this cell's workload as fio arguments (JSON output to /tmp/fio-PHASE.json).
fio_job() {
	_common="--output-format=json --output=/tmp/fio-$1.json --time_based --runtime=$FIO_SECONDS"
	case "$WORKLOAD" in
	randread)
		# 4k random reads of the golden image's old data (ZFS reads whole 128k records).
		echo "--name=randread --rw=randread --bs=4k --ioengine=psync --directory=$OLD_DATA --filename=$2 $_common" ;;
	fsync)
		# etcd's disk check: 2300-byte sequential writes, each followed by fdatasync.
		echo "--name=fsync --rw=write --ioengine=sync --fdatasync=1 --bs=2300 --size=22m --filename=$2 $_common" ;;
	esac
}

# old_files: every data file the golden image wrote under / and /nix, colon-separated as fio
# takes them: 80 % of the pool's data, more than the ARC holds. fio takes at most 4096 characters
# in an option (1 GiB of data has 206 files, 6.5 KB of paths), so they are short links in
# $OLD_DATA, made once.
OLD_DATA=/tmp/old-data
old_files() {
	if [ ! -d "$OLD_DATA" ]; then
		mkdir -p "$OLD_DATA.new"
		_i=0
		for _f in /mnt/data/blob-* /mnt/nix/store/data/blob-*; do
			ln -s "$_f" "$OLD_DATA.new/f$_i"
			_i=$((_i + 1))
		done
		mv "$OLD_DATA.new" "$OLD_DATA"
	fi
	ls "$OLD_DATA" | tr '\n' ':' | sed 's/:$//'
}

# workload_target: what the workload reads or writes on the root mounted at /mnt.
workload_target() { if [ "$WORKLOAD" = randread ]; then old_files; else echo /mnt/var/fio-fsync; fi; }

# phase NAME [TARGET]: runs the workload in the foreground and records its JSON as `fio_NAME`.
phase() {
	# shellcheck disable=SC2046
	fio $(fio_job "$1" "${2:-$(workload_target)}") > "/tmp/fio-$1.log" 2>&1
	# fio's own complaint, if it wrote no JSON.
	run "fio_$1" sh -c "cat /tmp/fio-$1.json || { cat /tmp/fio-$1.log >&2; exit 1; }"
}

# raw_baseline: fsync only, the same job on a raw instance store ($LAB_RAW), recorded as `fio_raw`.
raw_baseline() { if [ "$WORKLOAD" = fsync ]; then phase raw "$LAB_RAW"; fi; }

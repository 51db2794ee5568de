# zevac apply fails right after step FAIL_AFTER (the host puts it first; debug builds only; a
# list may also name `guard`, where the fall-back's start of the removal fails), or is killed
# KILL_AFTER seconds into its run, with what it runs. Then what a NixOS initrd does next: the unit's
# ExecStopPost (`zevac recover`, with systemd's SERVICE_RESULT), and nixpkgs' import as it
# renders it (`-d` boot.zfs.devNodes: IMPORT_DIR), unless the pool is imported already
# (`poolImported`). NixOS's initrd has no
# by-id links for device-mapper devices: they are removed first. Then the root's mounts and
# WRITE_MIB MiB of writes, synced, and the pool's health; then, with BY_HAND, `zpool remove` of
# the origin by hand, and with THEN_WATCH, `zevac watch`.
if [ -n "$KILL_AFTER" ]; then
	# In a session of its own: the unit's control group. systemd kills all of it (KillMode's
	# default) and waits for it to empty before ExecStopPost; a command zevac ran goes with it.
	setsid zevac apply > /tmp/apply.out 2>&1 &
	pid=$!
	sleep "$KILL_AFTER"
	session="ps -o sid,pid,args | awk -v s=$pid '\$1 == s'"
	run killed_group sh -c "$session"
	kill -9 -$pid
	wait $pid
	while [ -n "$(sh -c "$session")" ]; do sleep 0.1; done
	run apply_killed cat /tmp/apply.out
	result=signal
else
	export ZEVAC_TEST_FAIL_AFTER="$FAIL_AFTER"
	run apply zevac apply
	result=exit-code
fi
run recover env SERVICE_RESULT=$result zevac recover
run suspend cat /sys/module/zfs/parameters/zfs_removal_suspend_progress
run txg_timeout cat /sys/module/zfs/parameters/zfs_txg_timeout
run dm dmsetup ls
run ro_flags sh -c 'for d in /sys/block/nvme*; do echo "$(basename $d) $(cat $d/ro)"; done'
rm -f /dev/disk/by-id/dm-*
if zpool list "$POOL" > /dev/null 2>&1; then
	mark already_imported
else
	run nixpkgs_import zpool import -d "$IMPORT_DIR" -N -f "$POOL"
fi
must zstatus_imported zpool status -P "$POOL"
mount_pool "$POOL" /mnt || die "cannot mount the root"
# 16 MiB of random data written WRITE_MIB/16 times: incompressible, so each MiB is allocated,
# and quicker than reading urandom for all of it under emulation.
must chunk dd if=/dev/urandom of=/tmp/chunk bs=1M count=16
must write sh -c "for i in \$(seq $((WRITE_MIB / 16))); do cat /tmp/chunk || exit 1; done > /mnt/var/fault-writes && sync"
[ "$(stat -c %s /mnt/var/fault-writes)" -eq $((WRITE_MIB * 1048576)) ] || die "the writes are short"
must sync_pool zpool sync "$POOL"
run dm_status dmsetup status
run allocating zpool get -H -o value allocating "$POOL" /dev/mapper/zevac-origin
must zstatus_written zpool status -P "$POOL"
run health zpool list -H -o health "$POOL"
run status_end zevac status --json
# With BY_HAND, an operator starts the removal the initrd did not start.
if [ -n "$BY_HAND" ]; then
	run remove_by_hand zpool remove "$POOL" /dev/mapper/zevac-origin
	run status_by_hand zevac status --json
fi
# The boot's watcher, where asked: it starts a removal the initrd did not start (or follows one
# started by hand), and sees it through.
if [ -n "$THEN_WATCH" ]; then
	run watch zevac watch
	run status_watched zevac status --json
fi
umount_pool /mnt || die "cannot unmount"
must export zpool export "$POOL"

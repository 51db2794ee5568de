# zevac apply fails right after step FAIL_AFTER (the host puts it first; debug builds only), or
# is killed KILL_AFTER seconds into its run. Then what a NixOS initrd does next: the unit's
# ExecStopPost (`zevac recover`, with systemd's SERVICE_RESULT), and nixpkgs' import as it
# renders it, unless the pool is imported already (`poolImported`). NixOS's initrd has no
# by-id links for device-mapper devices: they are removed first. Then the root's mounts and
# WRITE_MIB MiB of writes, synced, and the pool's health.
if [ -n "$KILL_AFTER" ]; then
	zevac apply > /tmp/apply.out 2>&1 &
	pid=$!
	sleep "$KILL_AFTER"
	kill -9 $pid 2>/dev/null
	wait $pid
	run apply_killed cat /tmp/apply.out
	result=signal
else
	run apply env ZEVAC_TEST_FAIL_AFTER="$FAIL_AFTER" zevac apply
	result=exit-code
fi
run recover env SERVICE_RESULT=$result zevac recover
run dm dmsetup ls
run ro_flags sh -c 'for d in /sys/block/nvme*; do echo "$(basename $d) $(cat $d/ro)"; done'
rm -f /dev/disk/by-id/dm-*
if zpool list "$POOL" > /dev/null 2>&1; then
	mark already_imported
else
	run nixpkgs_import zpool import -d /dev/disk/by-id -N -f "$POOL"
fi
must zstatus_imported zpool status -P "$POOL"
mount_pool "$POOL" /mnt || die "cannot mount the root"
must write dd if=/dev/urandom of=/mnt/var/fault-writes bs=1M count="$WRITE_MIB" conv=fsync
must sync_pool zpool sync "$POOL"
run dm_status dmsetup status
must zstatus_written zpool status -P "$POOL"
run health zpool list -H -o health "$POOL"
umount_pool /mnt || die "cannot unmount"
must export zpool export "$POOL"

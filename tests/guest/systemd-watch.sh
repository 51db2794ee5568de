# Under systemd as PID 1 (the lab's systemd boot): `zevac apply` as in the initrd, the root's
# mounts, then `zevac watch` as a Type=notify unit (systemd-run), read back through systemd while
# it runs and after it ends; the tunables before and after.
P=/sys/module/zfs/parameters
read_params() { run "$1" sh -c "cd $P && grep -H . zfs_vdev_removal_max_active zfs_vdev_removal_min_active zfs_removal_suspend_progress zfs_txg_timeout"; }
unit() { systemctl show zevac-watch -p ActiveState,SubState,Result,ExecMainStatus,StatusText; }
run pid1 cat /proc/1/comm
read_params params_before
must apply zevac apply
must mount_root mount_pool rpool /mnt
# systemd-run returns once the unit is started: for Type=notify, once zevac sent READY=1.
must watch_start systemd-run --unit=zevac-watch -p Type=notify -p NotifyAccess=main /bin/zevac watch
run unit_started unit
i=0
while [ "$(systemctl is-active zevac-watch)" = active ]; do
	i=$((i + 1))
	[ $i -gt 600 ] && die "zevac-watch still active after 5 minutes"
	[ $i = 4 ] && run unit_during unit
	sleep 0.5
done
run unit_after unit
run status_after zevac status --json
read_params params_after
umount_pool /mnt
verify_manifest rpool

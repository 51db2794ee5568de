# Under systemd as PID 1 (the lab's systemd boot): `zevac apply` as in the initrd, the root's
# mounts, then `zevac watch` as a Type=notify unit with Restart=on-failure (systemd-run), read
# back through systemd: killed with SIGKILL (systemd restarts it), stopped (it restores the
# tunables and ZFS goes on copying), started again to its end; the tunables at each step.
P=/sys/module/zfs/parameters
read_params() { run "$1" sh -c "cd $P && grep -H . zfs_vdev_removal_max_active zfs_vdev_removal_min_active zfs_removal_suspend_progress zfs_txg_timeout"; }
unit() { systemctl show zevac-watch -p ActiveState,SubState,Result,ExecMainStatus,StatusText,NRestarts,MainPID; }
start_watch() {
	# systemd-run returns once the unit is started: for Type=notify, once zevac sent READY=1.
	must "$1" systemd-run --unit=zevac-watch -p Type=notify -p NotifyAccess=main \
		-p Restart=on-failure -p RestartSec=1 /bin/zevac watch
}
wait_active() {
	i=0
	until [ "$(systemctl is-active zevac-watch)" = active ] && [ "$(systemctl show zevac-watch -p MainPID --value)" != "$1" ]; do
		i=$((i + 1)); [ $i -gt 100 ] && die "zevac-watch did not come back"; sleep 0.2
	done
}
run pid1 cat /proc/1/comm
read_params params_before
must apply zevac apply
must mount_root mount_pool rpool /mnt
start_watch watch_start
run unit_started unit
sleep 1
pid=$(systemctl show zevac-watch -p MainPID --value)
must kill_watch systemctl kill -s KILL zevac-watch
wait_active "$pid"
run unit_restarted unit
sleep 1
must stop_watch systemctl stop zevac-watch
run unit_stopped unit
read_params params_stopped
run zfs_stopped zpool status -p rpool
start_watch watch_again
i=0
while [ "$(systemctl is-active zevac-watch)" = active ]; do
	i=$((i + 1))
	[ $i -gt 600 ] && die "zevac-watch still active after 5 minutes"
	[ $i = 2 ] && run unit_during unit
	sleep 0.5
done
run unit_after unit
run status_after zevac status --json
read_params params_after
umount_pool /mnt
verify_manifest rpool

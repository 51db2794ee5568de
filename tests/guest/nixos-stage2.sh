# Stage 2, after the switch-root into the pool's root: systemd as PID 1 outside the initrd, the
# module's zevac-watch.service (Type=notify) ready before this runs, its status text sampled
# beside a one-shot `zevac status` until the unit ends; then the unit's result, its journal,
# zevac's record in /run/zevac (written in the initrd, carried across switch-root), the tunables,
# and the data, from EBS's golden manifest. $TUNABLES comes from the host.
run s2_pid1 cat /proc/1/comm
run s2_root grep " / " /proc/mounts
run s2_initrd_release ls /etc/initrd-release
run s2_run_zevac ls /run/zevac
show() { run "$1" systemctl show zevac-watch -p ActiveState,SubState,Result,ExecMainStatus,StatusText,NRestarts; }
show s2_watch_ready
i=0
while [ "$(systemctl is-active zevac-watch)" = active ]; do
	i=$((i + 1))
	[ $i -gt 600 ] && die "zevac-watch still active after 5 minutes"
	echo "$(now)|$(systemctl show zevac-watch -p StatusText --value)|$(zevac status --json 2> /dev/null | tr -d '\n')" >> /tmp/s2-samples
	sleep 0.5
done
run s2_samples cat /tmp/s2-samples
show s2_watch_done
run s2_journal_watch journalctl -b -o cat -u zevac-watch.service
run s2_status_after zevac status --json
run s2_params_after sh -c "cd /sys/module/zfs/parameters && grep -H . $TUNABLES"
mkdir -p /home
must s2_mount_home mount -t zfs rpool/user/home /home
run verify sh -c 'cd / && md5sum -c -s /lab/manifest.md5'

# Stage 2 of a boot the host kills mid-copy: the module's zevac-watch.service has started the
# copy; once ZFS's copied counter is past a fifth of the copy (it is updated as a txg syncs, so
# that progress is on the instance stores) and a second more, the mark the host waits for, then
# nothing.
i=0
until c=$(status_field copied_bytes) && t=$(status_field total_bytes) && [ -n "$t" ] &&
	[ $(( ${c:-0} * 5 )) -ge "$t" ]; do
	i=$((i + 1))
	[ $i -gt 600 ] && die "ZFS's copied counter stayed under a fifth for 3 minutes"
	sleep 0.3
done
sleep 1
run s2_status_reached zevac status --json
run s2_watch_reached systemctl show zevac-watch -p ActiveState,StatusText
mark reached
while true; do sleep 10; done

# A boot of the reboot-mid-copy test: zevac apply (resuming the copy after the last boot), then
# idle until the kill point, and the host kills the VM. With READ_MIB, the point is that much
# read from EBS in this boot (its read counter moves in real time): a kill before ZFS has synced
# any of this boot's copying. Otherwise it is ZFS's copied counter moving past where this boot
# found it, and a second more: the counter is updated as a txg syncs, so that progress is on the
# instance stores and the next boot must find at least as much.
run apply zevac apply
run status_applied zevac status --json
copied0=$(status_field copied_bytes)
stat=/sys/block/$(basename "$(readlink -f "$LAB_EBS")")/stat
read_mib() { echo $(( $(awk '{print $3}' "$stat") / 2048 )); }
start=$(read_mib)
mark applied copied="$copied0"
if [ -n "$READ_MIB" ]; then
	while [ $(( $(read_mib) - start )) -lt "$READ_MIB" ]; do sleep 0.2; done
else
	while c=$(status_field copied_bytes); [ "${c:-0}" -le "${copied0:-0}" ]; do sleep 0.3; done
	sleep 1
fi
run status_reached zevac status --json
mark reached read_mib=$(( $(read_mib) - start ))
while true; do sleep 10; done

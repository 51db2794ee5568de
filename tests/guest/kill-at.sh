# A boot of the reboot-mid-copy test: zevac apply (resuming the copy after the first boot), then
# idle until the copy has read $TARGET_MIB from EBS in all boots together ($DONE_MIB in the
# earlier ones; the EBS disk's read counter moves in real time, ZFS's copied counter only at
# txg sync), or a third of what this boot has left to copy by ZFS's counter, so that the kill
# always lands mid-copy: how much of a crashed boot's work ZFS keeps varies, and the counter
# lags the copy by up to a txg (with 80 %, a run once waited for reads the copy no longer had
# to do). The host then kills the VM.
run apply zevac apply
run status_applied zevac status --json
field() { zevac status --json 2>/dev/null | sed -n "s/^ *\"$1\": \([0-9]*\).*/\1/p"; }
left_mib=$(( ($(field total_bytes) - $(field copied_bytes)) / 1048576 ))
need=$(( TARGET_MIB - DONE_MIB ))
[ "$need" -gt $(( left_mib / 3 )) ] && need=$(( left_mib / 3 ))
[ "$need" -lt 1 ] && need=1
stat=/sys/block/$(basename "$(readlink -f "$LAB_EBS")")/stat
read_mib() { echo $(( $(awk '{print $3}' "$stat") / 2048 )); }
start=$(read_mib)
mark applied left_mib="$left_mib" need_mib="$need"
while [ $(( $(read_mib) - start )) -lt "$need" ]; do sleep 0.2; done
reached=$(( $(read_mib) - start ))
run status_reached zevac status --json
mark reached read_mib="$reached"
while true; do sleep 10; done

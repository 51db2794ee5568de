# A boot of the reboot-mid-copy test: zevac apply (resuming the copy after the first boot), then
# idle until the copy has read $TARGET_MIB from EBS in all boots together ($DONE_MIB in the
# earlier ones; the EBS disk's read counter moves in real time, ZFS's copied counter only at
# txg sync); the host then kills the VM.
run apply zevac apply
run status_applied zevac status --json
stat=/sys/block/$(basename "$(readlink -f "$LAB_EBS")")/stat
read_mib() { echo $(( $(awk '{print $3}' "$stat") / 2048 )); }
start=$(read_mib)
mark applied
while [ $(( DONE_MIB + $(read_mib) - start )) -lt "$TARGET_MIB" ]; do sleep 0.2; done
mark reached read_mib=$(( $(read_mib) - start ))
while true; do sleep 10; done

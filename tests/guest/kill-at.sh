# A boot of the reboot-mid-copy test: zevac apply (resuming the copy after the first boot), then
# idle until ZFS's copied counter reaches $TARGET percent; the host then kills the VM.
run apply zevac apply
mark applied
pct=0
while [ "$pct" -lt "$TARGET" ]; do
	sleep 1
	pct=$(zevac status --json 2>/dev/null | sed -n 's/^ *"percent": \([0-9]*\).*/\1/p')
	pct=${pct:-0}
done
mark reached percent="$pct"
while true; do sleep 10; done

# A copy that stands still though zevac holds nothing: an operator's pause
# (zfs_removal_suspend_progress=1 written by hand) right after apply. The watcher reports it as
# stalled after a minute (no rate, no ETA), and once the pause is lifted the copy goes on to a
# verified end.
P=/sys/module/zfs/parameters/zfs_removal_suspend_progress
run apply zevac apply
echo 1 > $P
zevac watch > /tmp/watch.out 2> /tmp/watch.err &
WATCH=$!
sleep 40
run status_still zevac status --json
sleep 35
run status_stalled zevac status --json
run status_stalled_text zevac status
echo 0 > $P
sleep 20
run status_moving zevac status --json
wait $WATCH
echo $? > /tmp/watch.rc
run watch sh -c 'cat /tmp/watch.out; cat /tmp/watch.err >&2; exit $(cat /tmp/watch.rc)'
run status_done zevac status --json
verify_manifest rpool
true

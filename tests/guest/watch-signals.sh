# A cap makes the copy slower; SIGTERM while the watcher holds the copy at the cap restores the
# tunables (the pause included) and leaves ZFS copying; a second watcher takes over under the
# cap, and `zevac tune --cap none` at runtime lets the copy speed up again. The uncapped window
# is 16 s because ZFS's copied counter moves only every 9 to 12 s here.
P=/sys/module/zfs/parameters
read_params() { run "$1" sh -c "cd $P && grep -H . zfs_vdev_removal_max_active zfs_vdev_removal_min_active zfs_removal_suspend_progress"; }
read_params params_before
run apply zevac apply
RUST_LOG=info,zevac::watch=debug zevac watch > /tmp/watch.out 2> /tmp/watch.err &
WATCH=$!
# The counter catches up with the I/O in flight before the first pause in about 10 s.
sleep 12
run capped_a zevac status --json
sleep 20
run capped_b zevac status --json
read_params params_running
kill -TERM $WATCH
wait $WATCH
echo $? > /tmp/watch.rc
run watch sh -c 'cat /tmp/watch.out; cat /tmp/watch.err >&2; exit $(cat /tmp/watch.rc)'
read_params params_stopped
run status_stopped zevac status --json
RUST_LOG=info,zevac::watch=debug zevac watch > /tmp/watch2.out 2> /tmp/watch2.err &
WATCH=$!
sleep 2
run uncap zevac tune --cap none
sleep 2
run uncapped_a zevac status --json
sleep 16
run uncapped_b zevac status --json
kill -TERM $WATCH
wait $WATCH
run watch_again sh -c 'cat /tmp/watch2.out; cat /tmp/watch2.err >&2'
run wait zpool wait -t remove rpool
run status_done zevac status --json
true

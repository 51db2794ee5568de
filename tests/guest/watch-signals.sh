# SIGTERM mid-copy leaves ZFS copying with the tunables restored; a cap makes the copy slower,
# and `zevac tune --cap none` at runtime lets it speed up again.
P=/sys/module/zfs/parameters
read_params() { run "$1" sh -c "cd $P && grep -H . zfs_vdev_removal_max_active zfs_vdev_removal_min_active zfs_removal_suspend_progress"; }
read_params params_before
run apply zevac apply
RUST_LOG=info,zevac::watch=debug zevac watch > /tmp/watch.out 2> /tmp/watch.err &
WATCH=$!
sleep 5
run capped_a zevac status --json
sleep 20
run capped_b zevac status --json
run uncap zevac tune --cap none
sleep 2
run uncapped_a zevac status --json
sleep 8
run uncapped_b zevac status --json
read_params params_running
kill -TERM $WATCH
wait $WATCH
echo $? > /tmp/watch.rc
run watch sh -c 'cat /tmp/watch.out; cat /tmp/watch.err >&2; exit $(cat /tmp/watch.rc)'
read_params params_stopped
run status_stopped zevac status --json
run wait zpool wait -t remove rpool
run status_done zevac status --json
true

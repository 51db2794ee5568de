# A cap given as a share of the origin's rate: the watcher lets the copy run uncapped while it
# measures what the EBS volume delivers, then holds the copy to that share, counting from the
# copy's start (so it pauses at once to pay back what ran ahead).
P=/sys/module/zfs/parameters
run apply zevac apply
RUST_LOG=info zevac watch > /tmp/watch.out 2> /tmp/watch.err &
WATCH=$!
# The watcher's first record.
for _ in $(seq 50); do [ -e /run/zevac/watch.json ] && break; sleep 0.2; done
run measuring zevac status --json
# The probe takes 12 s of samples.
sleep 16
run measured zevac status --json
sleep 2
run held zevac status --json
run suspend cat $P/zfs_removal_suspend_progress
kill -TERM $WATCH
wait $WATCH
echo $? > /tmp/watch.rc
run watch sh -c 'cat /tmp/watch.out; cat /tmp/watch.err >&2; exit $(cat /tmp/watch.rc)'
run status_stopped zevac status --json
true

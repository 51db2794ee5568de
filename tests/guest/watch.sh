# zevac apply in the initrd, then `zevac watch` as the stage-2 service would run it, followed
# with `zevac status` (one-shot JSON beside ZFS's own status, sampled every half second through
# the copy, and --watch on a pipe) until the copy is verified. JSON from ZFS: 2.3 only; 2.1 gets the text form.
P=/sys/module/zfs/parameters
read_params() { run "$1" sh -c "cd $P && grep -H . zfs_vdev_removal_max_active zfs_vdev_removal_min_active zfs_vdev_scrub_max_active zfs_scan_vdev_limit zfs_removal_suspend_progress"; }
zstatus() { if zpool status -j >/dev/null 2>&1; then run "$1" zpool status -j --json-int -p rpool; else run "$1" zpool status -p rpool; fi; }
read_params params_before
run apply zevac apply
read_params params_boot
zevac watch > /tmp/watch.out 2> /tmp/watch.err &
WATCH=$!
sample_status /tmp/samples &
SAMPLER=$!
# On a terminal (the serial console) --watch draws its bar; the host reads it in the console log.
stty -F /dev/console cols 100 rows 30 2> /dev/null
zevac status --watch > /dev/console 2>&1 &
TTY_WATCH=$!
sleep 4
run status_during zevac status --json
zstatus zfs_during
run status_human zevac status
run metrics_during cat /run/zevac.prom
run status_watch zevac status --watch
wait $WATCH
echo $? > /tmp/watch.rc
kill $SAMPLER
run status_samples cat /tmp/samples
wait $TTY_WATCH
run watch sh -c 'cat /tmp/watch.out; cat /tmp/watch.err >&2; exit $(cat /tmp/watch.rc)'
run status_after zevac status --json
zstatus zfs_after
run metrics_after cat /run/zevac.prom
read_params params_after
run watch_again zevac watch
verify_manifest rpool
true

# The demo: zevac apply as in the initrd, zevac watch as the stage-2 service, and
# zevac status --watch --json streamed to the host, a report a second (the host draws the bar).
mark demo_start
run apply zevac apply
# What the boot does next, in the initrd: mount the root file systems. With
# `watch.starts_copy` (in the configuration the host writes) the copy waits for the watcher, so the mounts have EBS alone.
must mount_root mount_pool rpool /mnt
zevac watch > /tmp/watch.out 2>&1 &
WATCH=$!
zevac status --watch --json 2>&1 | while IFS= read -r line; do ev progress json="$line"; done
wait $WATCH
echo $? > /tmp/watch.rc
run watch sh -c 'cat /tmp/watch.out; exit $(cat /tmp/watch.rc)'
run status_after zevac status --json
umount_pool /mnt
verify_manifest rpool
mark demo_done
true

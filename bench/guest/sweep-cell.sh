# One cell of the benchmark sweep: zevac apply as in the initrd (the boot-blocking step), zevac
# watch as the stage-2 service (steady phase, cap, scrub), and the EBS disk's read counter at the
# start and end of the copy, so the copy rate is measured on the disk, in real time.
EBS_STAT=/sys/block/$(basename "$(readlink -f "$LAB_EBS")")/stat
ebs_read_bytes() { awk '{ print $3 * 512 }' "$EBS_STAT"; }
run apply zevac apply
run ebs_read_at_apply ebs_read_bytes
zevac watch > /tmp/watch.out 2>&1 &
WATCH=$!
run wait zpool wait -t remove rpool
run ebs_read_at_copied ebs_read_bytes
wait $WATCH
echo $? > /tmp/watch.rc
run watch sh -c 'cat /tmp/watch.out; exit $(cat /tmp/watch.rc)'
run status_after zevac status --json
verify_manifest rpool
true

# A foreground heavier than the cap: while the watcher holds the copy, the root's old data is read
# from EBS at the volume's full rate. The cap counts those reads, so the copy waits while they
# go on; once they stop, the copy goes on after paying for what it may have had in flight, not
# for the foreground's reads (the EBS disk's read counter, sampled twice a second, shows when).
run apply zevac apply
must mount_root mount_pool rpool /mnt
RUST_LOG=info zevac watch > /tmp/watch.out 2> /tmp/watch.err &
WATCH=$!
# The watcher first pays back the initrd's uncapped stretch (about 130 MiB here: 35 s at the
# cap); the foreground starts once the copy runs at the cap.
sleep 35
run held zevac status --json
run copy_start cat /run/zevac/copy-start.json
run ebs_before ebs_read_bytes
run foreground sh -c 'cat /mnt/data/* /mnt/nix/store/data/* > /dev/null'
run ebs_after ebs_read_bytes
sample_ebs_reads /tmp/ebs-reads &
SAMPLER=$!
sleep 40
kill $SAMPLER
run ebs_reads cat /tmp/ebs-reads
run status_after zevac status --json
kill -TERM $WATCH
wait $WATCH
echo $? > /tmp/watch.rc
run watch sh -c 'cat /tmp/watch.out; cat /tmp/watch.err >&2; exit $(cat /tmp/watch.rc)'
true

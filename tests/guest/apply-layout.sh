# zevac=off on the kernel command line makes apply do nothing; then apply with a layout that puts
# special and L2ARC partitions on each instance store; the state record is left for the watcher.
echo "console=ttyS0 zevac=off" > /tmp/cmdline
mount -o bind /tmp/cmdline /proc/cmdline
run apply_off zevac apply
umount /proc/cmdline
run apply zevac apply
run state cat /run/zevac/state.json
run zstatus zpool status -p rpool
run parts sh -c 'for p in /sys/class/block/nvme*n1p*; do grep PARTNAME "$p/uevent"; done'
must wait zpool wait -t remove rpool
verify_manifest rpool
must export zpool export rpool

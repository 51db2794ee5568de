# The eager-copy peer: what an initrd could do instead of zevac. Before the root is mounted, the
# pool is imported from EBS, snapshotted, and sent whole onto a new pool on the two instance
# stores; the boot waits for all of it. The EBS disk's read counter brackets the copy.
EBS_STAT=/sys/block/$(basename "$(readlink -f "$LAB_EBS")")/stat
ebs_read_bytes() { awk '{ print $3 * 512 }' "$EBS_STAT"; }
must import zpool import -N -d "$LAB_EBS-part2" rpool
must snapshot zfs snapshot -r rpool@eager
must create zpool create -f -o ashift=12 -O canmount=off -O mountpoint=none fast "$LAB_IS0" "$LAB_IS1"
run ebs_read_before ebs_read_bytes
must copy sh -c 'zfs send -R rpool@eager | zfs recv -Fdu fast'
run ebs_read_after ebs_read_bytes
must export zpool export rpool
must mount_root mount_pool fast /mnt
umount_pool /mnt
verify_manifest fast
true

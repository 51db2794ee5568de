# OpenStack-style disks (the Sovereign Cloud Stack's flavors): the root volume and two ephemeral disks are
# virtio-blk, with no model, so zevac's explicit lists tell them apart. The root volume has
# 4096-byte physical sectors, the ephemeral disks 512.
run sectors sh -c 'for d in /sys/block/vd*; do echo "$(cat $d/serial) $(cat $d/queue/logical_block_size) $(cat $d/queue/physical_block_size)"; done'
run devices zevac devices
run apply zevac apply
run wait zpool wait -t remove rpool
run zstatus zpool status -p rpool
verify_manifest rpool
true

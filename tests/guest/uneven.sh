# Instance stores of uneven sizes (the host attaches the small one first, so the kernel names it
# nvme1n1): zevac's plan and apply either agree on a layout that fits every disk and evacuate, or
# both refuse before anything changes. EXPECT: evacuate or refuse (the host puts it first).
run plan zevac plan --import
run apply zevac apply
run dm dmsetup ls
run zstatus zpool status -P
[ "$EXPECT" = refuse ] && exit 0
must wait zpool wait -t remove rpool
verify_manifest rpool
must zstatus_done zpool status -P rpool
must export zpool export rpool

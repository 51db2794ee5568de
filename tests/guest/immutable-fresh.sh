# Immutable origin after a stop/start: blank instance stores again. The pool is EBS's golden
# pool (the first boot's file is gone, as on ephemeral storage), and the copy runs again.
run apply zevac apply
verify_manifest rpool
mount_pool rpool /mnt ro || die "cannot mount pool rpool"
run new_file test -e /mnt/var/zevac-new
umount_pool /mnt || die "cannot unmount pool rpool"
must wait zpool wait -t remove rpool
run watch zevac watch
run status_done zevac status --json
must export zpool export rpool

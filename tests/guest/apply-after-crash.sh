# Boot 2 of the crash test: zevac apply finds the removal running, imports quickly, leaves it.
run apply zevac apply
mark applied
must wait zpool wait -t remove rpool
run status_done zevac status --json
mount_pool rpool /mnt ro || die "cannot mount the evacuated pool"
run verify sh -c 'cd /mnt && sha256sum -c -s /lab/manifest.sha256'
umount_pool /mnt || die "cannot unmount"
must export zpool export rpool

# Boot 2 of the crash test: import from the same disks, see the removal resume, let it finish, verify.
ORIGIN="$LAB_EBS-part2"
must import zpool import -N -d "$ORIGIN" -d "$LAB_IS0-part1" -d "$LAB_IS1-part1" rpool
must status_resumed zpool status -p rpool
must wait zpool wait -t remove rpool
must status_removed zpool status -p rpool
mount_pool rpool /mnt ro || die "cannot mount the evacuated pool"
run verify sh -c 'cd /mnt && sha256sum -c -s /lab/manifest.sha256'
umount_pool /mnt || die "cannot unmount"
must export zpool export rpool

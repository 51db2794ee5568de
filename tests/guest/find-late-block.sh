# Finds where on the EBS disk the last data block of the last file the golden image wrote lies
# (ZFS's removal copies in offset order, so the copy reaches it late), and reports it as the
# disk's 512-byte sector. Imports read-only: the disk is not changed.
must import zpool import -N -o readonly=on -d "$LAB_EBS-part2" rpool
mkdir -p /home
must mount mount -t zfs -o ro rpool/user/home /home
FILE=$(ls /home/user/data | sort -t- -k2 -n | tail -n 1)
OBJ=$(ls -i "/home/user/data/$FILE" | awk '{ print $1 }')
must umount umount /home
must zdb zdb -ddddd rpool/user/home "$OBJ"
# The last L0 block's DVA (vdev:offset:asize, hex); its offset counts from the end of the front
# labels and boot area (4 MiB) of the vdev, which starts where partition 2 does.
DVA=$(awk '$2 == "L0" { dva = $3 } END { print dva }' /tmp/lab.out)
OFFSET=$(printf '%d' "0x$(echo "$DVA" | cut -d: -f2)")
START=$(cat "/sys/class/block/$(basename "$(readlink -f "$LAB_EBS-part2")")/start")
run bad_sector echo $((START + (4194304 + OFFSET) / 512))
run file echo "./home/user/data/$FILE"
must export zpool export rpool

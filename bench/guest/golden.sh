# Builds the golden EBS image like a NixOS amazon-image-zfs AMI: an ESP, and pool rpool on partition 2
# with nixpkgs' datasets and properties, filled with DATA_MIB MiB of incompressible files.
. /lab/golden.env
must mkfs_esp mkfs.fat -F 32 -n ESP "$LAB_EBS-part1"
must create zpool create -o ashift=12 -o autoexpand=on \
	-O compression=on -O atime=off -O xattr=sa -O acltype=posixacl -O mountpoint=legacy \
	rpool "$LAB_EBS-part2"
for ds in system system/root system/var local local/nix user user/home; do
	must "create_$ds" zfs create "rpool/$ds"
done
mount_pool rpool /mnt || die "cannot mount the new datasets"

# fill DIR MIB: MIB MiB in 4 MiB files of random data.
fill() {
	mkdir -p "$1"
	_n=$(( ($2 + 3) / 4 ))
	_i=0
	while [ $_i -lt $_n ]; do
		dd if=/dev/urandom of="$1/blob-$_i" bs=1M count=4 2>/dev/null || die "writing $1/blob-$_i"
		_i=$((_i + 1))
	done
}
t0=$(now)
fill /mnt/data $((DATA_MIB * 4 / 10))
fill /mnt/nix/store/data $((DATA_MIB * 4 / 10))
fill /mnt/var/lib/data $((DATA_MIB / 10))
fill /mnt/home/user/data $((DATA_MIB / 10))
# Small files too, like a real store: metadata-heavy blocks.
mkdir -p /mnt/nix/store/small
i=0
while [ $i -lt 256 ]; do dd if=/dev/urandom of=/mnt/nix/store/small/f$i bs=4k count=1 2>/dev/null; i=$((i + 1)); done
sync
mark filled secs="$(echo "$(now) $t0" | awk '{print $1 - $2}')"
must manifest sh -c 'cd /mnt && find . -type f | sort | xargs sha256sum'
must du du -sk /mnt /mnt/nix /mnt/var /mnt/home
umount_pool /mnt || die "cannot unmount"
must list zpool list -Hpv rpool
must export zpool export rpool

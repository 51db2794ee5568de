# Builds the golden EBS image like a NixOS AMI with a ZFS root, filled with DATA_MIB MiB of
# incompressible files in nixpkgs' datasets and properties. LAYOUT (bench/src/golden.rs):
#   partition   one volume: an ESP, and pool rpool on partition 2;
#   whole-disk  nixpkgs' make-multi-disk-zfs-image.nix: the ESP on the boot volume's partition 2,
#               and pool tank made by zpool on the whole second volume ($LAB_EBSROOT), as
#               nixpkgs does it (no ashift: ZFS takes the volume's 4096-byte sectors).
. /lab/golden.env
FS_PROPS="-O compression=on -O atime=off -O xattr=sa -O acltype=posixacl -O mountpoint=legacy"
if [ "$LAYOUT" = whole-disk ]; then
	must mkfs_esp mkfs.fat -F 32 -n ESP "$LAB_EBS-part2"
	# shellcheck disable=SC2086
	must create zpool create -o autoexpand=on $FS_PROPS "$POOL" "$LAB_EBSROOT"
else
	must mkfs_esp mkfs.fat -F 32 -n ESP "$LAB_EBS-part1"
	# shellcheck disable=SC2086
	must create zpool create -o ashift=12 -o autoexpand=on $FS_PROPS "$POOL" "$LAB_EBS-part2"
fi
for ds in system system/root system/var local local/nix user user/home; do
	must "create_$ds" zfs create "$POOL/$ds"
done
mount_pool "$POOL" /mnt || die "cannot mount the new datasets"

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
must manifest sh -c 'cd /mnt && find . -type f | sort | xargs md5sum'
must du du -sk /mnt /mnt/nix /mnt/var /mnt/home
umount_pool /mnt || die "cannot unmount"
must list zpool list -Hpv "$POOL"
must status zpool status -P "$POOL"
must export zpool export "$POOL"

# The root the initrd switches to, prepared as NixOS's initrd-nixos-activation.service prepares
# its own: the lab's stage 2 is the initrd's own tree, copied into a tmpfs under /run (systemd
# carries /run across switch-root, and empties the initrd's root, which a bind mount of it would
# share), its directories bound over empty ones in the pool's root dataset (the only writes to
# the pool), a /tmp, and the stage-2 units of /lab/stage2 on top, without /etc/initrd-release.
set -e
s=/run/lab-stage2
mkdir -p $s
mount -t tmpfs -o mode=0755 lab-stage2 $s
for d in bin sbin lib lib64 usr etc lab; do
	[ -d /$d ] || continue
	cp -a /$d $s/
	mkdir -p /sysroot/$d
	mount --bind $s/$d /sysroot/$d
done
mkdir -p /sysroot/tmp
mount -t tmpfs -o mode=1777 tmpfs /sysroot/tmp
rm -f $s/etc/initrd-release
cp -a /lab/stage2/etc/. $s/etc/

# What both of the lab's inits do first, before udev starts: mount the kernel file systems, load
# the modules, wait for the disks, and show the AWS models in sysfs. Sourced by /init.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
/bin/busybox mkdir -p /proc /sys /dev /run /tmp /mnt /var /etc /root
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t tmpfs tmpfs /run
/bin/busybox mount -t tmpfs tmpfs /tmp
ln -sf /proc/self/mounts /etc/mtab

. /lab/lib.sh
. /lab/env
stty -F "$LAB_EVENTS" raw -echo 115200 2>/dev/null

ev boot kernel="$(uname -r)" uptime="$(now)"

for m in $(cat /lab/modules.order); do
	insmod "/lab/modules/$m" || die "insmod $m failed"
done

mark modules_loaded
# NVMe controllers probe asynchronously: wait for every disk the host attached (NVMe or virtio).
i=0
while [ "$(ls -d /sys/block/* 2>/dev/null | grep -cE '/nvme[0-9]+n[0-9]+$|/vd[a-z]+$')" -lt "$LAB_DISK_COUNT" ]; do
	i=$((i + 1))
	[ $i -gt 300 ] && die "only $(ls /sys/block | grep -cE '^nvme[0-9]+n[0-9]+$|^vd[a-z]+$') of $LAB_DISK_COUNT disks appeared"
	sleep 0.1
done

mark disks_found
# QEMU's NVMe device always says "QEMU NVMe Ctrl". Show the AWS model instead, in sysfs and so in
# udev's by-id names, by bind-mounting a file over the model attributes before udev starts.
mkdir -p /run/lab/models
for attr in /sys/class/nvme/nvme*/model /sys/class/nvme-subsystem/nvme-subsys*/model; do
	[ -e "$attr" ] || continue
	serial=$(cat "${attr%/model}/serial" | tr -d ' ')
	model=$(lab_model_of "$serial")
	[ -n "$model" ] || die "no model for NVMe serial $serial"
	f=/run/lab/models/$(echo "$attr" | tr / _)
	printf '%s\n' "$model" > "$f"
	mount -o bind "$f" "$attr" || die "cannot bind the model over $attr"
done


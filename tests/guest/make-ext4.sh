# Puts an ext4 file system on the first instance store (a disk that is not blank).
# The full path: busybox ash runs its own mke2fs applet for a bare `mke2fs`.
must mkfs /sbin/mke2fs -q -t ext4 "$LAB_IS0"

# An encrypted dataset on rpool. The key file lives in this boot's /tmp only, so the next boot's
# import (zevac's) finds the key not loaded, as an initrd does before anyone types a passphrase.
must import zpool import -N -d "$LAB_EBS-part2" rpool
printf 'zevac-lab-passphrase' > /tmp/key
must encrypt zfs create -o encryption=on -o keyformat=passphrase -o keylocation=file:///tmp/key -o mountpoint=legacy rpool/secret
mkdir -p /secret
must mount mount -t zfs rpool/secret /secret
must write dd if=/dev/urandom of=/secret/data bs=1M count=8 conv=fsync
must umount umount /secret
must export zpool export rpool

# Write errors on an instance store during the copy (the host's blkdebug rules): ZFS cancels the
# removal, the watcher says why, and the pool stays imported with its data. Steps are bounded by
# `timeout` so that a hang shows as a failed step, not a lost VM.
run apply timeout 120 zevac apply
run watch timeout 300 zevac watch
run status timeout 20 zevac status --json
run zstatus timeout 20 zpool status -p rpool
run dbgmsg sh -c 'grep -a "removal" /proc/spl/kstat/zfs/dbgmsg | tail -n 5'
run verify_all timeout 120 sh -c 'mount -t zfs -o ro rpool/system/root /mnt && mount -t zfs -o ro rpool/system/var /mnt/var && mount -t zfs -o ro rpool/local/nix /mnt/nix && mount -t zfs -o ro rpool/user/home /mnt/home && cd /mnt && md5sum -c -s /lab/manifest.md5'
true

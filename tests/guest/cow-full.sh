# The immutable origin with a deliberately tiny copy-on-write store (/etc/zevac.toml): what zevac
# and ZFS do when it fills. Nothing here may hang: every step is bounded by `timeout`.
run apply timeout 120 zevac apply
run dm_status timeout 10 dmsetup status zevac-origin
run status_applied timeout 20 zevac status --json
run watch timeout 90 zevac watch
run dm_status_after timeout 10 dmsetup status zevac-origin
run status_after timeout 20 zevac status --json
run zstatus timeout 20 zpool status -p rpool
true

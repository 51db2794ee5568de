# watch.starts_copy, as the NixOS module boots, first boot: apply starts the removal with the copy
# held, the root mounts with EBS to itself, and no watcher comes; the machine then powers off
# without an export, as a reset would.
run apply zevac apply
must mount_root mount_pool rpool /mnt
run read_mounted ebs_read_bytes
sleep 6
run read_later ebs_read_bytes
run status_held zevac status --json
run status_held_text zevac status

# Under NixOS's initrd units (bench/src/nixos.rs): systemd has run initrd.target up to the root's
# mounts (the scenario is ordered after them). What systemd says of zevac.service, the pool's
# import unit and the /sysroot mounts; the pool as zevac left it; then the data, from EBS's
# golden manifest (or, with STAGE2, nothing more: stage 2 follows, nixos-stage2.sh).
show() { run "$1" systemctl show "$2" -p ActiveState,Result,ExecMainStatus,ExecMainStartTimestampMonotonic,ExecMainExitTimestampMonotonic,ActiveEnterTimestampMonotonic,What; }
run pid1 cat /proc/1/comm
# Every command the rewritten units and scripts call, there and executable.
run missing_commands sh -c 'while read -r c; do [ -x "$c" ] || echo "$c"; done < /lab/nixos/commands'
show unit_zevac zevac.service
show unit_import "zfs-import-$POOL.service"
for m in sysroot sysroot-nix sysroot-var; do show "unit_$m" "$m.mount"; done
show unit_root_fs initrd-root-fs.target
run journal_zevac journalctl -b -o cat -u zevac.service
run journal_import journalctl -b -o cat -u "zfs-import-$POOL.service"
run mounts grep " /sysroot" /proc/mounts
run status zevac status --json
run zpool_status zpool status -P "$POOL"
# With STAGE2 the boot goes on to switch root; stage 2 checks the data (nixos-stage2.sh).
if [ -z "$STAGE2" ]; then
	must stop_mounts systemctl stop sysroot-var.mount sysroot-nix.mount sysroot.mount
	verify_manifest "$POOL"
fi

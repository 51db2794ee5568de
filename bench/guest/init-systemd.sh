#!/bin/sh
# The lab's /init for a boot under systemd: what the busybox /init does before udev, then
# Debian's systemd as PID 1 in initrd mode (/etc/initrd-release), which starts udev and its
# trigger as units and then the scenario (lab-scenario.service, wanted by lab.target).
# A boot may name another unit in /lab/systemd-unit: initrd.target, for NixOS's initrd units.
. /lab/early.sh
unit=lab.target
[ -e /lab/systemd-unit ] && unit=$(cat /lab/systemd-unit)
mark systemd_exec unit="$unit"
exec /lib/systemd/systemd --unit="$unit" --log-target=console --show-status=no

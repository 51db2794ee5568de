#!/bin/sh
# The lab's /init for a boot under systemd: what the busybox /init does before udev, then
# Debian's systemd as PID 1 in initrd mode (/etc/initrd-release), which starts udev and its
# trigger as units and then the scenario (lab-scenario.service, wanted by lab.target).
. /lab/early.sh
mark systemd_exec
exec /lib/systemd/systemd --unit=lab.target --log-target=console --show-status=no

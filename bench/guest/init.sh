#!/bin/sh
# The lab's /init: does what a distribution's initrd does before it imports the root pool (mount the
# kernel file systems, load modules, start udev and let it settle), then runs the scenario and powers
# the machine off. Events for the host go to /dev/ttyS1 (see lib.sh); the console is ttyS0.
. /lab/early.sh

/lib/systemd/systemd-udevd --daemon --resolve-names=never || die "udevd did not start"
mark udev_started
udevadm trigger --type=subsystems --action=add
udevadm trigger --type=devices --action=add
udevadm settle --timeout=60 || die "udev did not settle"

. /lab/run.sh

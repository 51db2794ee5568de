# What both of the lab's inits do once udev has settled: tell the host, run the scenario, tell the
# host how it ended, and power off (or, with a stage 2, leave both to it).
ev ready zfs_version="$(cat /sys/module/zfs/version)" init="$(cat /proc/1/comm)" uptime="$(now)"

cd /lab
# A subshell: the scenario gets lib.sh's functions and env, and its `exit` ends only itself.
( . /lab/scenario.sh )
rc=$?
# A boot with a stage 2 goes on to it (bench/guest/nixos/stage2-run.sh ends it).
if [ -e /lab/stage2.sh ]; then
	[ $rc = 0 ] || die "the scenario before stage 2 ended with $rc"
	mark initrd_scenario rc=$rc
	exit 0
fi
ev end rc=$rc uptime="$(now)"
sync
poweroff -f

# What both of the lab's inits do once udev has settled: tell the host, run the scenario, tell the
# host how it ended, and power off.
ev ready zfs_version="$(cat /sys/module/zfs/version)" init="$(cat /proc/1/comm)" uptime="$(now)"

cd /lab
# A subshell: the scenario gets lib.sh's functions and env, and its `exit` ends only itself.
( . /lab/scenario.sh )
rc=$?
ev end rc=$rc uptime="$(now)"
sync
poweroff -f

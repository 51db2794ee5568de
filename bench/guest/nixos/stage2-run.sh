# Stage 2's scenario (lab-stage2.service, after zevac-watch.service is ready): tell the host stage
# 2 is up, run the test's /lab/stage2.sh, tell the host how it ended, and power off.
mark stage2 init="$(cat /proc/1/comm)"
cd /lab
( . /lab/stage2.sh )
rc=$?
ev end rc=$rc uptime="$(now)"
sync
poweroff -f

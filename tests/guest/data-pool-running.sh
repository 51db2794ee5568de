# A running system with a data pool `tank` on a second EBS volume, imported, mounted and being
# written to: zevac apply evacuates it onto the instance stores without an import of its own, and
# the writes go on throughout.
must create zpool create -o ashift=12 -O compression=off -O mountpoint=/tank tank "$LAB_DATA"
must fill dd if=/dev/urandom of=/tank/old bs=1M count=128 conv=fsync
must sum sh -c 'cd /tank && sha256sum old > /tmp/old.sha256'
touch /tmp/writing
( i=0; while [ -e /tmp/writing ]; do
	dd if=/dev/urandom of=/tank/new.$i bs=1M count=2 conv=fsync 2>/dev/null && i=$((i + 1))
done; echo $i > /tmp/written ) &
WRITER=$!
run apply zevac apply --config /lab/tank.toml
run zstatus_started zpool status -p tank
run wait zpool wait -t remove tank
rm /tmp/writing
wait $WRITER
run written cat /tmp/written
run zstatus zpool status -p tank
run status_done zevac status --config /lab/tank.toml --json
run verify sh -c 'cd /tank && sha256sum -c -s /tmp/old.sha256'
run new_files sh -c 'ls /tank | grep -c "^new\."'
true

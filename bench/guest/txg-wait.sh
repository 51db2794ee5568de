# Where the first configuration change after `zpool add` waits: import the golden pool in place,
# add the instance stores, then time `zpool set allocating=off` with the txgs kstat and ZFS's debug
# log around it. Run with `zevac-bench lab boot --script bench/guest/txg-wait.sh --throttle-mib 16`;
# VARIANT (a first line `VARIANT=...` in a copy of the script): plain, sync (`zpool sync` first),
# timeout1 (`zfs_txg_timeout` 1 before the import), stack (the kernel stacks of `zpool`, the txg
# threads and ZFS's task threads three times during the wait, instead of the debug log).
VARIANT=${VARIANT:-plain}
ORIGIN="$LAB_EBS-part2"
P=/sys/module/zfs/parameters
echo 1 > $P/zfs_dbgmsg_enable
[ "$VARIANT" = timeout1 ] && echo 1 > $P/zfs_txg_timeout
must import zpool import -N -d "$ORIGIN" rpool
run txgs0 cat /proc/spl/kstat/zfs/rpool/txgs
must add zpool add -o ashift=12 rpool $LAB_INSTANCE_STORES
run txgs1 cat /proc/spl/kstat/zfs/rpool/txgs
[ "$VARIANT" = sync ] && run sync zpool sync rpool
echo 0 > /proc/spl/kstat/zfs/dbgmsg
if [ "$VARIANT" = stack ]; then
	stacks() {
		for d in /proc/[0-9]*; do
			case "$(cat "$d/comm" 2>/dev/null)" in zpool | txg_sync | txg_quiesce | z_* | dp_*) ;; *) continue ;; esac
			echo "== ${d#/proc/} $(cat "$d/comm")"
			cat "$d/stack"
		done
	}
	zpool set allocating=off rpool "$ORIGIN" &
	SET=$!
	sleep 1; run stack1 stacks
	sleep 1.5; run stack2 stacks
	sleep 1.5; run stack3 stacks
	wait $SET
else
	run set zpool set allocating=off rpool "$ORIGIN"
fi
run txgs2 cat /proc/spl/kstat/zfs/rpool/txgs
run dbgmsg cat /proc/spl/kstat/zfs/dbgmsg
run remove zpool remove rpool "$ORIGIN"
run txgs3 cat /proc/spl/kstat/zfs/rpool/txgs

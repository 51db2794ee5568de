# Where the first configuration change after `zpool add` waits: import the golden pool in place,
# add the instance stores, then time `zpool set allocating=off` with the txgs kstat and ZFS's debug
# log around it. Run with `zevac-bench lab boot --script bench/guest/txg-wait.sh --throttle-mib 16`;
# VARIANT (a first line `VARIANT=...` in a copy of the script): plain, sync (`zpool sync` first),
# timeout1 (`zfs_txg_timeout` 1 before the import).
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
run set zpool set allocating=off rpool "$ORIGIN"
run txgs2 cat /proc/spl/kstat/zfs/rpool/txgs
run dbgmsg cat /proc/spl/kstat/zfs/dbgmsg
run remove zpool remove rpool "$ORIGIN"
run txgs3 cat /proc/spl/kstat/zfs/rpool/txgs

# Records what the commands zevac reads print in each state an evacuation passes through, for the
# parsers' and planner's fixtures (zevac-bench lab boot --script ... then lab record).
# Run with five instance stores (two for rpool, three for a raidz pool) and EBS at 8 MiB/s, so the
# copy is slow enough to catch mid-way.
ORIGIN="$LAB_EBS-part2"
PAUSE=/sys/module/zfs/parameters/zfs_removal_suspend_progress
JSON=no
zpool status -j > /dev/null 2>&1 && JSON=yes

# state NAME: everything zevac inspects, recorded under NAME_*.
# The commands zevac runs (src/zfs/mod.rs says why -g and -P).
state() {
	run "$1_status" zpool status -p -P rpool
	[ $JSON = yes ] && run "$1_status_json" zpool status -j --json-int -p -g rpool
	run "$1_list" zpool list -Hpv -P rpool
	run "$1_get" zpool get -Hp all rpool
}

run version zpool version
run sysfs sh -c 'for d in /sys/block/*; do echo "== $d"; for a in device/model device/serial size queue/logical_block_size queue/physical_block_size removable ro; do printf "%s=" $a; cat $d/$a 2>/dev/null || echo; done; done'
run by_id ls -l /dev/disk/by-id
run blkid_origin blkid -p -o export "$LAB_EBS-part2"
run blkid_origin_disk blkid -p -o export "$LAB_EBS"
run blkid_blank blkid -p -o export "$LAB_IS0"
run import_list zpool import -d "$ORIGIN"
must import zpool import -N -d "$ORIGIN" rpool
run zdb_label zdb -l "$ORIGIN"
state imported
must add zpool add -o ashift=12 rpool "$LAB_IS0" "$LAB_IS1"
state added
run remove_dry zpool remove -n rpool "$ORIGIN"
must remove zpool remove rpool "$ORIGIN"
sleep 3
state removing
run remove_again zpool remove rpool "$ORIGIN"
echo 1 > "$PAUSE"
must export zpool export rpool
must import_paused zpool import -N -d "$ORIGIN" -d "$LAB_IS0-part1" -d "$LAB_IS1-part1" rpool
state paused
echo 0 > "$PAUSE"
must wait zpool wait -t remove rpool
state finished
run blkid_after blkid -p -o export "$LAB_EBS-part2"
run zdb_label_after zdb -l "$ORIGIN"
must checkpoint zpool checkpoint rpool
state checkpointed
run remove_with_checkpoint zpool remove rpool "$LAB_IS1"
must discard zpool checkpoint -d -w rpool
echo 1 > "$PAUSE"
must cancel_setup zpool remove rpool "$LAB_IS1"
run cancel zpool remove -s rpool
echo 0 > "$PAUSE"
state canceled
must export_end zpool export rpool
# A raidz pool is refused for removal.
must raidz_create zpool create -f -o ashift=12 tank raidz "$LAB_IS2" "$LAB_IS3" "$LAB_IS4"
run raidz_status zpool status -p -P tank
[ $JSON = yes ] && run raidz_status_json zpool status -j --json-int -p -g tank
must raidz_destroy zpool destroy tank

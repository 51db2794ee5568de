# Each shipped profile's phases applied with `zevac tune` and read back from the module, then
# restored; the values are compared on the host with the profile files.
P=/sys/module/zfs/parameters
read_params() { run "$1" sh -c "cd $P && grep -H . zfs_vdev_removal_max_active zfs_vdev_removal_min_active zfs_remove_max_segment zfs_vdev_aggregation_limit_non_rotating zfs_vdev_scrub_max_active zfs_scan_vdev_limit zfs_scrub_min_time_ms zfs_removal_suspend_progress"; }
read_params params_initial
for p in gentle balanced fast; do
	for phase in boot steady verify; do
		run "tune_${p}_$phase" zevac tune --profile "$p" --phase "$phase"
		read_params "params_${p}_$phase"
	done
	run "restore_$p" zevac tune --restore
	read_params "params_restored_$p"
done
run profiles zevac profiles --json
run bad_profile zevac tune --profile nosuch
true

# Each shipped profile's phases applied with `zevac tune` and read back from the module, then
# restored; the values are compared on the host with the profile files. $PARAMS: every parameter
# a shipped profile sets (the host writes it above this script).
P=/sys/module/zfs/parameters
read_params() { run "$1" sh -c "cd $P && grep -H . $PARAMS"; }
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

# A checkpoint on rpool, and a raidz pool tank on three instance stores; zevac refuses both.
must import zpool import -N -d "$LAB_EBS-part2" rpool
must checkpoint zpool checkpoint rpool
must export zpool export rpool
run apply_checkpoint zevac apply
must raidz zpool create -o ashift=12 tank raidz "$LAB_IS1" "$LAB_IS2" "$LAB_IS3"
must export_tank zpool export tank
run apply_raidz zevac apply --config /lab/tank.toml
# The exit codes were recorded by `run`; the scenario itself succeeded.
true

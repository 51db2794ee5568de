# Runs zevac apply once; the host reads its exit code and output.
run apply zevac apply
run zstatus zpool status -p
# The exit codes were recorded by `run`; the scenario itself succeeded.
true

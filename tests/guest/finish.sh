# The last boot after crashes: zevac apply resumes the copy, the watcher drives it to a verified
# end (scrub) and releases the snapshot; the golden data is checked.
run apply zevac apply
run watch zevac watch
run status_done zevac status --json
verify_manifest rpool
must export zpool export rpool

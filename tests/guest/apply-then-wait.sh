# Boot 1 of the crash test: zevac apply, then idle until the host pulls the plug mid-copy.
run apply zevac apply
mark applied
while true; do run progress zevac status --json > /dev/null; sleep 2; done

# Helpers for the lab's guest scripts. Events are JSON lines on $LAB_EVENTS, each an object with an
# "event" name and string fields; the host parses them (bench/src/events.rs).
LAB_EVENTS=/dev/ttyS1

# now: seconds since boot, with hundredths.
now() { cut -d' ' -f1 /proc/uptime; }

# status_field NAME: a whole-number field of `zevac status --json` (empty when absent).
status_field() { zevac status --json 2> /dev/null | sed -n "s/^ *\"$1\": \([0-9]*\).*/\1/p"; }

# json_str VALUE: VALUE as the inside of a JSON string.
json_str() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' | tr -d '\r' | sed -e ':a;N;$!ba;s/\n/\\n/g'; }

# ev NAME KEY=VALUE...: sends one event.
ev() {
	_line="{\"event\":\"$1\""
	shift
	for _kv in "$@"; do
		_line="$_line,\"${_kv%%=*}\":\"$(json_str "${_kv#*=}")\""
	done
	printf '%s}\n' "$_line" > "$LAB_EVENTS"
}

# die MESSAGE: reports a failure and powers off.
die() {
	ev fail reason="$*" uptime="$(now)"
	echo "lab: FAILED: $*" > /dev/console
	sync
	poweroff -f
	exit 1
}

# run NAME COMMAND...: runs a command and sends a "cmd" event with its arguments, exit code, start
# and end (seconds since boot), stdout and stderr (base64); prints both; returns its exit code.
run() {
	_name=$1
	shift
	_t0=$(now)
	LC_ALL=C "$@" > /tmp/lab.out 2> /tmp/lab.err
	_rc=$?
	_t1=$(now)
	ev cmd name="$_name" argv="$*" rc="$_rc" start="$_t0" end="$_t1" \
		stdout="$(base64 -w0 < /tmp/lab.out)" stderr="$(base64 -w0 < /tmp/lab.err)"
	cat /tmp/lab.out /tmp/lab.err > /dev/console
	return $_rc
}

# must NAME COMMAND...: like run, but a failure ends the scenario.
must() { run "$@" || die "$1 failed: $(tail -n 3 /tmp/lab.err)"; }

# ebs_read_bytes: bytes read from the whole EBS disk so far (its sysfs counter, in real time).
ebs_read_bytes() { awk '{ print $3 * 512 }' "/sys/block/$(basename "$(readlink -f "$LAB_EBS")")/stat"; }

# sample_ebs_reads FILE: `UPTIME BYTES` of the EBS disk's read counter twice a second into FILE,
# until killed (run it in the background).
sample_ebs_reads() { while :; do echo "$(now) $(ebs_read_bytes)"; sleep 0.5; done > "$1"; }

# sample_status FILE: `UPTIME JSON` lines of a one-shot `zevac status --json` about twice a second
# (0.3 s between calls of 0.15 to 0.2 s) into FILE, until killed (run it in the background).
sample_status() { while :; do echo "$(now) $(zevac status --json 2> /dev/null | tr -d '\n')"; sleep 0.3; done > "$1"; }

# lab_model_of SERIAL: the AWS model the host chose for the disk with this serial.
lab_model_of() { sed -n "s/^$1	//p" /lab/models; }

# mark NAME KEY=VALUE...: a timestamped milestone.
mark() { _n=$1; shift; ev mark name="$_n" uptime="$(now)" "$@"; }

# mount_pool POOL DIR [ro]: mounts the nixpkgs-layout datasets of POOL under DIR.
mount_pool() {
	_o=${3:-rw}
	mkdir -p "$2"
	mount -t zfs -o "$_o" "$1/system/root" "$2" || return 1
	for _ds in system/var:var local/nix:nix user/home:home; do
		mkdir -p "$2/${_ds#*:}" 2>/dev/null
		mount -t zfs -o "$_o" "$1/${_ds%%:*}" "$2/${_ds#*:}" || return 1
	done
}

umount_pool() { umount "$1/home" "$1/nix" "$1/var" "$1"; }

# verify_manifest POOL: mounts POOL read-only and checks every file against the golden manifest
# (/lab/manifest.md5, md5sum lines); the result is the `verify` command record.
verify_manifest() {
	mount_pool "$1" /mnt ro || die "cannot mount pool $1"
	run verify sh -c 'cd /mnt && md5sum -c -s /lab/manifest.md5'
	umount_pool /mnt || die "cannot unmount pool $1"
}

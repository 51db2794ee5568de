#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60), seeded with the outputs recorded in the lab
# (bench/fixtures) and the shipped profiles. Stable Rust will do: RUSTC_BOOTSTRAP lets cargo fuzz
# pass its flags, and `-s none` builds without a sanitizer (the code has no unsafe; libFuzzer
# still finds panics and endless loops; `-a` turns debug assertions on, so overflows panic too).
#   bash fuzz/run.sh [SECONDS]     (installs cargo-fuzz from crates.io if it is missing)
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
export RUSTC_BOOTSTRAP=1
fixtures=../bench/fixtures
seed() { mkdir -p "corpus/$1"; for f in "${@:2}"; do [ -f "$f" ] && cp "$f" "corpus/$1/$(basename "$(dirname "$f")")-$(basename "$f")"; done; }
seed config ../zfs-profiles/*.toml
seed zpool_json "$fixtures"/zfs-*/*/*status_json.stdout
seed small_parsers "$fixtures"/zfs-*/*/*_get.stdout "$fixtures"/zfs-*/*/version.stdout
# 2.1's status and list, as the target reads them: status, a NUL, list.
mkdir -p corpus/zpool_text
for s in "$fixtures"/zfs-2.1.11/*/*_status.stdout; do
	l=${s%_status.stdout}_list.stdout
	[ -f "$l" ] && { cat "$s"; printf '\0'; cat "$l"; } > "corpus/zpool_text/$(basename "$s")"
done
logs=$(mktemp -d)
summary=""
for target in config zpool_json zpool_text small_parsers; do
	echo "fuzz: $target for ${seconds} s"
	log="$logs/$target.log"
	set +e
	cargo fuzz run -s none -a "$target" "corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 >"$log" 2>&1
	status=$?
	set -e
	grep -E '^(#[0-9]+.*(DONE|pulse)|==|SUMMARY|Done|thread .* panicked|.*deadly signal)' "$log" || true
	# A build failure, a cargo-fuzz that cannot run and a finding all end non-zero: each fails.
	if [ "$status" -ne 0 ]; then
		echo "fuzz: $target failed (cargo fuzz exit $status); the last lines of its log:"
		tail -n 30 "$log"
		if compgen -G "artifacts/$target/*" >/dev/null; then echo "fuzz: its findings: $(ls "artifacts/$target")"; fi
		exit 1
	fi
	# libFuzzer's last line: "Done 123456 runs in 15 second(s)". No such line: it did not fuzz.
	done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 || true)
	if [ -z "$done_line" ]; then
		echo "fuzz: $target exited 0 but libFuzzer reported no runs; its log:"; tail -n 30 "$log"; exit 1
	fi
	runs=$(echo "$done_line" | awk '{print $2}')
	secs=$(echo "$done_line" | awk '{print $5}')
	summary+="fuzz: $target: $runs executions in $secs s"$'\n'
done
printf '%s' "$summary"
echo "fuzz: no crash in any target"

#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make fuzz: run every libFuzzer target for N seconds (default 60) on its seed corpus; fail on any
# crash, leak or sanitizer report. Crashes are left as build/fuzz/crash-* for a regression test.
set -u
cd "$(dirname "$0")/../.."
secs=${1:-60}
rc=0
mkdir -p build/fuzz/corpus
for f in build/fuzz/bin/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	seeds=test/fuzz/seeds/${name#fuzz_}
	work=build/fuzz/corpus/$name
	mkdir -p "$work"
	args=("$work")
	[ -d "$seeds" ] && args+=("$seeds")
	echo "fuzz $name: ${secs}s"
	if "$f" -max_total_time="$secs" -print_final_stats=1 -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=build/fuzz/ "${args[@]}" >"build/fuzz/$name.log" 2>&1; then
		echo "fuzz $name: ok ($(grep -Eo 'stat::number_of_executed_units: [0-9]+' "build/fuzz/$name.log" | grep -Eo '[0-9]+' || echo '?') runs)"
	else
		echo "fuzz $name: FAILED (see build/fuzz/$name.log)"
		tail -30 "build/fuzz/$name.log"
		rc=1
	fi
done
exit $rc

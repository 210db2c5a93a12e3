#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The `make bench` runner: runs each benchmark program (every executable build/bench/*, then every
# test/bench/*.sh script, or the programs given as arguments) and passes its output through.
# A program or script that a compiled program hands over to is not run twice: scripts whose name
# matches a build/bench program are skipped. Each program prints lines
# "bench NAME: FIGURE UNIT (baseline FIGURE UNIT, ratio X)" and '#' lines that explain them.
# Builds nothing. Exits 1 if a program fails or prints no bench line.
set -u
cd "$(dirname "$0")/../.."
if [ $# -gt 0 ]; then
	progs=("$@")
else
	progs=()
	for p in build/bench/*; do
		[ -f "$p" ] && [ -x "$p" ] && progs+=("$p")
	done
	for p in test/bench/*.sh test/bench/*.py; do
		case $(basename "$p") in run.sh | lib_*) continue ;; esac
		[ -x "build/bench/$(basename "${p%.*}")" ] && continue
		[ -f "$p" ] && progs+=("$p")
	done
fi
if [ ${#progs[@]} -eq 0 ]; then
	echo "no benchmark programs in build/bench (build them first)" >&2
	exit 1
fi
status=0
for p in "${progs[@]}"; do
	case $p in
	*.sh) out=$(bash "$p") ;;
	*.py) out=$(/usr/bin/python3 "$p") ;;
	*) out=$("$p") ;;
	esac
	rc=$?
	printf '%s\n' "$out"
	if [ "$rc" -ne 0 ]; then
		echo "bench $(basename "$p"): FAILED (exit status $rc)" >&2
		status=1
	elif ! printf '%s\n' "$out" | grep -qE '^bench [^:]+: [^ ]+ [^ ]+ \(baseline [^ ]+ [^,]+, ratio [^)]+\)$'; then
		echo "bench $(basename "$p"): printed no well-formed bench line" >&2
		status=1
	fi
done
exit $status

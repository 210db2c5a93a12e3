# SPDX-License-Identifier: Apache-2.0
# Tiny TAP helpers for script tests; test/run.sh counts the "ok" / "not ok" lines.
TAP_N=0
TAP_FAIL=0
ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAIL=$((TAP_FAIL + 1)); echo "not ok $TAP_N - $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
tap_end() { echo "1..$TAP_N"; [ "$TAP_FAIL" -eq 0 ]; }

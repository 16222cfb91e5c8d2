#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs selftest programs one after another and prints kselftest-style
# TAP: each program's own TAP indented by "# ", then one line for the
# program.  Exit status 0 only when every program passed or skipped.
set -u

timeout_s=${MIGTCP_TEST_TIMEOUT:-600}
ksft_skip=4

echo "TAP version 13"
echo "1..$#"
n=0
failed=0
for test in "$@"; do
	n=$((n + 1))
	name=${test##*/}
	echo "# selftests: migtcp: $name"
	timeout -k 5 "$timeout_s" "$test" 2>&1 | sed -u 's/^/# /'
	rc=${PIPESTATUS[0]}
	case $rc in
	0)	echo "ok $n selftests: migtcp: $name" ;;
	"$ksft_skip")
		echo "ok $n selftests: migtcp: $name # SKIP" ;;
	124)	echo "not ok $n selftests: migtcp: $name # TIMEOUT ${timeout_s} seconds"
		failed=1 ;;
	*)	echo "not ok $n selftests: migtcp: $name # exit=$rc"
		failed=1 ;;
	esac
done
exit $failed

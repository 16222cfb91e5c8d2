#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What "make check" runs inside the test VM: load the freshly built
# module, run every selftest, unload the module (which also proves that
# no socket or slab object was leaked).  Usage: vm_check.sh OUTDIR KO
set -u

out=$1
ko=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$here/lib.sh"
export MIGTCP_KO=$ko

# Networking tools and CRIU in the tests expect a working loopback.
ip link set lo up

if ! insmod "$ko"; then
	echo "Bail out! cannot load $ko"
	exit 1
fi
# The tests close many connections: a short TIME_WAIT lets the module be
# unloaded soon after them (module_test.sh, and at the end).
echo 2 >/sys/module/migtcp/parameters/timewait_secs

make -s --no-print-directory -C selftests run_tests | tee "$out/selftests.tap"
rc=${PIPESTATUS[0]}

if ! wait_unused 120 || ! rmmod migtcp; then
	echo "# vm_check: cannot unload migtcp at the end of the run"
	rc=1
fi
exit "$rc"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What "make check" runs inside the test VM: load the freshly built
# module, run the selftests with the kselftest runner ("make -C selftests
# run_tests": the kernel's lib.mk, the timeout of selftests/settings)
# MIGTCP_REPEAT times (default 1), unload the module (which also proves
# that no socket or slab object was leaked).  Usage: vm_check.sh OUTDIR KO
#
# OUTDIR/selftests.tap gets the TAP of every round, one kselftest TAP
# document per round.  With MIGTCP_REPEAT above 1 each program's lines
# name the round, so every case of every round counts and can be told
# apart:
#   # selftests: migtcp: data_test (round 2/5)
#   ok 5 selftests: migtcp: data_test (round 2/5)
# OUTDIR/selftests.times has one line per program and round: the seconds
# it took, its name and its result.  MIGTCP_TESTS="socket_test
# criu_test.sh" runs only those programs (selftests/Makefile).
set -u

out=$1
ko=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$here/lib.sh"
export MIGTCP_KO=$ko

repeat=${MIGTCP_REPEAT:-1}
if ! [[ $repeat =~ ^[1-9][0-9]*$ ]]; then
	echo "Bail out! MIGTCP_REPEAT must be a positive number, not '$repeat'"
	exit 1
fi

# Networking tools and CRIU in the tests expect a working loopback.
ip link set lo up

# The kselftest runner writes each program's output to /dev/stdout
# (opened as ">>/dev/stdout").  A bare devtmpfs, as the VM's, has none of
# the links that udev makes, and that open would create a regular file
# there, swallowing the output.
for fd in 0:stdin 1:stdout 2:stderr; do
	[ -L "/dev/${fd#*:}" ] || ln -sfn "/proc/self/fd/${fd%%:*}" "/dev/${fd#*:}"
done
[ -L /dev/fd ] || [ -d /dev/fd ] || ln -s /proc/self/fd /dev/fd

# pin_static_keys: holds the kernel's static keys that the tests' tc and
# nftables set-ups switch (ingress_needed_key and egress_needed_key of a
# clsact qdisc, nf_hooks_needed of an inet chain's hooks) on for the
# whole run, with a clsact qdisc on a device of its own and an empty
# chain on each inet hook, both in the initial namespace, where no test
# traffic goes.  Each test's own qdisc or chain then only counts up and
# down, and the kernel never rewrites its transmit and receive paths
# while segments go through them.  That rewrite (text_poke_bp) is made
# safe on a real CPU by serialising ones, but under QEMU's TCG a vCPU
# has been seen executing a stale breakpoint after it: "Oops: int3" in
# __dev_queue_xmit as criu_test healed a partition (clsact deleted)
# with 1000 connections retransmitting through the switch.
pin_static_keys() {
	local dev=migtcp-pin hook

	if ! ip link add "$dev" type dummy 2>/dev/null; then
		dev=lo
	fi
	tc qdisc add dev "$dev" clsact ||
		echo "# vm_check: no clsact qdisc on $dev; tc set-ups will patch kernel text"
	{
		echo "table inet migtcp_pin {"
		for hook in prerouting input forward output postrouting; do
			echo "chain $hook { type filter hook $hook priority 0; policy accept; }"
		done
		echo "}"
	} | nft -f - ||
		echo "# vm_check: no nftables pin; nftables set-ups will patch kernel text"
}
pin_static_keys

# A kernel with kmemleak (make check-debug): what it suspects from before
# the run (the boot) is not the run's; "clear" keeps it out of the scans
# at the end.
kmemleak=/sys/kernel/debug/kmemleak
if [ -w "$kmemleak" ]; then
	echo scan >"$kmemleak"
	echo clear >"$kmemleak"
fi

# prepare_round: the module loaded, with a short TIME_WAIT so that it can
# be unloaded soon after the tests close their connections
# (module_test.sh, and at the end).  module_test.sh leaves the module
# loaded with default parameters, so every round sets this again.
prepare_round() {
	if [ ! -e /sys/module/migtcp ] && ! insmod "$ko"; then
		echo "Bail out! cannot load $ko"
		return 1
	fi
	echo 2 >/sys/module/migtcp/parameters/timewait_secs
}

# name_round ROUND: copies the runner's TAP from stdin to stdout, with
# " (round ROUND/N)" after each program's name when there are several
# rounds, and the time each program took appended to selftests.times.
# Returns 1 if a program failed.
name_round() {
	local round=$1 tag='' line name start=$EPOCHSECONDS failed=0
	local hdr='^# selftests: [^:]+: ([^ ]+)$'
	local res='^((not )?ok [0-9]+ selftests: [^:]+: ([^ ]+))(.*)$'

	[ "$repeat" -gt 1 ] && tag=" (round $round/$repeat)"
	while IFS= read -r line; do
		if [[ $line =~ $hdr ]]; then
			start=$EPOCHSECONDS
			line+=$tag
		elif [[ $line =~ $res ]]; then
			name=${BASH_REMATCH[3]}
			line=${BASH_REMATCH[1]}$tag${BASH_REMATCH[4]}
			[ -z "${BASH_REMATCH[2]}" ] || failed=1
			printf '%6d %s%s %s\n' $((EPOCHSECONDS - start)) "$name" \
				"$tag" "${line%% selftests:*}${BASH_REMATCH[4]}" \
				>>"$out/selftests.times"
		fi
		printf '%s\n' "$line"
	done
	return "$failed"
}

: >"$out/selftests.tap"
: >"$out/selftests.times"
rc=0
for ((round = 1; round <= repeat; round++)); do
	prepare_round || exit 1
	make -s --no-print-directory -C selftests run_tests |
		name_round "$round" | tee -a "$out/selftests.tap"
	status=("${PIPESTATUS[@]}")
	[ "${status[0]}" = 0 ] && [ "${status[1]}" = 0 ] || rc=1
done

if ! wait_unused 120 || ! rmmod migtcp; then
	echo "# vm_check: cannot unload migtcp at the end of the run"
	rc=1
fi

# A kernel with kmemleak (make check-debug): one scan once the module is
# gone, and a second, as the kmemleak documentation advises, since an
# object first seen unreferenced may be a pointer in flight; what stays
# is kept in OUTDIR/kmemleak.log (empty: no leak), which tools/check reads.
if [ -w "$kmemleak" ]; then
	echo scan >"$kmemleak"
	sleep 5
	echo scan >"$kmemleak"
	cat "$kmemleak" >"$out/kmemleak.log"
fi
exit "$rc"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What the benchmark scripts (suite.sh, transport.sh, migration.sh) share:
# paths, messages, the progress count, and the checks and steps before a
# run.  Source it; it sets top, ctl and ko and defines functions only.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ctl=$top/build/userspace/migtcpctl
# The module built for the kernel this runs on (in the test VM), unless
# MIGTCP_KO names another build (a comparison with an older module).
ko=${MIGTCP_KO:-$top/build/kbuild/$(uname -r)/migtcp.ko}
script=$(basename "$0")

die() {
	echo "$script: $*" >&2
	exit 1
}

step() {
	echo "bench: $*"
}

# check_setup BIN OUTDIR: root, the built programs, python3, the output
# directory.
check_setup() {
	local bin=$1 outdir=$2
	[ "$(id -u)" = 0 ] || die "must run as root (inside the test VM: tools/vm run -- bench/$script)"
	[ -x "$bin" ] || die "$bin is not built: run 'make -C bench' on the host"
	[ -x "$ctl" ] || die "$ctl is not built: run 'make userspace' on the host"
	command -v python3 >/dev/null || die "python3 is needed for the summary"
	mkdir -p "$outdir" || die "cannot create $outdir"
}

# Loads the module unless it is loaded already.
load_module() {
	if [ ! -d /sys/module/migtcp ]; then
		[ -f "$ko" ] || die "$ko is not built: run 'make module' on the host"
		step "loading $ko"
		insmod "$ko" || die "cannot load $ko"
	fi
}

# The kernel log lines worth keeping beside the figures, into FILE.
save_kernel_log() {
	dmesg | grep -E 'WARNING:|BUG:|Oops|refcount_t|Call Trace:|soft lockup|blocked for more than|migtcp' >"$1" || true
}

# The measurements of a round of transport.sh: name and parallel streams.
# shellcheck disable=SC2034 # used by the scripts that source this
transport_tests=("bulk 1" "bulk 4" "sendfile 1" "rr 1" "crr 1" "iperf3 1" "iperf3 4" "sockperf 1")

# The number of progress steps of each script, from the same knobs the
# scripts read: suite.sh adds them up for its "[n/N]" count.
# transport_steps ROUNDS TESTS: two memory runs, then every test over
# both transports in every round.
transport_steps() {
	echo $((2 + $1 * $2 * 2))
}

# migration_steps CRIU_MIGRATIONS: downtime, CRIU (if it is to run and
# can: the migtcp-criu wrapper and criu exist), relay.
migration_steps() {
	local n=2
	if [ "$1" -gt 0 ] && [ -n "$(criu_wrapper)" ] && command -v criu >/dev/null; then
		n=3
	fi
	echo "$n"
}

# The migtcp-criu wrapper, built or installed; empty if neither.
criu_wrapper() {
	if [ -x "$top/build/userspace/migtcp-criu" ]; then
		echo "$top/build/userspace/migtcp-criu"
	else
		command -v migtcp-criu || true
	fi
}

# progress TOTAL MSG: one line to stderr, "bench: [n/N] MSG", as a step
# starts.  Under suite.sh the count runs across all scripts: it lives in
# the file MIGTCP_BENCH_PROGRESS ("done total"); a script run alone
# counts its own steps against TOTAL.
progress_done=0
progress() {
	local total=$1 n
	shift
	if [ -n "${MIGTCP_BENCH_PROGRESS:-}" ] && [ -f "$MIGTCP_BENCH_PROGRESS" ]; then
		read -r n total <"$MIGTCP_BENCH_PROGRESS"
		n=$((n + 1))
		echo "$n $total" >"$MIGTCP_BENCH_PROGRESS"
	else
		progress_done=$((progress_done + 1))
		n=$progress_done
	fi
	echo "bench: [$n/$total] $*" >&2
}

# The accelerator the VM runs on: MIGTCP_ACCEL if set, else told by the
# guest: QEMU's TCG names itself in the CPU model, and the kernel logs
# the KVM signature it found.  "tcg", "kvm", "none" or "unknown".
guess_accel() {
	if [ -n "${MIGTCP_ACCEL:-}" ]; then
		echo "$MIGTCP_ACCEL"
	elif grep -q 'QEMU TCG' /proc/cpuinfo; then
		echo tcg
	elif dmesg 2>/dev/null | grep -q 'Hypervisor detected: KVM'; then
		echo kvm
	elif ! grep -qw hypervisor /proc/cpuinfo; then
		echo none
	else
		echo unknown
	fi
}

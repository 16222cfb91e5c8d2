#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What the benchmark scripts (transport.sh, migration.sh) share: paths,
# messages and the checks and steps before a run.  Source it; it sets
# top, ctl and ko and defines functions only.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ctl=$top/build/userspace/migtcpctl
ko=$top/build/kbuild/migtcp.ko
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

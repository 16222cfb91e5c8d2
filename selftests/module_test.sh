#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# migtcp module lifecycle selftests, run as root with the module loaded
# with default parameters:
#  - loads that must fail (family or IP protocol number taken or out of
#    range): exact errno, the kernel log line that explains it, and nothing
#    left registered afterwards;
#  - a load with other numbers, which sockets and segments then use;
#  - max_orphans sized from RAM, or as given at load;
#  - open sockets pin the module (delete_module fails with EWOULDBLOCK);
#  - orphaned connections end when their network namespace goes away;
#  - 50 load/unload cycles with sockets and segments in two network
#    namespaces, leaving no slab cache and no kernel warning behind.
# The module is left loaded with default parameters however this ends.
#
# Environment: MIGTCP_KO, the migtcp.ko to load (the tests are skipped
# without it); MIGTCP_TEST_BIN, the directory holding the hold_socket
# helper (default: this script's directory); MIGTCP_CTL, migtcpctl.
# Prints TAP 13.
#
# The tests are functions run from a table, which shellcheck cannot follow:
# shellcheck disable=SC2317
set -u

readonly CYCLES=50
readonly BAD_LOG='WARNING:|BUG|Oops|refcount_t|Objects remaining|leak'
readonly PARAMS=/sys/module/migtcp/parameters

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib.sh
. "$here/lib.sh"
header=$here/../include/uapi/linux/migtcp.h
hold_bin=${MIGTCP_TEST_BIN:-$here}/hold_socket
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3

[ -n "${MIGTCP_KO:-}" ] || skip_all "MIGTCP_KO is not set"
[ -f "$MIGTCP_KO" ] || skip_all "MIGTCP_KO=$MIGTCP_KO does not exist"
[ "$(id -u)" -eq 0 ] || skip_all "must run as root"
[ -r /proc/slabinfo ] || skip_all "no /proc/slabinfo"

default_of() {
	sed -n "s/^#define[[:space:]]*$1[[:space:]]*\([0-9]*\).*/\1/p" \
		"$header"
}
def_family=$(default_of MIGTCP_FAMILY_DEFAULT)
def_proto=$(default_of MIGTCP_PROTO_DEFAULT)
if [ -z "$def_family" ] || [ -z "$def_proto" ]; then
	skip_all "cannot read the default numbers from $header"
fi

tmp=$(mktemp -d /tmp/migtcp_module_test.XXXXXX) || exit 1
helper=$tmp/helper.py

# Kernel module calls with their exact errno, the kernel log by sequence
# number, and a workload of sockets and segments in two network namespaces.
cat >"$helper" <<'EOF'
import ctypes
import errno
import fcntl
import os
import socket
import struct
import subprocess
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
STATS = ['InSegs', 'InHdrErrors', 'InCsumErrors', 'InBadVersion',
         'InAddrErrors', 'InNoSocket', 'InWrongNode', 'OutSegs', 'OutRsts',
         'OutNoRoute', 'ListenDrops', 'InBacklogDrops', 'RetransSegs',
         'RcvbufDrops', 'OfoPruned', 'ChallengeAcks', 'DelayedAcks',
         'InBadFlags', 'InWindowDrops', 'InKxErrors', 'InCtlErrors',
         'InCtlNoState', 'InCtlBadMac', 'InCtlStaleEpoch', 'InCtlBadHost',
         'InMoved', 'OutCtl', 'InBadEndpoint', 'CtlTimeouts',
         'InHsBadMac', 'InHsNoMac', 'InSynBadSource', 'InXfrmDrops',
         'InFilterDrops', 'LeasesLost', 'AbortOnMemory', 'AbortOnData',
         'OutOfWindowIcmps', 'SyncookiesSent', 'SyncookiesRecv',
         'SyncookiesFailed', 'InCtlMacLimited', 'InSackBlocks',
         'InDsacks', 'InSackInvalid', 'OutSackBlocks', 'OutDsacks',
         'DsackUndo', 'Timeouts', 'RackLost', 'RackReoTimeouts',
         'TlpProbes', 'TlpRecoveries']


def errname(err):
    return errno.errorcode.get(err, str(err))


def fail(msg):
    print(msg)
    sys.exit(1)


def cmd_load(path, *params):
    with open(path, 'rb') as f:
        image = f.read()
    libc.init_module.argtypes = [ctypes.c_char_p, ctypes.c_ulong,
                                 ctypes.c_char_p]
    ret = libc.init_module(image, len(image), ' '.join(params).encode())
    print('OK' if ret == 0 else errname(ctypes.get_errno()))


def cmd_unload(name):
    libc.delete_module.argtypes = [ctypes.c_char_p, ctypes.c_uint]
    ret = libc.delete_module(name.encode(), os.O_NONBLOCK)
    print('OK' if ret == 0 else errname(ctypes.get_errno()))


def cmd_socket(family, proto):
    try:
        s = socket.socket(int(family), socket.SOCK_STREAM, int(proto))
    except OSError as e:
        print(errname(e.errno))
        return
    print('OK', s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN),
          s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL))
    s.close()


def kmsg():
    """(sequence number, text) of every record in the kernel log."""
    fd = os.open('/dev/kmsg', os.O_RDONLY | os.O_NONBLOCK)
    try:
        while True:
            try:
                rec = os.read(fd, 16384)
            except BlockingIOError:
                return
            except BrokenPipeError:
                continue        # overwritten while reading: go on
            head, _, text = rec.decode('utf-8', 'replace').partition(';')
            yield int(head.split(',')[1]), text.split('\n', 1)[0]
    finally:
        os.close(fd)


def cmd_klog_seq():
    last = -1
    for seq, _ in kmsg():
        last = seq
    print(last + 1)


def cmd_klog(since):
    for seq, text in kmsg():
        if seq >= int(since):
            print(text)


def new_netns():
    if libc.unshare(CLONE_NEWNET):
        fail('unshare: ' + os.strerror(ctypes.get_errno()))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack('16sh22x', b'lo', 0))
        flags = struct.unpack('16sh22x', ifr)[1] | IFF_UP
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack('16sh22x', b'lo', flags))


def stats():
    with open('/proc/net/migtcp_stats') as f:
        rows = [line.split() for line in f.read().splitlines()]
    if [r[0] for r in rows] != STATS or any(len(r) != 2 for r in rows):
        fail('bad /proc/net/migtcp_stats: %r' % rows)
    return [int(r[1]) for r in rows]


def listed():
    with open('/proc/net/migtcp') as f:
        lines = f.read().splitlines()
    return sorted(int(line.split()[7]) for line in lines[1:])


def inodes(socks):
    return sorted(os.fstat(s.fileno()).st_ino for s in socks)


def csum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def segment(proto, version=1, payload=b''):
    seg = struct.pack('!BBHIIHHIIHH', version, 7, 0x2, 7, 1, 40000, 1234,
                      1, 0, 65535, 0) + payload
    lo = socket.inet_aton('127.0.0.1')
    check = csum(lo + lo + struct.pack('!BBH', 0, proto, len(seg)) + seg)
    return seg[:26] + struct.pack('!H', check) + seg[28:]


def node(family, proto):
    """A new namespace with two sockets; a few segments; exact counters."""
    new_netns()
    if stats() != [0] * len(STATS):
        fail('counters of a new namespace: %r' % stats())
    socks = [socket.socket(family, socket.SOCK_STREAM, 0),
             socket.socket(family, socket.SOCK_STREAM, proto)]
    if listed() != inodes(socks):
        fail('listed %r, expected %r' % (listed(), inodes(socks)))
    good = segment(proto, payload=bytes(range(100)))
    bad_csum = bytearray(good)
    bad_csum[27] ^= 0xff
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, proto) as raw:
        raw.bind(('127.0.0.1', 0))
        for seg in (good, bytes(bad_csum), good[:20], segment(proto, 2),
                    good):
            raw.sendto(seg, ('127.0.0.1', 0))
    # The namespace has no node id: intact segments name no node of it.
    # InSegs, InHdrErrors, InCsumErrors, InBadVersion, InWrongNode; no
    # other counter moves, however many the module has.
    want = [2, 1, 1, 1, 0, 0, 2] + [0] * (len(STATS) - 7)
    for _ in range(200):
        if stats() == want:
            break
        time.sleep(0.01)
    else:
        fail('counters %r, expected %r' % (stats(), want))
    return socks


def cmd_cycle(family, proto):
    family, proto = int(family), int(proto)
    socks_a = node(family, proto)
    ns_a = os.open('/proc/self/ns/net', os.O_RDONLY)
    socks_b = node(family, proto)       # also: A's sockets not listed
    for s in socks_b:
        s.close()
    if listed():
        fail('closed sockets still listed: %r' % listed())
    if libc.setns(ns_a, CLONE_NEWNET):
        fail('setns: ' + os.strerror(ctypes.get_errno()))
    if listed() != inodes(socks_a):
        fail('listed %r, expected %r' % (listed(), inodes(socks_a)))
    for s in socks_a:
        s.close()
    if listed():
        fail('closed sockets still listed: %r' % listed())


def sh(cmd):
    if subprocess.run(cmd, shell=True).returncode:
        fail('failed: ' + cmd)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET):
        fail('setns: ' + os.strerror(ctypes.get_errno()))


def mig_call(func, s, family, node, port):
    addr = (struct.pack('=H', family) + struct.pack('!H', port) +
            struct.pack('=I', node) + bytes(8))
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if func(s.fileno(), addr, len(addr)):
        fail('%s: %s' % (func.__name__, os.strerror(ctypes.get_errno())))


def states():
    with open('/proc/net/migtcp') as f:
        return [line.split()[3] for line in f.read().splitlines()[1:]]


def cmd_orphans(family):
    """Nodes 1 and 2; node 2 goes silent, both ends of a connection close.

    Both ends live on as orphans retransmitting their FINs to a peer that
    never answers.  Prints their states and the module's reference count;
    when this process exits nothing holds either namespace any more.
    """
    family = int(family)
    ctl = os.environ['MIGTCP_CTL']
    new_netns()
    ns1 = os.open('/proc/self/ns/net', os.O_RDONLY)
    new_netns()
    ns2 = os.open('/proc/self/ns/net', os.O_RDONLY)
    sh('ip link add mig2 type veth peer name mig1 netns /proc/%d/fd/%d' %
       (os.getpid(), ns1))
    sh('ip addr add 192.0.2.2/24 dev mig2 && ip link set mig2 up')
    sh('%s node set id 2 addr 192.0.2.2 && %s peer add 1 addr 192.0.2.1' %
       (ctl, ctl))
    lsk = socket.socket(family, socket.SOCK_STREAM, 0)
    mig_call(libc.bind, lsk, family, 0, 7300)
    lsk.listen(1)
    setns(ns1)
    sh('ip addr add 192.0.2.1/24 dev mig1 && ip link set mig1 up')
    sh('%s node set id 1 addr 192.0.2.1 && %s peer add 2 addr 192.0.2.2' %
       (ctl, ctl))
    c = socket.socket(family, socket.SOCK_STREAM, 0)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                 struct.pack('ll', 5, 0))
    mig_call(libc.connect, c, family, 2, 7300)
    setns(ns2)
    a = libc.accept(lsk.fileno(), None, None)
    if a < 0:
        fail('accept: ' + os.strerror(ctypes.get_errno()))
    sh('tc qdisc add dev mig2 root netem loss 100%')
    os.close(a)
    lsk.close()
    setns(ns1)
    c.close()
    # Node 1's FIN reaches node 2, whose answers are all lost.
    setns(ns2)
    for _ in range(200):
        if states() == ['CLOSING']:
            break
        time.sleep(0.01)
    node2 = states()
    setns(ns1)
    # The sockets closed outright are freed a grace period after their
    # close (SOCK_RCU_FREE), and give the module back then.
    for _ in range(500):
        with open('/sys/module/migtcp/refcnt') as f:
            refcnt = f.read().strip()
        if int(refcnt) <= 2:
            break
        time.sleep(0.01)
    print(' '.join(states() + node2 + [refcnt]))
    os.close(ns1)
    os.close(ns2)


globals()['cmd_' + sys.argv[1].replace('-', '_')](*sys.argv[2:])
EOF

helper() {
	"$python" "$helper" "$@"
}

loaded() {
	[ -e /sys/module/migtcp ]
}

param() {
	cat "$PARAMS/$1" 2>/dev/null
}

slab_count() {
	grep -c '^MIGTCP ' /proc/slabinfo
}

klog_seq() {
	helper klog-seq
}

# klog_has SEQ LINE: the kernel logged exactly LINE since record SEQ.
klog_has() {
	if ! helper klog "$1" | grep -qxF -- "$2"; then
		diag "kernel log lacks: $2"
		return 1
	fi
}

ensure_unloaded() {
	local res

	loaded || return 0
	res=$(helper unload migtcp)
	if [ "$res" != OK ]; then
		diag "cannot unload migtcp: $res"
		return 1
	fi
}

# load PARAMS...: a load that must succeed.
load() {
	local res

	res=$(helper load "$MIGTCP_KO" "$@")
	if [ "$res" != OK ]; then
		diag "load $*: $res"
		return 1
	fi
}

unload() {
	local res

	res=$(helper unload migtcp)
	if [ "$res" != OK ]; then
		diag "unload: $res, expected success"
		return 1
	fi
	if loaded; then
		diag "/sys/module/migtcp remains after unload"
		return 1
	fi
}

# Leave the module loaded with default parameters, whatever happened.
restore() {
	stop_holder
	if loaded && { [ "$(param family)" != "$def_family" ] ||
		       [ "$(param proto)" != "$def_proto" ]; }; then
		rmmod migtcp
	fi
	loaded || insmod "$MIGTCP_KO"
	rm -rf "$tmp"
}
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

test_unload() {
	local seq rc=0

	loaded || load || return 1
	seq=$(klog_seq)
	unload || return 1
	klog_has "$seq" "migtcp: unloaded" || rc=1
	if [ "$(slab_count)" -ne 0 ]; then
		diag "slab cache MIGTCP still exists after unload"
		rc=1
	fi
	return "$rc"
}

test_load_default() {
	local seq rc=0 res

	ensure_unloaded || return 1
	seq=$(klog_seq)
	load || return 1
	klog_has "$seq" \
		"migtcp: loaded (family $def_family, protocol $def_proto)" ||
		rc=1
	if [ "$(param family)" != "$def_family" ] ||
	   [ "$(param proto)" != "$def_proto" ]; then
		diag "sysfs family=$(param family) proto=$(param proto)," \
		     "expected $def_family and $def_proto"
		rc=1
	fi
	if [ "$(slab_count)" -ne 1 ]; then
		diag "slab cache MIGTCP listed $(slab_count) times while loaded"
		rc=1
	fi
	res=$(helper socket "$def_family" 0)
	if [ "$res" != "OK $def_family $def_proto" ]; then
		diag "socket($def_family, SOCK_STREAM, 0): $res"
		rc=1
	fi
	unload || rc=1
	return "$rc"
}

# max_orphans is sized from RAM unless given, as Linux sizes
# tcp_max_orphans: one per 256 KiB (MemTotal is the RAM the kernel
# manages), at most 262144; a value given at load is kept.
test_max_orphans() {
	local want rc=0

	ensure_unloaded || return 1
	want=$(awk '/^MemTotal:/ { n = int($2 / 256);
				  print (n > 262144 ? 262144 : n) }' /proc/meminfo)
	load || return 1
	if [ "$(param max_orphans)" != "$want" ]; then
		diag "max_orphans=$(param max_orphans) by default," \
		     "expected $want (MemTotal / 256 KiB)"
		rc=1
	fi
	unload || return 1
	load max_orphans=7 || return 1
	if [ "$(param max_orphans)" != 7 ]; then
		diag "max_orphans=$(param max_orphans) after a load with 7"
		rc=1
	fi
	unload || return 1
	return "$rc"
}

# load_fails PARAM ERRNO LOGLINE: the load fails with ERRNO, the kernel
# says why, and nothing stays registered: no module, no slab cache, no
# family; a normal load and unload then work.
load_fails() {
	local seq rc=0 res

	ensure_unloaded || return 1
	seq=$(klog_seq)
	res=$(helper load "$MIGTCP_KO" "$1")
	if [ "$res" != "$2" ]; then
		diag "load $1: $res, expected $2"
		rc=1
	fi
	klog_has "$seq" "$3" || rc=1
	if loaded; then
		diag "module present after the failed load"
		ensure_unloaded
		return 1
	fi
	if [ "$(slab_count)" -ne 0 ]; then
		diag "slab cache MIGTCP left by the failed load"
		rc=1
	fi
	res=$(helper socket "$def_family" 0)
	if [ "$res" != EAFNOSUPPORT ]; then
		diag "family $def_family after the failed load: $res," \
		     "expected EAFNOSUPPORT"
		rc=1
	fi
	load || return 1
	unload || return 1
	return "$rc"
}

family_taken() {
	load_fails "family=$1" EEXIST \
		"migtcp: address family $1 is already in use; load with family=N to pick a free slot"
}

proto_taken() {
	load_fails "proto=$1" EEXIST \
		"migtcp: IP protocol $1 is already in use; load with proto=N to pick a free one"
}

family_out_of_range() {
	load_fails "family=$1" EINVAL \
		"migtcp: family=$1 is out of range (1..45)"
}

proto_out_of_range() {
	load_fails "proto=$1" EINVAL \
		"migtcp: proto=$1 is out of range (1..254)"
}

# Family 18 (AF_ASH) and protocol 254 are free: everything follows them.
test_load_other_numbers() {
	local family=18 proto=254 seq rc=0 res out

	ensure_unloaded || return 1
	res=$(helper socket "$family" 0)
	if [ "$res" != EAFNOSUPPORT ]; then
		diag "family $family is not free before the load: $res"
		return 1
	fi
	seq=$(klog_seq)
	load "family=$family" "proto=$proto" || return 1
	klog_has "$seq" "migtcp: loaded (family $family, protocol $proto)" ||
		rc=1
	if [ "$(param family)" != "$family" ] ||
	   [ "$(param proto)" != "$proto" ]; then
		diag "sysfs family=$(param family) proto=$(param proto)"
		rc=1
	fi
	res=$(helper socket "$family" 0)
	if [ "$res" != "OK $family $proto" ]; then
		diag "socket($family, SOCK_STREAM, 0): $res"
		rc=1
	fi
	res=$(helper socket "$family" "$def_proto")
	if [ "$res" != EPROTONOSUPPORT ]; then
		diag "socket($family, SOCK_STREAM, $def_proto): $res"
		rc=1
	fi
	res=$(helper socket "$def_family" 0)
	if [ "$res" != EAFNOSUPPORT ]; then
		diag "socket($def_family, SOCK_STREAM, 0): $res"
		rc=1
	fi
	if ! out=$(helper cycle "$family" "$proto" 2>&1); then
		diag "sockets and segments: $out"
		rc=1
	fi
	seq=$(klog_seq)
	unload || return 1
	klog_has "$seq" "migtcp: unloaded" || rc=1
	return "$rc"
}

# An open socket pins the module; its close releases it, once the socket
# is freed a grace period later (SOCK_RCU_FREE).
test_socket_pins_module() {
	local line="" res rc=0 i

	ensure_unloaded || return 1
	load || return 1
	if [ ! -x "$hold_bin" ]; then
		diag "helper $hold_bin is missing"
		return 1
	fi
	mkfifo "$tmp/hold" || return 1
	# The helper opens its output only once this shell opens the fifo;
	# the file must be there for the reads below before that.
	: >"$tmp/hold.out"
	"$hold_bin" <"$tmp/hold" >"$tmp/hold.out" 2>&1 &
	hold_pid=$!
	exec {hold_fd}>"$tmp/hold"
	for ((i = 0; i < 300; i++)); do
		read -r line <"$tmp/hold.out"
		[ "$line" = ready ] && break
		kill -0 "$hold_pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ "$line" != ready ]; then
		diag "hold_socket did not get ready: $(cat "$tmp/hold.out")"
		stop_holder
		return 1
	fi
	if [ "$(cat /sys/module/migtcp/refcnt)" -lt 1 ]; then
		diag "refcnt $(cat /sys/module/migtcp/refcnt) with a socket open"
		rc=1
	fi
	# EWOULDBLOCK is EAGAIN on Linux.
	res=$(helper unload migtcp)
	if [ "$res" != EAGAIN ]; then
		diag "unload with a socket open: $res, expected EWOULDBLOCK"
		rc=1
	fi
	if ! loaded; then
		diag "module gone while a socket is open"
		stop_holder
		return 1
	fi
	if ! stop_holder; then
		diag "hold_socket failed: $(cat "$tmp/hold.out")"
		rc=1
	fi
	if ! wait_unused 5; then
		diag "refcnt $(cat /sys/module/migtcp/refcnt) 5 s after close"
		rc=1
	fi
	unload || return 1
	return "$rc"
}

# Orphans do not outlive their network namespace: once nothing else holds
# it, they end at once, where they would retransmit for minutes.
test_netns_exit_ends_orphans() {
	local out rc=0

	ensure_unloaded || return 1
	load || return 1
	if [ -z "${MIGTCP_CTL:-}" ]; then
		diag "MIGTCP_CTL is not set"
		unload
		return 1
	fi
	modprobe -q sch_netem 2>/dev/null
	out=$(helper orphans "$def_family" 2>&1)
	# Two orphans, each holding the module once.
	if [ "$out" != "FIN_WAIT1 CLOSING 2" ]; then
		diag "orphans and refcnt: '$out', expected 'FIN_WAIT1 CLOSING 2'"
		rc=1
	fi
	# Else they would hold it for minutes: nothing to unload then.
	if ! wait_unused 10; then
		diag "refcnt $(cat /sys/module/migtcp/refcnt) 10 s after the" \
		     "namespaces of the orphans went away"
		return 1
	fi
	unload || return 1
	return "$rc"
}

test_cycles() {
	local i out family proto

	ensure_unloaded || return 1
	for ((i = 1; i <= CYCLES; i++)); do
		if ! out=$(insmod "$MIGTCP_KO" 2>&1); then
			diag "cycle $i: insmod: $out"
			return 1
		fi
		if [ "$(slab_count)" -ne 1 ]; then
			diag "cycle $i: no slab cache MIGTCP while loaded"
			return 1
		fi
		family=$(param family)
		proto=$(param proto)
		if ! out=$(helper cycle "$family" "$proto" 2>&1); then
			diag "cycle $i: $out"
			return 1
		fi
		# Its sockets are freed a grace period after their close.
		if ! wait_unused 5; then
			diag "cycle $i: refcnt $(cat /sys/module/migtcp/refcnt) 5 s after the sockets closed"
			return 1
		fi
		if ! out=$(rmmod migtcp 2>&1); then
			diag "cycle $i: rmmod: $out"
			return 1
		fi
		if loaded || [ "$(slab_count)" -ne 0 ]; then
			diag "cycle $i: module or slab cache MIGTCP left"
			return 1
		fi
	done
}

test_kernel_log() {
	local bad

	bad=$(helper klog "$start_seq" | grep -E -- "$BAD_LOG")
	if [ -n "$bad" ]; then
		diag "$bad"
		return 1
	fi
}

tests=(
	"test_unload|unload: module and slab cache gone, 'unloaded' logged"
	"test_load_default|load with defaults: numbers in sysfs, logged, usable"
	"test_max_orphans|max_orphans: from RAM by default, as given at load"
	"family_taken 2|family=2 (AF_INET) taken: EEXIST, logged, nothing left"
	"family_taken 16|family=16 (AF_NETLINK) taken: EEXIST, logged, nothing left"
	"family_taken 1|family=1 (AF_UNIX) taken: EEXIST, logged, nothing left"
	"proto_taken 6|proto=6 (TCP) taken: EEXIST, logged, nothing left"
	"proto_taken 17|proto=17 (UDP) taken: EEXIST, logged, nothing left"
	"proto_taken 1|proto=1 (ICMP) taken: EEXIST, logged, nothing left"
	"family_out_of_range 0|family=0: EINVAL, logged, nothing left"
	"family_out_of_range 46|family=46: EINVAL, logged, nothing left"
	"family_out_of_range -1|family=-1: EINVAL, logged, nothing left"
	"proto_out_of_range 0|proto=0: EINVAL, logged, nothing left"
	"proto_out_of_range 255|proto=255: EINVAL, logged, nothing left"
	"proto_out_of_range 256|proto=256: EINVAL, logged, nothing left"
	"test_load_other_numbers|family=18 proto=254: sockets and segments use them"
	"test_socket_pins_module|open socket: unload fails with EWOULDBLOCK, close releases"
	"test_netns_exit_ends_orphans|orphans end when their netns goes away, unpinning the module"
	"test_cycles|$CYCLES load/unload cycles with sockets and segments in two netns"
	"test_kernel_log|no warning, BUG, oops, refcount or leak report in the kernel log"
)

# Connections of earlier tests may still be finishing TIME_WAIT (orphans
# end at once when their namespaces go away, at the end of each test).
wait_unused 120 || diag "migtcp still in use: refcnt $(cat /sys/module/migtcp/refcnt)"
start_seq=$(klog_seq)
run_tests "${tests[@]}"

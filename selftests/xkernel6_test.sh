#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The core of xkernel_test.sh over an IPv6-only underlay, in the same
# boot of the cluster of guests: every node's module loaded afresh with
# a cluster file of "addr6" only (MIGTCP_UNDERLAY=6, cluster_lib.sh), a
# server moved 1 -> 2 -> 1 with migtcp-migrate while node 3 streams both
# ways, every node's counters clean, the modules unloaded.  Its migration
# messages and segments all go over IPv6.  MIGTCP_XKERNEL6_TESTS picks
# other entries of xkernel_test.sh (test_reload and test_cluster first).
export MIGTCP_UNDERLAY=6
export MIGTCP_XKERNEL_TESTS=${MIGTCP_XKERNEL6_TESTS:-test_reload,test_cluster,test_stream_migrations,test_counters,test_unload}
exec "$(dirname "$0")/xkernel_test.sh" "$@"

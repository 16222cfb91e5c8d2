# SPDX-License-Identifier: GPL-2.0
#
# migtcp top-level build.  Everything built or downloaded goes to build/.
#
#   make          module (W=1) and userspace
#   make deps     install the Debian packages the project needs
#   make check    build, boot Debian's kernels (6.1, 6.12) in QEMU, run the
#                 selftests on each; KERNELS="6.12" picks, REPEAT=N repeats
#   make check-debug  the selftests on a KASAN/lockdep/kmemleak 6.12 kernel
#   make fuzz     the fuzzers' long runs in the VM (FUZZ_SEGMENTS=1000000)
#   make lint     checkpatch --strict and sparse over the module
#   make bench    benchmarks in the VM: transport against kernel TCP,
#                 migration against home-node relaying, the out-of-order
#                 queue, TCP against migtcp through a lossy router, then
#                 make bench-xmig (figures only)
#   make bench-xmig  migration between three guests: migtcp-migrate against
#                 a plain dump/copy/restore
#   make bench-ofo  the out-of-order queue under SegmentSmack's pattern
#                 alone (make bench runs it too)
#   make bench-wan  TCP against migtcp through a router with delay, loss
#                 and reordering (iperf3) alone (make bench runs it too)
#   make demo     a server process migrates 1 -> 2 -> 1 under a live stream,
#                 between three guests (DEMO_ARGS=-1: within one guest)
#   make install  install the module, tools, plugin, man pages (DESTDIR=,
#                 PREFIX=/usr/local); make uninstall removes them
#   make install-dkms  the same with the module built by DKMS
#   make deb      Debian packages in build/deb/ (dpkg-buildpackage, lintian)
#   make clean    remove build/ outputs (keeps the downloaded kernel)

TOP	:= $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD	:= $(TOP)/build
KSRC	:= $(BUILD)/ksrc
KSRC_TAR := /usr/src/linux-source-6.1.tar.xz

# The kernels to build for and test on, as tools/kernel names them: Debian
# 12's series (6.1 and 6.12 by default), kernel roots, or build trees.
# KDIR=DIR alone builds for that one kernel tree.
ifdef KDIR
KERNELS	?= $(KDIR)
endif
KERNELS	?= $(shell $(TOP)/tools/kernel list)

# Debian's 6.1 header package carries no vmlinux, so no BTF can be
# generated for the module; turn it off rather than print a notice in
# every build.  One build directory per kernel release: build/kbuild/VER.
KOUT	= $(BUILD)/kbuild/$(KVER)
KBUILD	= $(MAKE) -C $(KDIR) M=$(KOUT) W=1 CONFIG_DEBUG_INFO_BTF_MODULES=

# Runs its argument once per kernel of KERNELS with kver, kroot, kdir and
# ko set (see tools/kernel).
for_each_kernel = set -e; for k in $(KERNELS); do \
	kinfo=$$($(TOP)/tools/kernel fetch "$$k"); eval "$$kinfo"; $(1); done

export TOP BUILD KSRC

.PHONY: all module module-one userspace selftests bench bench-xmig bench-ofo bench-wan demo deps check \
	check-debug fuzz lint lint-one install uninstall install-dkms \
	uninstall-dkms deb clean

all: module userspace selftests

deps:
	@$(TOP)/tools/deps

module:
	+@$(call for_each_kernel,$(MAKE) --no-print-directory module-one KVER=$$kver KDIR=$$kdir)

# Kbuild writes its objects beside the sources it compiles, so it compiles
# a mirror of symbolic links under build/ and the source tree stays clean.
module-one:
	@test -d $(KDIR) || { echo "make: no kernel headers in $(KDIR): run 'make deps' or set KDIR="; exit 1; }
	@echo "  MODULE  $(KVER)"
	@mkdir -p $(KOUT)/module
	@find $(KOUT)/module -xtype l -delete
	@ln -sf $(TOP)/Kbuild $(KOUT)/Kbuild
	@ln -sfn $(TOP)/include $(KOUT)/include
	@for f in $(TOP)/module/*.[ch]; do ln -sf $$f $(KOUT)/module/; done
	+$(KBUILD) modules

# Test and lint tools that come with Debian's kernel source, extracted at
# build time and never committed: the kselftest harness, lib.mk and the
# kselftest runner (selftests/ is a kselftest target), and checkpatch.
KSFT_FILES := kselftest_harness.h kselftest.h lib.mk run_kselftest.sh \
	      kselftest/runner.sh kselftest/prefix.pl kselftest/module.sh
KSRC_FILES := $(addprefix tools/testing/selftests/,$(KSFT_FILES)) \
	      scripts/checkpatch.pl scripts/spelling.txt \
	      scripts/const_structs.checkpatch

# Extracted again when the list grew since the last extraction.
KSRC_MISSING := $(filter-out $(wildcard $(addprefix $(KSRC)/,$(KSRC_FILES))), \
			     $(addprefix $(KSRC)/,$(KSRC_FILES)))

$(KSRC)/.extracted: $(KSRC_TAR) $(if $(KSRC_MISSING),FORCE)
	@test -f $(KSRC_TAR) || { echo "make: $(KSRC_TAR) is missing: run 'make deps'"; exit 1; }
	@echo "  EXTRACT kselftest harness, lib.mk, runner and checkpatch from $(notdir $(KSRC_TAR))"
	@rm -rf $(KSRC) && mkdir -p $(KSRC)
	@tar -xJf $(KSRC_TAR) -C $(KSRC) --strip-components=1 \
		$(addprefix linux-source-6.1/,$(KSRC_FILES))
	@touch $@

FORCE:

userspace:
	+$(MAKE) -C $(TOP)/userspace

selftests: userspace $(KSRC)/.extracted
	+$(MAKE) -C $(TOP)/selftests

# make install / make uninstall (tools/install has the list of files): the
# module for each kernel of KERNELS under MODULEDIR/VER/updates (without
# DESTDIR only for the kernels installed here, then depmod), the tools,
# the preload library, the CRIU plugin, the uapi header, the man pages,
# bash completion, modprobe.d and systemd files.  PREFIX=/usr for a
# system-wide install; any of the directories below can be set alone.
PREFIX		?= /usr/local
INSTALL_VARS	= DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" \
	$(foreach v,BINDIR SBINDIR LIBDIR CRIUPLUGINDIR INCLUDEDIR MANDIR \
		BASHCOMPDIR SYSCONFDIR UNITDIR MODULEDIR,$(if $($(v)),$(v)="$($(v))"))
install_kvers	= kvers=; $(call for_each_kernel,kvers="$$kvers $$kver")

install: module userspace
	+@$(install_kvers); $(INSTALL_VARS) $(TOP)/tools/install install $$kvers

uninstall:
	+@$(install_kvers); $(INSTALL_VARS) $(TOP)/tools/install uninstall $$kvers

# Debian packages migtcp-dkms, migtcp-tools and migtcp-criu (debian/,
# built by tools/deb into build/deb/), then lintian over them.
deb:
	@$(TOP)/tools/deb

# The same, with the module built by DKMS for every kernel the machine
# has and will install (tools/dkms), instead of the one built here.
install-dkms: userspace
	@$(TOP)/tools/dkms install
	@$(INSTALL_VARS) $(TOP)/tools/install install

uninstall-dkms:
	@$(TOP)/tools/dkms uninstall
	@$(INSTALL_VARS) $(TOP)/tools/install uninstall

# make check REPEAT=N runs the selftests N times in each boot.
check:
	@$(TOP)/tools/deps --check >/dev/null || $(TOP)/tools/deps
	+$(MAKE) all
	+$(MAKE) -C $(TOP)/bench
	@MIGTCP_REPEAT=$(or $(REPEAT),1) $(TOP)/tools/check $(KERNELS)

# The whole suite on a debug kernel (KASAN, lockdep, kmemleak, UBSAN, …)
# built from Debian's linux-source-6.12 by tools/debug-kernel and cached
# outside the clone (/var/cache/migtcp), so only the first run builds it.
# Any report of those checkers fails the run.  Not part of CI: too long.
check-debug:
	@$(TOP)/tools/deps --check >/dev/null || $(TOP)/tools/deps
	@root=$$($(TOP)/tools/debug-kernel build | tail -n 1) && test -d "$$root" && \
	$(MAKE) --no-print-directory check KERNELS="$$root" \
		MIGTCP_CHECK_CMDLINE="$$($(TOP)/tools/debug-kernel cmdline)" \
		MIGTCP_CHECK_TIMEOUT=$${MIGTCP_CHECK_TIMEOUT:-10800}

# The fuzzers' long runs: "make check" of the fuzzers alone, for each
# kernel of KERNELS: the segment fuzzer (fuzz_test, FUZZ_SEGMENTS
# segments), the netlink and socket-option fuzzer (nlfuzz_test,
# FUZZ_NL_ITERS inputs per part) and the syscall-sequence fuzzer
# (seqfuzz_test, FUZZ_SEQ_OPS calls), with their MIGTCP_FUZZ_* variables
# passed into the guest (tools/check passes every one);
# MIGTCP_FUZZ_SEED= repeats a run.  The counts the fuzzers printed are
# repeated at the end, then the verdict, "N passed, N failed", as the
# last line.  (The blob fuzzer, ckpt_test's restore_fuzz, runs 100,000
# blobs in make check already.)
FUZZ_SEGMENTS	?= 1000000
FUZZ_NL_ITERS	?= 100000
FUZZ_SEQ_OPS	?= 400000
FUZZ_TESTS	?= fuzz_test nlfuzz_test seqfuzz_test
fuzz:
	@$(TOP)/tools/deps --check >/dev/null || $(TOP)/tools/deps
	+$(MAKE) all
	@mkdir -p $(BUILD)/check
	@{ MIGTCP_TESTS="$(FUZZ_TESTS)" MIGTCP_FUZZ_SEGMENTS=$(FUZZ_SEGMENTS) \
		MIGTCP_FUZZ_NL_ITERS=$(FUZZ_NL_ITERS) \
		MIGTCP_FUZZ_SEQ_OPS=$(FUZZ_SEQ_OPS) \
		MIGTCP_CHECK_TIMEOUT=$${MIGTCP_CHECK_TIMEOUT:-14400} \
		$(TOP)/tools/check $(KERNELS); echo $$? >$(BUILD)/check/fuzz.status; } | \
		tee $(BUILD)/check/fuzz.log
	@grep -E -e 'selftests: migtcp.*: (seq|nl)?fuzz_test' \
		-e '# (fuzz|netlink|sockopt|seqfuzz): [^r]' \
		$(BUILD)/check/selftests.tap; \
	tail -n 1 $(BUILD)/check/fuzz.log; exit $$(cat $(BUILD)/check/fuzz.status)

# One VM run of the whole benchmark suite (bench/suite.sh): transport.sh
# (streambench, iperf3, sockperf: kernel TCP against AF_MIGTCP, iperf3 and
# sockperf under migtcp-run), then migration.sh, then ofo.sh, then
# results.json and the charts.  The run directory is build/bench/run/
# (console.log; out/ with every script's JSON); results.json, ofo.json and
# the PNGs are copied to build/bench/.  The scripts' knobs pass through:
# make bench ROUNDS=1 SECONDS_PER_TEST=2 OFO_SEGMENTS=16384.
BENCH_KNOBS := ROUNDS SECONDS_PER_TEST IDLE_CONNS MIGRATIONS WINDOW \
	       CRIU_MIGRATIONS RELAY_SECS RELAY_ROUNDS
OFO_KNOBS   := OFO_SEGMENTS OFO_BUCKET OFO_SEED
WAN_KNOBS   := ROUNDS WAN_SECONDS WAN_PROFILES
knob_args    = $(foreach k,$(1),$(if $($(k)),$(k)=$($(k))))
bench:
	@$(TOP)/tools/deps --check >/dev/null || $(TOP)/tools/deps
	+$(MAKE) all
	+$(MAKE) -C $(TOP)/bench
	@results="results.json ofo.json wan.json throughput.png latency-cdf.png migration-downtime.png ofo-cost.png wan.png"; \
	cd $(BUILD)/bench && rm -f $$results && cd $(TOP) || exit 1; \
	status=0; $(TOP)/tools/vm run -t 3600 -o $(BUILD)/bench/run -- \
		env MIGTCP_BENCH_OUT=$(BUILD)/bench/run/out \
		$(call knob_args,$(BENCH_KNOBS) $(OFO_KNOBS) $(WAN_KNOBS)) \
		bench/suite.sh || status=$$?; \
	for f in $$results; do \
		[ ! -f $(BUILD)/bench/run/out/$$f ] || cp $(BUILD)/bench/run/out/$$f $(BUILD)/bench/; \
	done; \
	echo "bench: results in $(BUILD)/bench/: $$(cd $(BUILD)/bench && ls $$results 2>/dev/null | tr '\n' ' ')"; \
	$(MAKE) --no-print-directory bench-xmig || status=$$?; \
	exit $$status

# Migration between three guests, each its own kernel (bench/xmigration.sh
# on node 1 of tools/vm cluster): build/bench/xmigration.json, and into
# build/bench/results.json when make bench wrote one.  XMIG_ROUNDS,
# XMIG_MEMORY_MIB pass through; XMIG_KERNELS (default 6.1,6.12,6.1).
XMIG_KERNELS ?= 6.1,6.12,6.1
bench-xmig:
	@$(TOP)/tools/deps --check >/dev/null || $(TOP)/tools/deps
	+$(MAKE) all
	+$(MAKE) -C $(TOP)/bench
	@run=$(BUILD)/bench/cluster; rm -rf $$run $(BUILD)/bench/xmigration.json; \
	status=0; $(TOP)/tools/vm cluster -n 3 -k $(XMIG_KERNELS) -t 5400 -o $$run -- \
		env MIGTCP_BENCH_OUT=$$run/node1/out \
		$(foreach k,XMIG_ROUNDS XMIG_MEMORY_MIB,$(if $($(k)),$(k)=$($(k)))) \
		bench/xmigration.sh || status=$$?; \
	if [ -f $$run/node1/out/xmigration.json ]; then \
		cp $$run/node1/out/xmigration.json $(BUILD)/bench/ && \
		if [ -f $(BUILD)/bench/results.json ]; then \
			python3 $(TOP)/bench/report add-xmigration $(BUILD)/bench/results.json \
				$(BUILD)/bench/xmigration.json; \
		fi; \
	fi; \
	echo "bench-xmig: $(BUILD)/bench/xmigration.json (each run: $$run/node1/out/xmigration/)"; \
	exit $$status

# The out-of-order queue benchmark alone (bench/ofo.sh) in one VM run:
# build/bench/ofo.json and ofo-cost.png, and its figures into
# build/bench/results.json when make bench wrote one.  OFO_SEGMENTS,
# OFO_BUCKET and OFO_SEED pass through; OFO_MEM sets the guest's memory in
# MiB (default 2048; the default 262144 segments take some 200 MiB).
bench-ofo:
	@$(TOP)/tools/deps --check >/dev/null || $(TOP)/tools/deps
	+$(MAKE) all
	+$(MAKE) -C $(TOP)/bench
	@run=$(BUILD)/bench/ofo; cd $(BUILD)/bench && rm -f ofo.json ofo-cost.png && cd $(TOP) || exit 1; \
	status=0; $(TOP)/tools/vm run -t 1800 $(if $(OFO_MEM),-m $(OFO_MEM)) -o $$run -- \
		env MIGTCP_BENCH_OUT=$$run/out $(call knob_args,$(OFO_KNOBS)) \
		bench/ofo.sh || status=$$?; \
	for f in ofo.json ofo-cost.png; do \
		[ ! -f $$run/out/$$f ] || cp $$run/out/$$f $(BUILD)/bench/; \
	done; \
	if [ -f $(BUILD)/bench/ofo.json ] && [ -f $(BUILD)/bench/results.json ]; then \
		python3 $(TOP)/bench/report add-ofo $(BUILD)/bench/results.json \
			$(BUILD)/bench/ofo.json; \
	fi; \
	echo "bench-ofo: $(BUILD)/bench/ofo.json (the run: $$run)"; \
	exit $$status

# Kernel TCP against migtcp through a router with delay, loss and
# reordering (bench/wan.sh); figures only, in build/bench/wan.json and
# wan.png.  WAN_KNOBS: ROUNDS, WAN_SECONDS, WAN_PROFILES.
bench-wan:
	@$(TOP)/tools/deps --check >/dev/null || $(TOP)/tools/deps
	+$(MAKE) all
	+$(MAKE) -C $(TOP)/bench
	@run=$(BUILD)/bench/wan; cd $(BUILD)/bench && rm -f wan.json wan.png && cd $(TOP) || exit 1; \
	status=0; $(TOP)/tools/vm run -t 3600 -o $$run -- \
		env MIGTCP_BENCH_OUT=$$run/out $(call knob_args,$(WAN_KNOBS)) \
		bench/wan.sh || status=$$?; \
	for f in wan.json wan.png; do \
		[ ! -f $$run/out/$$f ] || cp $$run/out/$$f $(BUILD)/bench/; \
	done; \
	echo "bench-wan: $(BUILD)/bench/wan.json (the run: $$run)"; \
	exit $$status

# A three-node cluster in the VM; results in build/demo/out/ (timeline.json,
# demo.png).  DEMO_ARGS go to tools/demo (-m criu|self, -r, -l, -g).
demo:
	@$(TOP)/tools/deps --check >/dev/null || $(TOP)/tools/deps
	+$(MAKE) all
	+$(MAKE) -C $(TOP)/bench
	@$(TOP)/tools/demo $(DEMO_ARGS)

TRACE_H	   := $(TOP)/module/trace.h
LINT_FILES := $(filter-out $(TRACE_H),$(wildcard $(TOP)/module/*.[ch])) \
	      $(TOP)/include/uapi/linux/migtcp.h
CHECKPATCH := perl $(KSRC)/scripts/checkpatch.pl --strict --no-tree --quiet \
	      --show-types -f

# checkpatch runs from build/: in a git work tree it leaves a cache file.
# The TRACE_EVENT() notation of trace.h breaks two layout rules by design
# (as in-tree trace headers do); everything else holds there too.
lint: module $(KSRC)/.extracted
	cd $(BUILD) && $(CHECKPATCH) $(LINT_FILES)
	cd $(BUILD) && $(CHECKPATCH) \
		--ignore OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT $(TRACE_H)
	+@$(call for_each_kernel,$(MAKE) --no-print-directory lint-one KVER=$$kver KDIR=$$kdir)
	@echo "  LINT    clean"

lint-one:
	@echo "  SPARSE  module ($(KVER))"
	@+$(KBUILD) C=2 CHECK=sparse modules 2>&1 | tee $(KOUT)/sparse.log | \
		grep -v -e '^make' -e '^  [A-Z]' || true
	@! grep -q -e 'warning:' -e 'error:' $(KOUT)/sparse.log

clean:
	rm -rf $(BUILD)/kbuild $(BUILD)/userspace $(BUILD)/selftests $(BUILD)/check

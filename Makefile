# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# kpr: make (build), make check (every test), make demo (the netns lab),
# make bench, make install (PREFIX, DESTDIR), make deps (Debian packages).

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)

# SANITIZE=1: the tools and the unit tests under ASan and UBSan, built
# apart so that the two builds never mix objects.
ifeq ($(SANITIZE),1)
BUILD   := build-san
else
BUILD   := build
endif
ARCH    := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
# Read when the Makefile is parsed, which on a fresh machine is before make
# check has installed gcc: Debian's triplet for the machine then stands in.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null || echo $$(uname -m)-linux-gnu)

CFLAGS  ?= -O2 -g
CFLAGS  += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -I$(BUILD) -Icommon -MMD -MP \
	   -DKPR_VERSION='"$(VERSION)"'
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS  += $(SAN_FLAGS)
endif
LDLIBS  := -lbpf -lelf -lz -lmnl -ljansson -lyaml -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -MMD -MP \
	      -I/usr/include/$(MULTIARCH) -Ibpf

TOOLS      := $(basename $(notdir $(wildcard cmd/*.c)))
BINS       := $(addprefix $(BUILD)/,$(TOOLS))
COMMON_SRC := $(wildcard common/*/*.c)
COMMON_OBJ := $(patsubst common/%.c,$(BUILD)/common/%.o,$(COMMON_SRC))
BPF_SRC    := $(wildcard bpf/*.bpf.c)
BPF_OBJ    := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRC))
SKELS      := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRC))
BPF_HDRS   := $(wildcard bpf/*.h bpf/lib/*.h)
# Test-only BPF programs (the lab's XDP_PASS, the bench wrappers, checksum
# probes): built for check, demo and bench, never installed. Their skeletons
# are for the C tests; the bench makes its own (tests/bench/datapath.sh).
TEST_BPF_SRC  := $(wildcard tests/bpf/*.bpf.c)
TEST_BPF_OBJ  := $(patsubst tests/bpf/%.bpf.c,$(BUILD)/tests/bpf/%.bpf.o,$(TEST_BPF_SRC))
TEST_SKELS    := $(patsubst tests/bpf/%.bpf.c,$(BUILD)/tests/bpf/%.skel.h,\
		 $(filter-out tests/bpf/kpr_bench.bpf.c,$(TEST_BPF_SRC)))
UNIT_SRC   := $(wildcard tests/unit/*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# LD_PRELOAD libraries the suites run tools under (tests/preload/*.c)
PRELOAD_SRC := $(wildcard tests/preload/*.c)
PRELOAD_SO  := $(patsubst tests/preload/%.c,$(BUILD)/tests/%.so,$(PRELOAD_SRC))
# libFuzzer harnesses of every parser (clang; the library built again with
# coverage, ASan and UBSan). make check runs each on its corpus for a
# moment (tests/fuzz.bats), make fuzz for FUZZ_TIME seconds each.
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_OBJ   := $(patsubst common/%.c,$(BUILD)/fuzz/common/%.o,$(COMMON_SRC))
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	       -Wall -Wextra -Wno-unused-parameter -std=gnu11 -I$(BUILD) -Icommon -MMD -MP \
	       -DKPR_VERSION='"$(VERSION)"'
FUZZ_TIME  ?= 600

# Debian 12 packages: build, then what the tests and the lab use.
DEPS_BUILD := make gcc clang llvm bpftool pkg-config libbpf-dev libelf-dev \
	      zlib1g-dev libmnl-dev libjansson-dev libyaml-dev
DEPS_TEST  := bats bats-assert bats-support jq iproute2 iptables ipset nftables \
	      curl socat ethtool kmod procps util-linux iputils-ping python3 ansible-core \
	      systemd tcpdump libclang-rt-14-dev
DEPS       := $(DEPS_BUILD) $(DEPS_TEST)
APT_GET    := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends

.PHONY: all deps deps-check check unit demo bench fuzz install clean

all: deps-check $(BINS)

# Installs every package of the lists (apt-get; needs root).
deps:
	apt-get update -qq
	$(APT_GET) $(DEPS)

# Before anything is built, deps-check looks for missing packages (dpkg-query,
# cheap, so every run does it). make check, demo, bench and fuzz need the test
# packages too and install what is missing; every other goal (make, make
# install) installs nothing: it names what is missing and stops. The recipe
# is chosen here, not in the shell, so that `make -n` shows what would run.
ifneq ($(filter check demo bench fuzz,$(MAKECMDGOALS)),)
DEPS_NEED    := $(DEPS)
DEPS_MISSING  = [ "$$(id -u)" -eq 0 ] || { \
		echo "kpr: missing Debian packages: $$missing; installing them needs root (sudo make deps)" >&2; \
		exit 1; }; \
		echo "kpr: installing missing packages: $$missing"; \
		apt-get update -qq && $(APT_GET) $$missing
else
DEPS_NEED    := $(DEPS_BUILD)
DEPS_MISSING  = echo "kpr: missing Debian packages: $$missing" >&2; \
		echo "kpr: install them with 'make deps' (as root), then run make again" >&2; \
		exit 1
endif

deps-check:
	@command -v dpkg-query >/dev/null || exit 0; \
	ok=$$(dpkg-query -W -f='$${Package} $${db:Status-Status}\n' $(DEPS_NEED) 2>/dev/null | \
		awk '$$2 == "installed" { print $$1 }'); \
	missing=$$(for p in $(DEPS_NEED); do \
		printf '%s\n' "$$ok" | grep -qx "$$p" || printf '%s ' "$$p"; done); \
	missing=$${missing% }; \
	if [ -n "$$missing" ]; then $(DEPS_MISSING); fi

# Nothing is built before the check has passed, so that a missing package is
# reported as such and not as a compiler error.
$(BPF_OBJ) $(TEST_BPF_OBJ) $(COMMON_OBJ) $(BINS) $(UNIT_BINS) $(PRELOAD_SO) $(FUZZ_OBJ) $(FUZZ_BINS): | deps-check

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/bpf/%.bpf.o: tests/bpf/%.bpf.c | $(BUILD)/tests/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/tests/bpf/%.skel.h: $(BUILD)/tests/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# Header dependencies come from -MMD; the skeletons are generated headers,
# so every object waits for them on its first build.
$(BUILD)/common/%.o: common/%.c $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libkpr.a: $(COMMON_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/%: cmd/%.c $(BUILD)/libkpr.a $(SKELS)
	$(CC) $(CFLAGS) $< -o $@ $(BUILD)/libkpr.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libkpr.a $(SKELS) $(TEST_SKELS) | $(BUILD)/tests
	$(CC) $(CFLAGS) $< -o $@ $(BUILD)/libkpr.a $(LDLIBS)

$(BUILD)/fuzz/common/%.o: common/%.c $(SKELS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/libkpr.a: $(FUZZ_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(BUILD)/fuzz/libkpr.a
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< -o $@ $(BUILD)/fuzz/libkpr.a $(LDLIBS)

$(BUILD)/tests/%.so: tests/preload/%.c | $(BUILD)/tests
	$(CC) $(CFLAGS) -shared -fPIC $< -o $@ -ldl

$(BUILD)/bpf $(BUILD)/tests $(BUILD)/tests/bpf:
	mkdir -p $@

unit: all $(UNIT_BINS) $(PRELOAD_SO) $(TEST_BPF_OBJ)

# Every test: C unit tests and the bats suites, one closing line of counts.
# Under SANITIZE=1 the same suites drive the sanitized tools; the fuzzers,
# sanitized in either build, run in the plain one only.
ifeq ($(SANITIZE),1)
check: all $(UNIT_BINS) $(PRELOAD_SO) $(TEST_BPF_OBJ)
	@KPR_BIN=$(CURDIR)/$(BUILD) KPR_SANITIZE=1 KPR_SAN_FLAGS='$(SAN_FLAGS)' tests/run.sh
else
check: all $(UNIT_BINS) $(PRELOAD_SO) $(TEST_BPF_OBJ) $(FUZZ_BINS)
	@KPR_BIN=$(CURDIR)/$(BUILD) tests/run.sh
endif

# Each harness for FUZZ_TIME seconds from its corpus; what it finds stays
# under build/fuzz/found/ (new inputs) and build/fuzz/crashes/.
fuzz: $(FUZZ_BINS)
	@KPR_BIN=$(CURDIR)/$(BUILD) tests/fuzz/run.sh $(FUZZ_TIME)

demo: all $(TEST_BPF_OBJ)
	@KPR_BIN=$(CURDIR)/$(BUILD) tests/demo.sh

# connrate.sh runs tests/unit/helper_storm.c's client and server
bench: all $(TEST_BPF_OBJ) $(BUILD)/tests/helper_storm
	@KPR_BIN=$(CURDIR)/$(BUILD) tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/man/man7 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 contrib/systemd/kpr-k8s-sync contrib/systemd/kpr-prometheus $(DESTDIR)$(PREFIX)/sbin/
	sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|' contrib/systemd/kpr-k8s-sync.service \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/kpr-k8s-sync.service
	sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|' contrib/systemd/kpr-prometheus.service \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/kpr-prometheus.service
	install -m 0644 contrib/systemd/*.timer $(DESTDIR)$(PREFIX)/lib/systemd/system/
	install -m 0644 $(wildcard man/*.8) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 $(wildcard man/*.7) $(DESTDIR)$(PREFIX)/share/man/man7/
	cp -P completions/* $(DESTDIR)$(PREFIX)/share/bash-completion/completions/

clean:
	rm -rf build build-san

.SECONDARY: $(BPF_OBJ) $(SKELS) $(TEST_BPF_OBJ) $(TEST_SKELS) $(FUZZ_OBJ)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

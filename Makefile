# archeio build. `make` builds build/archeio and build/archeio-mirror;
# `make test` runs every test (unit + integration); `make install` installs
# (PREFIX, DESTDIR; docs/deploying.md); see README.md.
#
# Layout (one rule per kind of file, so adding a module needs no Makefile edit):
#   user/core/*.c       -> build/libcore.a      (what both binaries use)
#   user/<subsystem>/*.c -> build/libarcheio.a  (the redirector: geo xdp contract
#                                               mirrorcheck http metrics server)
#   user/mirrortool/*.c -> build/libmirrortool.a (archeio-mirror)
#   user/cmd/NAME.c     -> build/NAME          (one main() per binary)
# Public headers are include/archeio/<subsystem>/; internal ones sit beside
# their code and are reachable only from their own folder (and from tests,
# which get -Iuser). See docs/architecture.md.
#   bpf/*.bpf.c       -> build/bpf/*.bpf.o -> build/include/*.skel.h (libbpf skeletons)
#   data/registry-k8s-io.mirrors -> build/include/archeio_default_mirrors.inc (the default
#                       mirror rules, compiled into archeio by user/mirrorcheck/mirror_rules_builtin.c)
#   tests/unit/test_*.c -> build/tests/test_* (cmocka; tests/unit/helpers/*.c -> build/libtesthelpers.a)
#   `make image` -> the OCI image $(IMAGE) (deploy/image/, docs/deploying.md)

BUILD ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
COVERAGE ?= 0

# The version both binaries print (--version) and log at start: `git describe
# --always --dirty` in a git checkout, VERSION otherwise (a release tarball).
# ARCHEIO_VERSION=... on the command line overrides both (a packager's).
VERSION := 0.1.0
ARCHEIO_VERSION ?= $(or $(if $(wildcard .git),$(shell git describe --always --dirty 2>/dev/null)),$(VERSION))
VERSION_HEADER := $(BUILD)/include/archeio_version.h

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-missing-field-initializers -fno-strict-aliasing -pthread
CPPFLAGS += -Iinclude -I$(BUILD)/include
ifeq ($(COVERAGE),1)
CFLAGS += --coverage -O0
LDFLAGS += --coverage
endif
# Sanitizer builds (`make check-sanitize`, `make fuzz`) add their flags here.
CFLAGS += $(SANITIZE)
LDFLAGS += $(SANITIZE)
LDLIBS += -lxdp -lbpf -lelf -lz -levent_pthreads -levent -lcurl -ljansson -lssl -lcrypto -lpthread

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Iinclude -I$(BUILD)/include $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH)) \
	$(BPF_EXTRA_CFLAGS)

SERVER_SUBSYSTEMS := geo xdp contract mirrorcheck http metrics server
CORE_SRCS := $(wildcard user/core/*.c)
LIB_SRCS := $(foreach d,$(SERVER_SUBSYSTEMS),$(wildcard user/$(d)/*.c))
MIRROR_SRCS := $(wildcard user/mirrortool/*.c)
CMD_SRCS := $(wildcard user/cmd/*.c)
BPF_SRCS := $(wildcard bpf/*.bpf.c)
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_HELPER_SRCS := $(wildcard tests/unit/helpers/*.c)

CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MIRROR_OBJS := $(MIRROR_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/obj/%.o)
BINS := $(CMD_SRCS:user/cmd/%.c=$(BUILD)/%)
BPF_OBJS := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/include/%.skel.h)
TESTS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

CORE_LIB := $(BUILD)/libcore.a
LIB := $(BUILD)/libarcheio.a
MIRROR_LIB := $(BUILD)/libmirrortool.a
TEST_HELPER_LIB := $(BUILD)/libtesthelpers.a

.PHONY: FORCE install uninstall all test check-layout check-unit check-integration coverage format format-check clean bench image
.DELETE_ON_ERROR:

all: $(BINS) $(TESTS)

$(BUILD)/include/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c include/archeio/bpf_shared.h | $(BUILD)/include/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/include/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@mkdir -p $(@D)
	$(BPFTOOL) gen skeleton $< > $@

# Rewritten only when the version changes, so only user/core/version.c (the
# one file that includes it) is rebuilt, and then only when it must be.
$(VERSION_HEADER): FORCE
	@mkdir -p $(@D)
	@printf '#define ARCHEIO_VERSION "%s"\n' '$(ARCHEIO_VERSION)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

$(BUILD)/obj/%.o: %.c | $(SKELS) $(VERSION_HEADER)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# The default mirror rules (data/registry-k8s-io.mirrors), compiled into archeio as C string
# literals, one per line: the binary needs no file at run time. Backslashes, quotes and '?'
# (trigraphs) are escaped.
DEFAULT_MIRRORS := data/registry-k8s-io.mirrors
DEFAULT_MIRRORS_INC := $(BUILD)/include/archeio_default_mirrors.inc

$(DEFAULT_MIRRORS_INC): $(DEFAULT_MIRRORS)
	@mkdir -p $(@D)
	LC_ALL=C awk '{ gsub(/[\\"?]/, "\\\\&"); gsub(/\r/, "\\r"); printf "\"%s\\n\"\n", $$0 }' $< > $@

$(BUILD)/obj/user/mirrorcheck/mirror_rules_builtin.o: $(DEFAULT_MIRRORS_INC)

$(CORE_LIB): $(CORE_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(MIRROR_LIB): $(MIRROR_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# An archive, so each test links only the helpers it calls.
$(TEST_HELPER_LIB): $(TEST_HELPER_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# The copying tool links the core only: it cannot reach the redirector's code.
$(BUILD)/archeio-mirror: $(BUILD)/obj/user/cmd/archeio-mirror.o $(MIRROR_LIB) $(CORE_LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/%: $(BUILD)/obj/user/cmd/%.o $(LIB) $(CORE_LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Tests may include internal headers (-Iuser): they check a subsystem from inside.
$(BUILD)/obj/tests/%.o: CPPFLAGS += -Iuser

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TEST_HELPER_LIB) $(MIRROR_LIB) $(LIB) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

# The allocation failure sweeps (tests/unit/test_fault_*.c) fail the Nth
# allocation through tests/unit/helpers/fail_alloc.c: only these binaries are
# linked with --wrap, so no other test and no production build sees it.
FAIL_ALLOC_WRAP := $(foreach f,malloc calloc realloc strdup strndup asprintf vasprintf,-Wl,--wrap=$(f))
$(BUILD)/tests/test_fault_%: LDFLAGS += $(FAIL_ALLOC_WRAP)

# Call direction between subsystems and function size (scripts/check-layout.sh).
check-layout:
	@scripts/check-layout.sh

# Unit tests: every cmocka binary; a failing one fails the target, but all run.
check-unit: check-layout $(TESTS) $(BINS)
	@BUILD=$(BUILD) tests/run-unit.sh $(TESTS)

# Integration tests: scripts under tests/integration, each self-contained and trap-cleaned.
check-integration: $(BINS)
	@BUILD=$(BUILD) tests/run-integration.sh

test: check-unit check-integration

# Line coverage of user/ by the unit and integration suites; fails below
# COVERAGE_MIN percent (the total reached, rounded down: see README.md).
# The object directory is made writable for all so that servers started with
# --user nobody (test_privileges.sh) can write their counts at exit too, and
# COVERAGE=1 reaches the tests that run make, so that a rebuild there (a new
# commit's version header) keeps --coverage instead of failing to link.
# Never give gcovr /dev/null as an output: gcovr 5.2 checks an output path by
# creating it and then unlinking it, which as root deleted /dev/null (and the
# report then became a regular file there, breaking every later `>/dev/null`).
COVERAGE_MIN ?= 95
coverage:
	$(MAKE) BUILD=build-cov COVERAGE=1 check-unit
	chmod -R a+rwX build-cov/obj
	COVERAGE=1 BUILD=build-cov tests/run-integration.sh
	gcovr --root . --filter 'user/' --object-directory build-cov/obj --print-summary \
		--txt build-cov/coverage.txt --html-details build-cov/coverage.html
	@cat build-cov/coverage.txt
	gcovr --root . --filter 'user/' --object-directory build-cov/obj \
		--fail-under-line $(COVERAGE_MIN) --txt build-cov/coverage-gate.txt

# Fuzzing (tests/fuzz/, libFuzzer with ASan+UBSan, clang): every harness for
# FUZZ_SECONDS each, after replaying its saved regressions.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 10
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

fuzz-libs:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang SANITIZE="$(SANITIZE_FLAGS) -fsanitize=fuzzer-no-link" \
		$(FUZZ_BUILD)/libcore.a $(FUZZ_BUILD)/libarcheio.a $(FUZZ_BUILD)/libmirrortool.a

fuzz: fuzz-libs
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

# The unit and integration suites again against an ASan+UBSan build of
# everything (its own build directory); leak checking on for the unit tests.
SANITIZE_BUILD ?= build-asan
check-sanitize:
	$(MAKE) BUILD=$(SANITIZE_BUILD) SANITIZE="$(SANITIZE_FLAGS)" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MAKE) BUILD=$(SANITIZE_BUILD) SANITIZE="$(SANITIZE_FLAGS)" check-unit
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		SANITIZER_RUN=1 BUILD=$(SANITIZE_BUILD) tests/run-integration.sh

# Installation (docs/deploying.md): the two binaries, the ranges refresher,
# the man pages, the systemd units and the sysusers.d entry for their user.
# The XDP program needs no file: the libbpf skeleton embeds it in archeio.
# Units are templates (*.in): @SBINDIR@ becomes where archeio is installed.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
INSTALL ?= install
UNIT_TEMPLATES := $(wildcard deploy/systemd/*.in)
UNITS := $(notdir $(UNIT_TEMPLATES:.in=))

install: $(BINS)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	$(INSTALL) -m 0755 $(BUILD)/archeio $(DESTDIR)$(SBINDIR)/archeio
	$(INSTALL) -m 0755 scripts/fetch-ranges.sh $(DESTDIR)$(SBINDIR)/archeio-fetch-ranges
	$(INSTALL) -m 0755 $(BUILD)/archeio-mirror $(DESTDIR)$(BINDIR)/archeio-mirror
	$(INSTALL) -m 0644 docs/man/archeio.8 $(DESTDIR)$(MANDIR)/man8/archeio.8
	$(INSTALL) -m 0644 docs/man/archeio-mirror.1 $(DESTDIR)$(MANDIR)/man1/archeio-mirror.1
	for unit in $(UNITS); do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' deploy/systemd/$$unit.in >$(DESTDIR)$(SYSTEMDUNITDIR)/$$unit && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$unit || exit 1; \
	done
	$(INSTALL) -m 0644 deploy/systemd/archeio.sysusers $(DESTDIR)$(SYSUSERSDIR)/archeio.conf

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/archeio $(DESTDIR)$(SBINDIR)/archeio-fetch-ranges \
		$(DESTDIR)$(BINDIR)/archeio-mirror $(DESTDIR)$(MANDIR)/man8/archeio.8 \
		$(DESTDIR)$(MANDIR)/man1/archeio-mirror.1 $(DESTDIR)$(SYSUSERSDIR)/archeio.conf \
		$(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(UNITS))

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

bench: $(BINS)
	bench/run.sh

# Container image: a Debian 12 root file system made by mmdebstrap (cached: made
# again only when its script or package list changes), the two binaries and the
# ranges refresher on top; podman or buildah, nothing pulled from a registry.
IMAGE ?= localhost/archeio:latest
IMAGE_ROOTFS := $(BUILD)/image/rootfs.tar

$(IMAGE_ROOTFS): scripts/image-rootfs.sh deploy/image/packages
	scripts/image-rootfs.sh $@

image: $(BUILD)/archeio $(BUILD)/archeio-mirror $(IMAGE_ROOTFS)
	scripts/image-build.sh $(BUILD) $(IMAGE)

clean:
	rm -rf $(BUILD) build-cov $(FUZZ_BUILD) $(SANITIZE_BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

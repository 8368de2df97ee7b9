# archeio build. `make` builds build/archeio and build/archeio-mirror;
# `make test` runs every test (unit + integration); see README.md.
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
#   tests/unit/test_*.c -> build/tests/test_* (cmocka; tests/unit/helpers/*.c -> build/libtesthelpers.a)

BUILD ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
COVERAGE ?= 0

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
# The version both binaries report (core/version.c, the one place it is
# defined): `git describe` of the tree being built, else the release below.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)
LDLIBS += -lxdp -lbpf -lelf -lz -levent_pthreads -levent -lcurl -ljansson -lssl -lcrypto -lpthread

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Iinclude -I$(BUILD)/include $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))

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

.PHONY: FORCE all test check-layout check-unit check-integration coverage format format-check clean bench
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

$(BUILD)/obj/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# Only version.o sees the version, and it is rebuilt only when the version
# changed (the stamp is rewritten only then).
$(BUILD)/version.txt: FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
$(BUILD)/obj/user/core/version.o: $(BUILD)/version.txt
$(BUILD)/obj/user/core/version.o: CPPFLAGS += -DARCHEIO_VERSION='"$(VERSION)"'

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

coverage:
	$(MAKE) BUILD=build-cov COVERAGE=1 check-unit
	BUILD=build-cov tests/run-integration.sh
	gcovr --root . --filter 'user/' --object-directory build-cov/obj --print-summary \
		--txt build-cov/coverage.txt --html-details build-cov/coverage.html
	@cat build-cov/coverage.txt

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
		BUILD=$(SANITIZE_BUILD) tests/run-integration.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

bench: $(BINS)
	bench/run.sh

clean:
	rm -rf $(BUILD) build-cov $(FUZZ_BUILD) $(SANITIZE_BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# mailsim build.  `make run` and `make test` first install the Debian packages
# that are missing (as root), then build.  Everything built goes to build/.

CC      ?= gcc
BUILD   ?= build
SCENARIO ?= scenarios/default.yaml

PKG_CONFIG_LIBS := gsl sqlite3 yaml-0.1
WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L $(WARNINGS) -I. \
           $(shell pkg-config --cflags $(PKG_CONFIG_LIBS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKG_CONFIG_LIBS) 2>/dev/null) -lplot -lm
# Added to every compile and link line: the sanitizer and fuzzing builds
# set it on the command line of a sub-make, which would otherwise drop the
# CFLAGS additions above.
EXTRA_CFLAGS ?=
CFLAGS  += $(EXTRA_CFLAGS)
TEST_LDLIBS := $(shell pkg-config --libs check 2>/dev/null)

# Debian packages: to build and run, and in addition to test.
RUN_PACKAGES  := gcc make pkg-config libgsl-dev libsqlite3-dev libyaml-dev libplot-dev
# swaks, python3-aiosmtpd, libnet-ssleay-perl, openssl and libssl-dev are
# the real SMTP peers of tests/scripts/conformance.sh and their TLS.
TEST_PACKAGES := $(RUN_PACKAGES) check sqlite3 swaks python3-aiosmtpd \
                 libnet-ssleay-perl openssl libssl-dev

LIB_SOURCES := $(wildcard sim/*.c) $(filter-out models/main.c,$(wildcard models/*.c))
LIB_OBJECTS := $(LIB_SOURCES:%.c=$(BUILD)/obj/%.o)
TEST_SOURCES := $(wildcard tests/unit/test_*.c)
TEST_BINARIES := $(TEST_SOURCES:tests/unit/%.c=$(BUILD)/tests/%)
MAILSIM := $(BUILD)/mailsim
CONFORMANCE_BINARIES := $(BUILD)/tests/smtp_wire

.PHONY: all run test deps test-deps clean check-scenarios
.PHONY: sanitize fuzz fuzz-deps memcheck golden
.PHONY: bench
.DELETE_ON_ERROR:

all: $(MAILSIM)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libmailsim.a: $(LIB_OBJECTS)
	@rm -f $@
	ar rcs $@ $^

$(MAILSIM): $(BUILD)/obj/models/main.o $(BUILD)/libmailsim.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmailsim.a tests/unit/test_util.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libmailsim.a $(TEST_LDLIBS) $(LDLIBS)

# The SMTP conformance driver, run by tests/scripts/conformance.sh; it
# needs OpenSSL for STARTTLS.
$(BUILD)/tests/smtp_wire: tests/conformance/smtp_wire.c $(BUILD)/libmailsim.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libmailsim.a $(LDLIBS) \
	    $(shell pkg-config --libs openssl 2>/dev/null)

deps:
	@sh tests/install-packages.sh $(RUN_PACKAGES)

test-deps:
	@sh tests/install-packages.sh $(TEST_PACKAGES)

run: deps
	@$(MAKE) --no-print-directory all
	$(MAILSIM) run $(SCENARIO)

test: test-deps
	@$(MAKE) --no-print-directory all $(TEST_BINARIES) $(CONFORMANCE_BINARIES)
	@sh tests/run-tests.sh $(BUILD)

# Rewrites the pinned event fingerprints that tests/scripts/golden.sh
# checks.  Run it only for an intended change of behaviour, and commit the
# file with that change.
golden: all
	sh tests/golden/fingerprints.sh $(BUILD) > tests/golden/fingerprints.txt
	@cat tests/golden/fingerprints.txt

# `make bench`: speed and memory measurements, not part of `make test`;
# timing never fails it.  docs/performance.md explains the output.
# python3-simpy is the reference of the M/M/c benchmark; sqlite3 reads
# the results of the end-to-end runs.
BENCH_PACKAGES := $(RUN_PACKAGES) sqlite3 python3-simpy
BENCH_PROGRAMS := $(BUILD)/bench/hold $(BUILD)/bench/mmc $(BUILD)/bench/measure

$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libmailsim.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libmailsim.a $(LDLIBS)

bench:
	@sh tests/install-packages.sh $(BENCH_PACKAGES)
	@$(MAKE) --no-print-directory all $(BENCH_PROGRAMS)
	@sh tests/bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)

# `make sanitize`: the library, mailsim and the unit tests built with
# AddressSanitizer (leak detection on) and UndefinedBehaviorSanitizer in
# their own directory, then the whole test suite run against them.  The
# first error stops the program that hit it, so its test fails.
SANITIZE_BUILD := $(BUILD)/sanitize
SANITIZE_CFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -O1
SANITIZE_ENV := ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
                UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

# What `test` builds, moved from $(BUILD) to $(SANITIZE_BUILD).
SANITIZE_PROGRAMS := $(patsubst $(BUILD)/%,$(SANITIZE_BUILD)/%, \
                       $(MAILSIM) $(TEST_BINARIES) $(CONFORMANCE_BINARIES))

sanitize: test-deps
	@$(MAKE) --no-print-directory BUILD=$(SANITIZE_BUILD) \
	    EXTRA_CFLAGS="$(SANITIZE_CFLAGS)" $(SANITIZE_PROGRAMS)
	@$(SANITIZE_ENV) sh tests/run-tests.sh $(SANITIZE_BUILD)

# `make fuzz`: one libFuzzer target for the scenario loader and one for the
# trace reader, built with clang, each run for FUZZ_SECONDS from the seed
# corpus in tests/fuzz/corpus/.  A crash, hang or leak fails the target.
FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := scenario trace
FUZZ_PACKAGES := clang libclang-rt-14-dev
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer \
               -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined

# Built by the sub-make of `fuzz`, in which BUILD is $(FUZZ_BUILD).
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_input.c \
                 tests/fuzz/fuzz_input.h $(BUILD)/libmailsim.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< tests/fuzz/fuzz_input.c \
	    $(BUILD)/libmailsim.a $(LDLIBS)

fuzz-deps:
	@sh tests/install-packages.sh $(RUN_PACKAGES) $(FUZZ_PACKAGES)

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
	    EXTRA_CFLAGS="$(FUZZ_CFLAGS)" $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# `make memcheck`: the default scenario under valgrind's memcheck; any
# memory error or leak, except libplot's own (tests/valgrind.supp), fails.
MEMCHECK_PACKAGES := valgrind

memcheck:
	@sh tests/install-packages.sh $(RUN_PACKAGES) $(MEMCHECK_PACKAGES)
	@$(MAKE) --no-print-directory all
	valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
	    --suppressions=tests/valgrind.supp \
	    $(MAILSIM) run $(SCENARIO) -o $(BUILD)/memcheck

-include $(LIB_OBJECTS:.o=.d) $(BUILD)/obj/models/main.d

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

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJECTS:.o=.d) $(BUILD)/obj/models/main.d

# aup-milter - plain Makefile.
#
#   make                 build into $(O)/ (default build/)
#   make check           build and run every test under prove
#   make check-unit      unit tests only (no Postfix needed)
#   make san-check       the whole suite under ASan+UBSan+LSan (O=build-san)
#   make tsan-check      unit tests under ThreadSanitizer (O=build-tsan)
#   make layers          fail if a module reaches up the dependency order
#   make install DESTDIR=... PREFIX=...
#
# Dependencies run one way: util/ <- lists/ <- policy/ <- milter/, ctl/.

O	?= build
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
STATEDIR ?= /var/lib/aup-milter
LOGDIR	?= /var/log/aup-milter

CC	?= cc
WARN	= -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	  -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) \
	  -Iutil -Ilists -Ipolicy -Itests -MMD -MP
LDLIBS	= -llmdb -lcrypto -lidn2 -lldns -lspf2 -lopendkim -lpthread

ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
endif

LIB_SRC	= $(wildcard util/*.c) $(wildcard lists/*.c) $(wildcard policy/*.c)
MILTER_SRC = $(wildcard milter/*.c)
CTL_SRC	= $(wildcard ctl/*.c)
UNIT_SRC = $(wildcard tests/unit/*.c)
UNIT_BIN = $(patsubst tests/unit/%.c,$(O)/tests/unit/%.t,$(UNIT_SRC))

LIB_OBJ	= $(LIB_SRC:%.c=$(O)/%.o)
MILTER_OBJ = $(MILTER_SRC:%.c=$(O)/%.o)
CTL_OBJ	= $(CTL_SRC:%.c=$(O)/%.o)
LIB	= $(O)/libaup.a

all: $(O)/aup-milter $(O)/aupctl $(UNIT_BIN)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(O)/aup-milter: $(MILTER_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $(MILTER_OBJ) $(LIB) -lmilter $(LDLIBS)

$(O)/aupctl: $(CTL_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $(CTL_OBJ) $(LIB) $(LDLIBS)

$(O)/tests/unit/%.t: $(O)/tests/unit/%.o $(O)/tests/tap.o $(LIB)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

# The exact test command of the README and CI.
# The end-to-end tests need root (a private Postfix master); E2E_STRICT
# makes a missing tool a failure instead of a skip.
# make check also fuzzes each parser briefly (bounded: seconds per target)
# and runs the unit tests under ThreadSanitizer first (tsan-check).
CHECK_FUZZ_SECS ?= 8
TEST_ENV = AUP_MILTER=$(CURDIR)/$(O)/aup-milter AUPCTL=$(CURDIR)/$(O)/aupctl \
	   E2E_STRICT=1

check: all layers
ifneq ($(SAN),1)
	$(MAKE) tsan-check
endif
	$(MAKE) fuzz FUZZ_SECS=$(CHECK_FUZZ_SECS)
	$(TEST_ENV) prove -f $(UNIT_BIN) $(FUZZ_BIN) tests/e2e/*.t

check-unit: all layers
	prove -f $(UNIT_BIN) $(FUZZ_BIN)

san-check:
	$(MAKE) O=build-san SAN=1 CFLAGS="-O1 -g" check

# The threaded modules (group commit, caches, evidence writer) are tested
# by their unit tests with real threads; ThreadSanitizer fails a test on
# a data race or a lock-order inversion (exit status 66).
tsan-check:
	$(MAKE) O=build-tsan SANFLAGS=-fsanitize=thread CFLAGS="-O1 -g" \
	    check-unit

layers:
	@sh scripts/check-layers

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/aup-milter
	install -m 755 $(O)/aup-milter $(O)/aupctl $(DESTDIR)$(SBINDIR)/
	install -m 644 man/aup-milter.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/aup-milter.8 man/aupctl.8 $(DESTDIR)$(MANDIR)/man8/
	sed -e 's|^Database[[:space:]].*|Database		$(STATEDIR)/db|' \
	    -e 's|^EvidenceLog[[:space:]].*|EvidenceLog		$(LOGDIR)/evidence.log|' \
	    etc/aup-milter.conf > $(DESTDIR)$(SYSCONFDIR)/aup-milter/aup-milter.conf.dist
	install -m 644 etc/postfix-main.cf etc/sendmail.mc etc/address-rules \
	    $(DESTDIR)$(SYSCONFDIR)/aup-milter/

clean:
	rm -rf build build-san build-tsan

# Keep the objects of test programs: make would otherwise delete them as
# intermediates after the run, and the test output must end with prove's.
.SECONDARY:

.PHONY: all check check-unit san-check tsan-check layers install clean

-include $(LIB_OBJ:.o=.d) $(MILTER_OBJ:.o=.d) $(CTL_OBJ:.o=.d) \
	 $(UNIT_BIN:.t=.d) $(O)/tests/tap.d

# Run the daemon in the foreground with the checkout's default config.
run: $(O)/aup-milter $(O)/aupctl
	@mkdir -p var
	$(O)/aup-milter -f -c etc/aup-milter.conf

# Real mail through a private Postfix with aup-milter (needs root).
demo: $(O)/aup-milter $(O)/aupctl
	AUP_BUILD=$(O) scripts/demo
.PHONY: run demo

# ---- fuzz targets ---------------------------------------------------------
#
# One target per parser, tests/fuzz/fuzz_<name>.c, with its seed corpus in
# tests/fuzz/corpus/<name>/. Linked with replay.c each is a TAP test,
# $(O)/tests/fuzz/fuzz_<name>.t, that replays its corpus under the normal
# compiler (and under SAN=1 in san-check):
#   make fuzz            build with libFuzzer into $(FUZZ_O)/ and run each
#                        target for FUZZ_SECS seconds; new inputs and crash
#                        artifacts go to $(FUZZ_SCRATCH)/<name>/, never into
#                        the repository (copy a crasher into its corpus by
#                        hand once the bug is fixed).

FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES = $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_BIN = $(patsubst tests/fuzz/%.c,$(O)/tests/fuzz/%.t,$(FUZZ_SRC))
FUZZ_COMMON = $(O)/tests/fuzz/replay.o $(O)/tests/fuzz/fuzz.o $(O)/tests/tap.o

all: $(FUZZ_BIN)

$(O)/tests/fuzz/replay.o: ALL_CFLAGS += \
	-DFUZZ_CORPUS='"$(CURDIR)/tests/fuzz/corpus"'

$(O)/tests/fuzz/%.t: $(O)/tests/fuzz/%.o $(FUZZ_COMMON) $(LIB)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

FUZZ_O	?= build-fuzz
FUZZ_CC	?= clang-14
FUZZ_SECS ?= 20
FUZZ_SCRATCH ?= $(or $(TMPDIR),/tmp)/aup-milter-fuzz
FUZZ_CFLAGS = -O1 -g
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer

# The library is built by a sub-make with O=$(FUZZ_O) and coverage
# instrumentation; the targets are relinked every time (a second each).
fuzz-build:
	$(MAKE) O=$(FUZZ_O) CC=$(FUZZ_CC) CFLAGS="$(FUZZ_CFLAGS)" \
	    SANFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" $(FUZZ_O)/libaup.a
	@set -e; for n in $(FUZZ_NAMES); do \
	    echo "$(FUZZ_CC) -fsanitize=fuzzer ... -o $(FUZZ_O)/fuzz_$$n"; \
	    $(FUZZ_CC) -std=c11 -D_GNU_SOURCE $(WARN) $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer $(FUZZ_SAN) -Iutil -Ilists -Ipolicy \
		-o $(FUZZ_O)/fuzz_$$n tests/fuzz/fuzz_$$n.c tests/fuzz/fuzz.c \
		$(FUZZ_O)/libaup.a $(LDLIBS); \
	done

# Every target runs even when one crashes; the exit status says if any did.
fuzz: fuzz-build
	@fail=; for n in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_SCRATCH)/$$n || exit 1; \
	    echo "fuzz_$$n: $(FUZZ_SECS)s, new inputs in $(FUZZ_SCRATCH)/$$n"; \
	    $(FUZZ_O)/fuzz_$$n -max_total_time=$(FUZZ_SECS) \
		-print_final_stats=1 -artifact_prefix=$(FUZZ_SCRATCH)/$$n- \
		$(FUZZ_SCRATCH)/$$n tests/fuzz/corpus/$$n || fail="$$fail $$n"; \
	done; \
	if [ -n "$$fail" ]; then \
	    echo "fuzz: crashed:$$fail (artifacts in $(FUZZ_SCRATCH))"; exit 1; \
	fi

clean-fuzz:
	rm -rf $(FUZZ_O)

clean: clean-fuzz

.PHONY: fuzz fuzz-build clean-fuzz

-include $(FUZZ_BIN:.t=.d) $(FUZZ_COMMON:.o=.d)

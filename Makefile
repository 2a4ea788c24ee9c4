# parkblf Makefile: one GNU make file, objects under build/.
#
# Targets: all (daemon + fake PBX), check (unit + integration tests),
# unit, integration, interop (against third-party SIP stacks), asan
# (the whole suite under ASan+UBSan), fuzz (libFuzzer targets, clang),
# bench (benchmark, docs/BENCHMARKS.md), bench-compare (parkblf and
# Kamailio's presence server under the same load),
# soak (10 minutes of chaos under ASan+UBSan), demo, ccheck, install,
# uninstall, deb (the Debian package), deb-test (it installed, run and
# purged), clean.
# V=1 prints full commands.

.DEFAULT_GOAL := all
PROJECT  := parkblf
VERSION  := 0.1.0
PREFIX   ?= /usr/local
SYSCONFDIR ?= /etc
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
UNITDIR  ?= $(PREFIX)/lib/systemd/system
BUILD    ?= build

# Statically linked modules, in registration order.
MODULES  := dialog_decoder rlmi_decoder dialog_encoder \
	presence_encoder pidf_decoder vendorxml_decoder

CC       ?= cc
PKGS     := libre libxml-2.0 sqlite3 libcrypto
CFLAGS_BASE := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DHAVE_INET6 \
	-DPARKBLF_VERSION=\"$(VERSION)\" \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wmissing-declarations -Wold-style-definition \
	-Wdeclaration-after-statement -Wcast-align -Wbad-function-cast \
	-Iinclude -Isrc $(shell pkg-config --cflags $(PKGS))
OPT      ?= -O2 -g
# glibc's checked string, memory and I/O calls (and its
# warn_unused_result marks) for every optimised build: they need -O1 or
# more, so an OPT without one (or the empty OPT of debian/rules, whose
# dpkg-buildflags bring their own) gets none.  -U first: a compiler that
# defines it already would warn of a redefinition.
FORTIFY  := $(if $(filter -O -O1 -O2 -O3 -Os -Og -Ofast,$(OPT)),\
	-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2)
CFLAGS   += $(CFLAGS_BASE) $(FORTIFY) $(OPT) $(EXTRA_CFLAGS) -MMD -MP
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lpthread
LDFLAGS  += $(EXTRA_LDFLAGS)

ifeq ($(V),)
Q := @
HUSH_CC = @echo "  CC      $<";
HUSH_LD = @echo "  LD      $@";
endif

# Core sources; every module's module.mk appends to SRCS.
SRCS := src/ptmr.c src/tfifo.c src/randbuf.c src/log.c src/file.c src/config.c src/cfgcheck.c src/orbitmap.c src/orbitrule.c src/orbittmpl.c src/store.c
SRCS += src/decoder.c src/encoder.c src/xmlsafe.c
SRCS += src/notifier.c src/acceptlist.c src/doctpl.c src/subdlg.c src/reach.c src/natkeep.c src/pacer.c src/blflist.c
SRCS += src/tcpswitch.c src/contactfix.c
SRCS += src/upstream.c src/upreplay.c src/capture.c
SRCS += src/reload.c src/alert.c src/history.c src/histdb.c
SRCS += src/tenant.c src/tenants.c
SRCS += src/sipsock.c src/sockclose.c src/strec.c src/txq.c src/wiredump.c src/memtrim.c src/app.c src/metrics.c src/acl.c src/proxytrust.c src/registrar.c src/redirect.c
SRCS += src/sippin.c
SRCS += src/subauth.c src/persist.c src/resume.c
SRCS += src/httpd.c src/httpsrv.c src/board.c
SRCS += src/provision.c src/phonevendor.c src/parksxml.c
include $(patsubst %,modules/%/module.mk,$(MODULES))

MAIN_SRC := src/main.c
OBJS     := $(patsubst %.c,$(BUILD)/%.o,$(SRCS)) $(BUILD)/static.o \
	$(BUILD)/boardpage.o
CORELIB  := $(BUILD)/libparkblf.a
BIN      := $(BUILD)/parkblf

include test/fakepbx/fakepbx.mk
include test/wirecheck/wirecheck.mk
include test/unit/unit.mk
include test/fuzz/fuzz.mk
include test/bench/bench.mk
include test/bench/compare.mk
include test/bench/maplookup.mk
include test/interop/interop.mk
include test/flood/flood.mk

.PHONY: all check unit integration interop asan valgrind demo ccheck \
	install uninstall clean fuzz fuzz-build

all: $(BIN) $(FAKEPBX_BIN) $(WIREFEED_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(HUSH_CC)$(CC) $(CFLAGS) -c $< -o $@

# Static module table, generated from MODULES (as baresip's static.c).
$(BUILD)/static.c: Makefile
	@mkdir -p $(BUILD)
	$(Q)( echo '/* generated from MODULES in the Makefile */'; \
	  echo '#include <re.h>'; \
	  for m in $(MODULES); do \
	    echo "extern const struct mod_export exports_$$m;"; done; \
	  echo 'const struct mod_export *mod_table[] = {'; \
	  for m in $(MODULES); do echo "	&exports_$$m,"; done; \
	  echo '	NULL'; echo '};' ) > $@

$(BUILD)/static.o: $(BUILD)/static.c
	$(HUSH_CC)$(CC) $(CFLAGS) -Wno-missing-prototypes -c $< -o $@

# The live board's page (src/board.html) as a C string
$(BUILD)/boardpage.c: src/board.html
	@mkdir -p $(BUILD)
	$(Q)( echo '/* generated from src/board.html */'; \
	  echo 'extern const char board_page[];'; \
	  echo 'const char board_page[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';' ) > $@

$(BUILD)/boardpage.o: $(BUILD)/boardpage.c
	$(HUSH_CC)$(CC) $(CFLAGS) -c $< -o $@

# made afresh: a member left from a removed source would still be linked
$(CORELIB): $(OBJS)
	$(HUSH_LD)rm -f $@ && $(AR) rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(CORELIB)
	$(HUSH_LD)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

check: unit integration

integration: all
	$(Q)test/integration/run.sh $(BUILD)

# parkblf against third-party SIP stacks (Kamailio, liblinphone, ...),
# each started by its test on loopback; see test/interop/lib.sh
interop: all $(DIALOGWATCH_BIN)
	$(Q)test/interop/run.sh $(BUILD)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
ASAN_MAKE = $(MAKE) --no-print-directory BUILD=build-asan \
	  OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined"
asan:
	$(Q)$(ASAN_MAKE) check

# The soak test (not part of check): SOAK_SECONDS of a flapping fake
# PBX, 200 phones, parks, retrieves and map reloads against the
# ASan+UBSan build; see test/soak/soak.sh.
.PHONY: asan-build soak
SOAK_SECONDS ?= 600
asan-build:
	$(Q)$(ASAN_MAKE) all
soak: asan-build
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) test/soak/soak.sh build-asan

# The whole suite with parkblf under valgrind (memcheck): any error or
# definite leak makes parkblf exit 99, which fails the test.
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite
valgrind: all $(UNIT_BIN)
	$(Q)$(VALGRIND) $(UNIT_BIN)
	$(Q)PARKBLF_WRAP="$(VALGRIND)" test/integration/run.sh $(BUILD)

demo: all
	$(Q)test/demo.sh $(BUILD)

ccheck:
	$(Q)test/ccheck.sh

# The binary, the man pages and the systemd unit under PREFIX; the
# sample config and orbit map in SYSCONFDIR/parkblf only where absent
# (an admin's files are never overwritten: the new samples then land
# beside them as *.sample), an empty upstream_password (0600) for
# the PBX password, which the unit passes to parkblf as a credential,
# and an empty credentials/ (0700) for other secrets (tenants'
# passwords), which the unit passes whole.  uninstall keeps
# SYSCONFDIR/parkblf/*.conf, upstream_password and credentials/.
ETCDIR := $(DESTDIR)$(SYSCONFDIR)/parkblf
ETC_FILES := parkblf.conf orbits.conf

install: $(BIN)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) $(ETCDIR)
	install -m 755 $(BIN) $(DESTDIR)$(SBINDIR)/parkblf
	install -m 644 docs/parkblf.8 $(DESTDIR)$(MANDIR)/man8/parkblf.8
	install -m 644 docs/parkblf.conf.5 \
	  $(DESTDIR)$(MANDIR)/man5/parkblf.conf.5
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' \
	  -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' conf/parkblf.service \
	  >$(DESTDIR)$(UNITDIR)/parkblf.service
	chmod 644 $(DESTDIR)$(UNITDIR)/parkblf.service
	@for f in $(ETC_FILES); do \
	  if [ -e "$(ETCDIR)/$$f" ]; then \
	    echo "  keeping $(ETCDIR)/$$f, new sample as $$f.sample"; \
	    install -m 644 conf/$$f "$(ETCDIR)/$$f.sample" || exit 1; \
	  else \
	    install -m 644 conf/$$f "$(ETCDIR)/$$f" || exit 1; \
	  fi; \
	done
	@# the PBX password: private, passed to the unit as a credential
	@[ -e "$(ETCDIR)/upstream_password" ] || \
	  install -m 600 /dev/null "$(ETCDIR)/upstream_password"
	@# other secrets, one file each: the unit loads the directory
	@[ -e "$(ETCDIR)/credentials" ] || \
	  install -d -m 700 "$(ETCDIR)/credentials"

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/parkblf \
	  $(DESTDIR)$(MANDIR)/man8/parkblf.8 \
	  $(DESTDIR)$(MANDIR)/man5/parkblf.conf.5 \
	  $(DESTDIR)$(UNITDIR)/parkblf.service \
	  $(patsubst %,$(ETCDIR)/%.sample,$(ETC_FILES))
	@echo "  kept $(ETCDIR) (configuration)"

# The Debian package (debian/): dpkg-buildpackage -us -uc -b in a copy
# of the sources, then lintian; $(BUILD)/deb/parkblf_VERSION_ARCH.deb.
# deb-test installs it, runs it against the fake PBX, lights a lamp and
# purges it (root; skips on a machine with a parkblf of its own).
.PHONY: deb deb-test
deb:
	$(Q)test/deb/build.sh $(BUILD)/deb

deb-test: all
	$(Q)test/deb/deb-test.sh $(BUILD)

clean:
	rm -rf build build-asan build-fuzz build-bench

# (not the copy a failed make deb leaves in $(BUILD)/deb)
-include $(shell find $(BUILD) -path $(BUILD)/deb -prune -o -name '*.d' -print 2>/dev/null)

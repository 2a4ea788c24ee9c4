# libFuzzer targets (clang): `make fuzz [FUZZ_SECONDS=60]` builds the
# core, the modules and test/fuzz/ under build-fuzz/ with
# -fsanitize=fuzzer,address,undefined and runs each target for
# FUZZ_SECONDS on a copy of its corpus in test/fuzz/corpus/<target>/.
FUZZ_TARGETS := fuzz_decoders fuzz_config fuzz_sip fuzz_stateful
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=fuzzer,address,undefined
FUZZ_BINS    := $(patsubst %,$(BUILD)/test/fuzz/%,$(FUZZ_TARGETS))
FUZZ_OBJS    := $(patsubst %,$(BUILD)/test/fuzz/%.o,$(FUZZ_TARGETS) \
	fuzz_common)

.SECONDARY: $(FUZZ_OBJS)

$(FUZZ_BINS): $(BUILD)/test/fuzz/%: $(BUILD)/test/fuzz/%.o \
		$(BUILD)/test/fuzz/fuzz_common.o $(CORELIB)
	$(HUSH_LD)$(CC) $(LDFLAGS) $(FUZZ_LDFLAGS_$*) -o $@ $^ $(LDLIBS)

# fuzz_stateful runs libre's sockets and clock itself: libre must call
# its fd_* and tmr_jiffies
FUZZ_LDFLAGS_fuzz_stateful := -Wl,--export-dynamic-symbol=fd_* \
	-Wl,--export-dynamic-symbol=tmr_jiffies

fuzz-build: $(FUZZ_BINS)

fuzz:
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	  OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="$(FUZZ_SAN) -fno-sanitize-recover=all" \
	  EXTRA_LDFLAGS="$(FUZZ_SAN)" fuzz-build
	$(Q)test/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

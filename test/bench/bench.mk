# Load generator of the benchmark (make bench; not installed).
LOADGEN_SRCS := test/bench/loadgen.c
LOADGEN_BIN  := $(BUILD)/loadgen

$(LOADGEN_BIN): $(patsubst %.c,$(BUILD)/%.o,$(LOADGEN_SRCS))
	$(HUSH_LD)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# What a timer costs: parkblf's heap against libre's list (src/ptmr.c)
PTMRBENCH_BIN := $(BUILD)/ptmrbench

$(PTMRBENCH_BIN): $(BUILD)/test/bench/ptmrbench.o $(CORELIB)
	$(HUSH_LD)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The kernel's floor of a 1,000-datagram loopback fan-out (BENCHMARKS.md)
FANFLOOR_BIN := $(BUILD)/fanfloor

$(FANFLOOR_BIN): $(BUILD)/test/bench/fanfloor.o
	$(HUSH_LD)$(CC) $(LDFLAGS) -o $@ $^

# built with the rest, so that they keep compiling
all: $(LOADGEN_BIN) $(PTMRBENCH_BIN) $(FANFLOOR_BIN)

.PHONY: bench bench-build bench-tenants

# The benchmark (not part of check): an optimised build without
# sanitizers in build-bench, then test/bench/bench.sh, then the tenants
# scenario test/bench/tenants.sh (BENCH_TENANTS=0 skips it).  Knobs:
# BENCH_RUNS=N, BENCH_QUICK=1, BENCH_SCALES="1k 10k 50k",
# BENCH_PROFILE=1 (perf or callgrind profiles); the tenants scenario's
# in test/bench/tenants.sh.
bench: bench-build
	$(Q)test/bench/bench.sh build-bench
	$(Q)[ "$(BENCH_TENANTS)" = 0 ] || test/bench/tenants.sh build-bench

bench-build:
	$(Q)$(MAKE) --no-print-directory BUILD=build-bench OPT="-O2 -g" \
	  EXTRA_CFLAGS= EXTRA_LDFLAGS= all

# Only the tenants scenario: does a NOTIFY cost more with 200 tenants?
bench-tenants: bench-build
	$(Q)test/bench/tenants.sh build-bench

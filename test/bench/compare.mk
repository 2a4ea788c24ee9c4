# parkblf against Kamailio's presence server (make bench-compare; not
# part of check, like bench): test/bench/compare.sh with the load
# generator of the benchmark (bench.mk) in an optimised build.
# Knobs: CMP_RUNS, CMP_QUICK=1, CMP_SCALES, CMP_CHILDREN, CMP_OUT and
# bench.sh's BENCH_TPUT_S, BENCH_ROUNDS, ... (docs/BENCHMARKS.md).

COMPARE_STAMP := $(BUILD)/test/bench/compare.ok

# built with the rest: the script at least parses
$(COMPARE_STAMP): test/bench/compare.sh test/bench/bench.sh \
  test/bench/lib.sh
	@mkdir -p $(dir $@)
	$(Q)bash -n test/bench/compare.sh && bash -n test/bench/bench.sh
	@touch $@

# preloaded into Kamailio: its receive buffer as big as parkblf's can
# be (test/bench/rcvbuf_force.c); no sanitizers in a foreign process
RCVBUF_FORCE_SO := $(BUILD)/rcvbuf_force.so

$(RCVBUF_FORCE_SO): test/bench/rcvbuf_force.c
	@mkdir -p $(dir $@)
	$(HUSH_CC)$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror \
	  -Wmissing-prototypes -shared -fPIC -o $@ $< -ldl

all: $(COMPARE_STAMP) $(RCVBUF_FORCE_SO)

.PHONY: bench-compare

bench-compare:
	$(Q)$(MAKE) --no-print-directory BUILD=build-bench OPT="-O2 -g" \
	  EXTRA_CFLAGS= EXTRA_LDFLAGS= all
	$(Q)test/bench/compare.sh build-bench

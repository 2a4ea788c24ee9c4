# Orbit map lookups in the biggest map (make bench-maplookup; not
# installed, not part of check).
MAPLOOKUP_BIN := $(BUILD)/maplookup

$(MAPLOOKUP_BIN): $(BUILD)/test/bench/maplookup.o $(CORELIB)
	$(HUSH_LD)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# built with the rest, so that it keeps compiling
all: $(MAPLOOKUP_BIN)

.PHONY: bench-maplookup
bench-maplookup: $(MAPLOOKUP_BIN)
	$(Q)for i in 1 2 3 4 5; do taskset -c 0 $(MAPLOOKUP_BIN) || exit 1; \
	done

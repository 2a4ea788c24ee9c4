# The wire check's feeder, used by the integration tests (not installed).
WIREFEED_BIN := $(BUILD)/wirefeed

$(WIREFEED_BIN): $(BUILD)/test/wirecheck/wirefeed.o
	$(HUSH_LD)$(CC) $(LDFLAGS) -o $@ $^

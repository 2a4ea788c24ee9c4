# Hostile SIP client of the security tests (not installed).
SIPFLOOD_SRCS := test/flood/sipflood.c
SIPFLOOD_BIN  := $(BUILD)/sipflood

$(SIPFLOOD_BIN): $(patsubst %.c,$(BUILD)/%.o,$(SIPFLOOD_SRCS))
	$(HUSH_LD)$(CC) $(LDFLAGS) -o $@ $^

all: $(SIPFLOOD_BIN)

# Fake PBX used by the integration tests and the demo (not installed).
FAKEPBX_SRCS := test/fakepbx/fakepbx.c test/fakepbx/dnstore.c \
	test/fakepbx/body.c test/fakepbx/subs.c test/fakepbx/cmd.c \
	test/fakepbx/ctrl.c test/fakepbx/script.c
FAKEPBX_BIN  := $(BUILD)/fakepbx

$(FAKEPBX_BIN): $(patsubst %.c,$(BUILD)/%.o,$(FAKEPBX_SRCS))
	$(HUSH_LD)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The interop tests' own programs (included by the Makefile): a
# dialog-event watcher over liblinphone (Debian's liblinphone-dev).
# Debian 12's linphone.pc has an empty Libs: line, hence -llinphone.

DIALOGWATCH_BIN := $(BUILD)/dialogwatch

$(DIALOGWATCH_BIN): test/interop/dialogwatch.c
	@mkdir -p $(dir $@)
	$(HUSH_CC)$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g \
	  -Wall -Wextra -Werror $(shell pkg-config --cflags linphone) \
	  -o $@ $< -llinphone $(shell pkg-config --libs linphone)

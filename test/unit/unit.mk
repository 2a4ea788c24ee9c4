# Unit tests (cmocka): one binary, every group.
UNIT_SRCS := test/unit/main.c test/unit/xmldoc.c test/unit/test_config.c test/unit/test_capture.c test/unit/test_tcpswitch.c test/unit/test_acl.c test/unit/test_persist.c \
	test/unit/test_ptmr.c test/unit/test_tfifo.c test/unit/test_acceptlist.c test/unit/test_sipsock.c test/unit/test_strec.c test/unit/test_upreplay.c test/unit/test_pacer.c test/unit/test_subdlg.c test/unit/test_reach.c test/unit/test_doctpl.c test/unit/test_txq.c \
	test/unit/test_orbitmap.c test/unit/test_orbitrule.c test/unit/test_store.c test/unit/test_alert.c test/unit/test_history.c \
	test/unit/test_dialog_decoder.c test/unit/test_rlmi_decoder.c \
	test/unit/test_dialog_encoder.c test/unit/test_presence_encoder.c \
	test/unit/test_pidf_decoder.c test/unit/test_vendorxml_decoder.c
UNIT_SRCS += test/unit/test_build.c
UNIT_BIN  := $(BUILD)/unittest

$(UNIT_BIN): $(patsubst %.c,$(BUILD)/%.o,$(UNIT_SRCS)) $(CORELIB)
	$(HUSH_LD)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

unit: $(UNIT_BIN)
	$(Q)$(UNIT_BIN)

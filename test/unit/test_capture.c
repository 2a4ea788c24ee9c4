/**
 * @file test_capture.c  The upstream capture file: private, capped
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


static const char notify[] =
	"NOTIFY sip:parkblf@127.0.0.1:5070 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
	"From: <sip:any-dn@127.0.0.1>;tag=a\r\n"
	"To: <sip:parkblf@127.0.0.1>;tag=b\r\n"
	"Call-ID: c1\r\n"
	"CSeq: 2 NOTIFY\r\n"
	"Event: dialog\r\n"
	"Content-Type: application/dialog-info+xml\r\n"
	"Content-Length: 34\r\n"
	"\r\n"
	"<caller>+4930123 Alice Example</a>";


static struct sip_msg *message(void)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(sizeof(notify));

	assert_non_null(mb);
	assert_int_equal(0, mbuf_write_str(mb, notify));
	mb->pos = 0;
	assert_int_equal(0, sip_msg_decode(&msg, mb));
	mem_deref(mb);

	return msg;
}


static off_t file_size(const char *path, mode_t *mode)
{
	struct stat st;

	if (stat(path, &st))
		return -1;
	if (mode)
		*mode = st.st_mode & 0777;

	return st.st_size;
}


static void test_private_and_capped(void **state)
{
	char dir[] = "/tmp/parkblf-cap.XXXXXX", path[256], old[256];
	struct capture *cap = NULL;
	struct sip_msg *msg = message();
	off_t one, size;
	mode_t mode;
	FILE *f;
	int i;
	(void)state;

	assert_non_null(mkdtemp(dir));
	(void)re_snprintf(path, sizeof(path), "%s/capture.txt", dir);
	(void)re_snprintf(old, sizeof(old), "%s.1", path);

	/* one message: its size, and a new file is 0600 */
	assert_int_equal(0, capture_open(&cap, path, 0));
	capture_write(cap, msg);
	cap = mem_deref(cap);
	one = file_size(path, &mode);
	assert_true(one > 300);
	assert_int_equal(0600, mode);
	assert_int_equal(0, unlink(path));

	/* a file someone left 0644 is made private */
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(0, fclose(f));
	assert_int_equal(0, chmod(path, 0644));

	/* cap of 3.5 messages: 3 fit, the 4th moves them to FILE.1 */
	assert_int_equal(0, capture_open(&cap, path, (uint64_t)one * 7 / 2));
	assert_int_equal(0, file_size(path, &mode));
	assert_int_equal(0600, mode);
	for (i = 0; i < 3; i++)
		capture_write(cap, msg);
	assert_int_equal(3 * one, file_size(path, NULL));
	assert_int_equal(-1, file_size(old, NULL));

	capture_write(cap, msg);
	assert_int_equal(one, file_size(path, NULL));
	assert_int_equal(3 * one, file_size(old, &mode));
	assert_int_equal(0600, mode);

	/* and so on: never more than the cap, one old file */
	for (i = 0; i < 20; i++) {
		capture_write(cap, msg);
		size = file_size(path, NULL);
		assert_true(size > 0 && size <= one * 7 / 2);
	}
	cap = mem_deref(cap);

	/* reopened: counts what is there */
	assert_int_equal(0, capture_open(&cap, path, (uint64_t)size));
	capture_write(cap, msg);
	assert_int_equal(one, file_size(path, NULL));
	assert_int_equal(size, file_size(old, NULL));
	cap = mem_deref(cap);

	(void)unlink(path);
	(void)unlink(old);
	(void)rmdir(dir);
	mem_deref(msg);
}


static void test_unwritable(void **state)
{
	struct capture *cap = NULL;
	(void)state;

	assert_int_equal(ENOENT, capture_open(&cap, "/nonexistent/cap.txt",
					      1000));
	assert_null(cap);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_private_and_capped),
	cmocka_unit_test(test_unwritable),
};

const struct unit_group unit_capture = UNIT_GROUP(capture, tests);

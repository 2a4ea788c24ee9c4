/**
 * @file test_persist.c  The subscription database
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "persist.h"
#include "unit.h"


struct seen {
	unsigned n;
	char callid[64];
	uint32_t version, cseq;
	uint64_t expires_at;
	int tp;
};


static void load_h(const struct persist_sub *s, void *arg)
{
	struct seen *seen = arg;

	++seen->n;
	str_ncpy(seen->callid, s->callid, sizeof(seen->callid));
	seen->version = s->version;
	seen->cseq = s->cseq;
	seen->expires_at = s->expires_at;
	seen->tp = s->tp;
	assert_string_equal("sip:park-1@h", s->local);
	assert_string_equal("park-1", s->orbit);
}


static void remove_side_files(const char *path)
{
	char f[80];

	(void)re_snprintf(f, sizeof(f), "%s-wal", path);
	unlink(f);
	(void)re_snprintf(f, sizeof(f), "%s-shm", path);
	unlink(f);
}


static void sub_init(struct persist_sub *s, const char *callid)
{
	memset(s, 0, sizeof(*s));
	s->callid = callid;
	s->ltag = "00000000deadbeef";
	s->rtag = "phone-tag";
	s->local = "sip:park-1@h";
	s->remote = "sip:phone@10.0.0.5";
	s->target = "sip:phone@10.0.0.5:5062";
	s->orbit = "park-1";
	s->event = "dialog";
	s->entity = "sip:park-1@h";
	s->expires_at = 1800000000000ULL;
	s->version = 3;
	s->tp = 1;
}


static void test_save_update_delete_reopen(void **state)
{
	char path[] = "/tmp/parkblf-persist-XXXXXX";
	struct persist *p = NULL;
	struct persist_sub s;
	struct seen seen;
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	unlink(path);

	assert_int_equal(0, persist_open(&p, path));
	sub_init(&s, "call-a");
	assert_int_equal(0, persist_save(p, &s));
	sub_init(&s, "call-b");
	assert_int_equal(0, persist_save(p, &s));
	assert_int_equal(0, persist_update(p, "call-b", "phone-tag", 9,
					   1879048300, 1900000000000ULL));
	assert_int_equal(0, persist_delete(p, "call-a", "phone-tag"));
	p = mem_deref(p);

	/* what a new process finds */
	assert_int_equal(0, persist_open(&p, path));
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(0, persist_load(p, load_h, &seen));
	assert_int_equal(1, seen.n);
	assert_string_equal("call-b", seen.callid);
	assert_int_equal(9, seen.version);
	assert_int_equal(1879048300, seen.cseq);
	assert_true(seen.expires_at == 1900000000000ULL);
	assert_int_equal(1, seen.tp);
	p = mem_deref(p);

	unlink(path);
	remove_side_files(path);
}


static void test_corrupt_set_aside(void **state)
{
	char path[] = "/tmp/parkblf-persist-XXXXXX";
	char aside[64];
	struct persist *p = NULL;
	struct seen seen;
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	assert_true(write(fd, "not a database at all, just text\n", 33) ==
		    33);
	close(fd);

	assert_int_equal(0, persist_open(&p, path));
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(0, persist_load(p, load_h, &seen));
	assert_int_equal(0, seen.n);
	p = mem_deref(p);

	(void)re_snprintf(aside, sizeof(aside), "%s.corrupt", path);
	assert_int_equal(0, access(aside, F_OK));
	unlink(aside);
	unlink(path);
	remove_side_files(path);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_save_update_delete_reopen),
	cmocka_unit_test(test_corrupt_set_aside),
};

const struct unit_group unit_persist = UNIT_GROUP(persist, tests);

/**
 * @file test_txq.c  The fast path's datagrams, many per sendmmsg
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


struct sink {
	struct udp_sock *us;
	struct sa addr;
	char got[8][16];
	unsigned n;
};

static struct tmr tmr_stop;


static void sink_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct sink *k = arg;
	(void)src;

	if (k->n < 8)
		(void)re_snprintf(k->got[k->n], sizeof(k->got[0]), "%b",
				  mbuf_buf(mb), mbuf_get_left(mb));
	++k->n;
}


static void stop_handler(void *arg)
{
	(void)arg;
	re_cancel();
}


static void run(uint32_t ms)
{
	tmr_start(&tmr_stop, ms, stop_handler, NULL);
	(void)re_main(NULL);
	tmr_cancel(&tmr_stop);
}


static void queue(int fd, const struct sink *k, const char *text)
{
	char *p = txq_reserve(64);

	assert_non_null(p);
	memcpy(p, text, strlen(text));
	txq_commit(fd, &k->addr, strlen(text));
}


/* Queued datagrams go in one system call per socket, in order, at a
   flush; nothing before it */
static void test_batch(void **state)
{
	struct udp_sock *src = NULL;
	struct sink k;
	struct sa laddr;
	uint64_t calls;
	int fd;
	(void)state;

	memset(&k, 0, sizeof(k));
	assert_int_equal(0, sa_set_str(&laddr, "127.0.0.1", 0));
	assert_int_equal(0, udp_listen(&k.us, &laddr, sink_recv, &k));
	assert_int_equal(0, udp_local_get(k.us, &k.addr));
	assert_int_equal(0, udp_listen(&src, &laddr, NULL, NULL));
	fd = udp_sock_fd(src, AF_INET);

	calls = txq_calls();
	queue(fd, &k, "one");
	queue(fd, &k, "two");
	queue(fd, &k, "three");
	assert_int_equal(3, txq_count());
	assert_int_equal(calls, txq_calls());

	txq_flush();
	assert_int_equal(0, txq_count());
	assert_int_equal(calls + 1, txq_calls());
	run(100);
	assert_int_equal(3, k.n);
	assert_string_equal("one", k.got[0]);
	assert_string_equal("two", k.got[1]);
	assert_string_equal("three", k.got[2]);

	mem_deref(src);
	mem_deref(k.us);
}


/* Without a flush, the main loop's next timers send them */
static void test_flushed_by_loop(void **state)
{
	struct udp_sock *src = NULL;
	struct sink k;
	struct sa laddr;
	int fd;
	(void)state;

	memset(&k, 0, sizeof(k));
	assert_int_equal(0, sa_set_str(&laddr, "127.0.0.1", 0));
	assert_int_equal(0, udp_listen(&k.us, &laddr, sink_recv, &k));
	assert_int_equal(0, udp_local_get(k.us, &k.addr));
	assert_int_equal(0, udp_listen(&src, &laddr, NULL, NULL));
	fd = udp_sock_fd(src, AF_INET);

	queue(fd, &k, "late");
	run(100);
	assert_int_equal(0, txq_count());
	assert_int_equal(1, k.n);
	assert_string_equal("late", k.got[0]);

	/* one that can never fit is refused, for the caller to send */
	assert_null(txq_reserve(1024 * 1024));

	mem_deref(src);
	mem_deref(k.us);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_batch),
	cmocka_unit_test(test_flushed_by_loop),
};

const struct unit_group unit_txq = UNIT_GROUP(txq, tests);

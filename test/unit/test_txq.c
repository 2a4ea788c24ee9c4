/**
 * @file test_txq.c  The fast path's datagrams, many per sendmmsg
 *
 * Copyright (C) 2026 The parkblf authors
 */
#define _GNU_SOURCE 1  /* unshare */
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
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


enum {
	SMALL_MTU = 576,
	BIG       = 2000,       /**< Over SMALL_MTU: fragmented       */
	DF_SKIP   = 77,         /**< No network namespace here        */
};


static int udp_bound(struct sa *addr)
{
	struct timeval tv = {1, 0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	addr->len = sizeof(addr->u.in);
	if (sa_set_str(addr, "127.0.0.1", 0) ||
	    bind(fd, &addr->u.sa, addr->len) ||
	    getsockname(fd, &addr->u.sa, &addr->len)) {
		(void)close(fd);
		return -1;
	}

	return fd;
}


/* This process in a network namespace of its own whose loopback has a
   small MTU */
static int small_mtu_netns(void)
{
	struct ifreq ifr;
	int fd, err = 0;

	if (unshare(CLONE_NEWNET))
		return DF_SKIP;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return DF_SKIP;

	memset(&ifr, 0, sizeof(ifr));
	(void)str_ncpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	ifr.ifr_mtu = SMALL_MTU;
	if (ioctl(fd, SIOCSIFMTU, &ifr) || ioctl(fd, SIOCGIFFLAGS, &ifr))
		err = DF_SKIP;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = DF_SKIP;

	(void)close(fd);

	return err;
}


/* The IP ID of the next UDP datagram for port (as the raw socket saw it
   after reassembly), -1 if none within a second */
static int ip_id_to(int raw, uint16_t port)
{
	uint8_t buf[4096];

	for (;;) {
		ssize_t n = recv(raw, buf, sizeof(buf), 0);
		const struct ip *iph = (const struct ip *)(void *)buf;
		size_t hl;
		uint16_t dport;

		if (n < (ssize_t)sizeof(*iph))
			return -1;
		hl = (size_t)iph->ip_hl * 4;
		if ((size_t)n < hl + 8)
			continue;
		dport = (uint16_t)(buf[hl + 2] << 8 | buf[hl + 3]);
		if (dport == port)
			return ntohs(iph->ip_id);
	}
}


/* What test_df checks, in a child in its own namespace; 0, DF_SKIP or
   the number of the check that failed */
static int df_child(void)
{
	static char big[BIG], got[BIG + 1];
	const char * const small[2] = {"before", "after"};
	struct timeval tv = {1, 0};
	struct sa sink, self;
	int src, dst, raw, mode = -1;
	socklen_t len = sizeof(mode);
	char *p;
	unsigned i;

	if (small_mtu_netns())
		return DF_SKIP;

	src = udp_bound(&self);
	dst = udp_bound(&sink);
	raw = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	if (src < 0 || dst < 0 || raw < 0)
		return 1;
	(void)setsockopt(raw, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(big, 'x', sizeof(big));

	/* the fast path's run: small, too large for the MTU, small */
	for (i = 0; i < 3; i++) {
		const char *d = i == 1 ? big : small[i / 2];
		const size_t n = i == 1 ? sizeof(big) : strlen(d);

		p = txq_reserve(n);
		if (!p)
			return 2;
		memcpy(p, d, n);
		txq_commit(src, &sink, n);
	}
	txq_flush();

	/* all three, in order, the large one fragmented on the way */
	for (i = 0; i < 3; i++) {
		const size_t want = i == 1 ? sizeof(big)
			: strlen(small[i / 2]);
		ssize_t n = recv(dst, got, sizeof(got), 0);

		if (n != (ssize_t)want)
			return 3;
	}

	/* the small ones went with DF forced: IP ID 0; the large one,
	   fragments reassembled, has an ID */
	if (ip_id_to(raw, sa_port(&sink)) != 0 ||
	    ip_id_to(raw, sa_port(&sink)) <= 0 ||
	    ip_id_to(raw, sa_port(&sink)) != 0)
		return 4;
	if (txq_refits() != 1)
		return 5;

	/* the socket is back in its own mode, so that libre's next send
	   of a large datagram is fragmented, not refused */
	if (getsockopt(src, IPPROTO_IP, IP_MTU_DISCOVER, &mode, &len) ||
	    mode != IP_PMTUDISC_WANT)
		return 6;
	if (sendto(src, big, sizeof(big), 0, &sink.u.sa, sink.len) !=
	    (ssize_t)sizeof(big) ||
	    recv(dst, got, sizeof(got), 0) != (ssize_t)sizeof(big))
		return 7;

	return 0;
}


/* IPv4 datagrams of the fast path go with IP_PMTUDISC_DO (IP ID 0, no
   call to the kernel's shared ID generator); one too large for the
   path MTU is sent again, fragmented, in order; afterwards the socket
   is in its own mode again for libre.  In a child process in a network
   namespace whose loopback MTU is 576 (root or a user namespace) */
static void test_df(void **state)
{
	pid_t pid;
	int status = 0;
	(void)state;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(df_child());

	assert_int_equal(pid, waitpid(pid, &status, 0));
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == DF_SKIP)
		skip();
	assert_int_equal(0, WEXITSTATUS(status));
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_batch),
	cmocka_unit_test(test_flushed_by_loop),
	cmocka_unit_test(test_df),
};

const struct unit_group unit_txq = UNIT_GROUP(txq, tests);

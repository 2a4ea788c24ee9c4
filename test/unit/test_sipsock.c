/**
 * @file test_sipsock.c  SIP UDP sockets: buffer size and congestion
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "unit.h"


static void recv_nothing(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	(void)mb;
	(void)arg;
}


/* A UDP socket on ip (port 0) with its receive helper, as the first
   request on it gives it (sipsock_tune); laddr: its address */
static struct udp_sock *tuned_socket(const char *ip, udp_recv_h *rh,
				     struct sa *laddr)
{
	struct udp_sock *us = NULL;
	struct sip_msg msg;

	assert_int_equal(0, sa_set_str(laddr, ip, 0));
	assert_int_equal(0, udp_listen(&us, laddr, rh, NULL));
	assert_int_equal(0, udp_local_get(us, laddr));

	memset(&msg, 0, sizeof(msg));
	msg.tp = SIP_TRANSP_UDP;
	msg.sock = us;
	msg.dst = *laddr;
	sipsock_tune(&msg);

	return us;
}


/* A plain socket on 127.0.0.1 (port 0) for the peer; paddr: its
   address */
static struct udp_sock *peer_socket(udp_recv_h *rh, struct sa *paddr)
{
	struct udp_sock *us = NULL;

	assert_int_equal(0, sa_set_str(paddr, "127.0.0.1", 0));
	assert_int_equal(0, udp_listen(&us, paddr, rh, NULL));
	assert_int_equal(0, udp_local_get(us, paddr));

	return us;
}


/* Wait until what peer sent before is in its receiver's queue: on a
   loaded machine the loopback delivery may run later, from ksoftirqd,
   and a test reading at once would find only part of it.  A datagram
   sent after them to a socket of our own is delivered after them
   (one backlog, in order): once it is read, they are queued. */
static void wait_delivered(struct udp_sock *peer)
{
	struct timeval tv = {.tv_sec = 2};
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct mbuf mb = {.buf = (uint8_t *)"SYNC", .size = 4, .end = 4};
	struct sa sync;
	char buf[8];
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	assert_int_equal(0, getsockname(fd, (struct sockaddr *)&sin, &len));
	assert_int_equal(0, setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				       sizeof(tv)));
	assert_int_equal(0, sa_set_str(&sync, "127.0.0.1",
				       ntohs(sin.sin_port)));
	assert_int_equal(0, udp_send(peer, &sync, &mb));
	assert_int_equal(4, recv(fd, buf, sizeof(buf), 0));
	(void)close(fd);
}


/* A socket whose unread datagrams take more than half its buffer is
 * congested (the fan-out then waits); read, it is not */
static void test_congestion(void **state)
{
	struct udp_sock *us = NULL;
	struct sip_msg msg;
	struct sa laddr;
	uint8_t dgram[60000];
	unsigned i;
	int fd, rcvbuf = 0;
	socklen_t len = sizeof(rcvbuf);
	unsigned room0;
	(void)state;

	assert_int_equal(0, sa_set_str(&laddr, "127.0.0.1", 0));
	assert_int_equal(0, udp_listen(&us, &laddr, recv_nothing, NULL));
	assert_int_equal(0, udp_local_get(us, &laddr));

	memset(&msg, 0, sizeof(msg));
	msg.tp = SIP_TRANSP_UDP;
	msg.sock = us;
	msg.dst = laddr;
	sipsock_tune(&msg);
	sipsock_tune(&msg);                 /* once per socket */

	fd = udp_sock_fd(us, AF_INET);
	assert_true(fd >= 0);
	assert_int_equal(0, getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				       &len));
	assert_false(sipsock_congested());
	/* room for answers: capped, and less once one is queued */
	assert_int_equal(3, sipsock_room(3));
	room0 = sipsock_room(1000000);
	assert_true(room0 >= (unsigned)rcvbuf / 2 / 2048 - 1);

	/* fill it past half without reading (the main loop is not
	   running here) */
	memset(dgram, 'x', sizeof(dgram));
	assert_true(udp_send_anon(&laddr, &(struct mbuf){
		.buf = dgram, .size = sizeof(dgram),
		.end = sizeof(dgram)}) == 0);
	assert_true(sipsock_room(1000000) + sizeof(dgram) / 2048 <= room0);
	for (i = 0; i < 4096 && !sipsock_congested(); i++) {
		assert_true(udp_send_anon(&laddr, &(struct mbuf){
			.buf = dgram, .size = sizeof(dgram),
			.end = sizeof(dgram)}) == 0);
	}
	assert_true(sipsock_congested());
	assert_int_equal(0, sipsock_room(256));
	assert_true((size_t)i * sizeof(dgram) >= (size_t)rcvbuf / 4);

	/* drained: not congested */
	while (recv(fd, dgram, sizeof(dgram), MSG_DONTWAIT) > 0)
		;
	assert_false(sipsock_congested());

	sipsock_reset();
	mem_deref(us);
}


/* What libre's SIP transport (here: the socket's own handler) and the
   tap each got */
static struct {
	char libre[8][16];
	unsigned nlibre;
	char tap[8][16];
	unsigned ntap;
	struct sa src[8];
	struct sa peer;           /**< The test's sender                 */
	struct sa self;           /**< The socket: a wakeup's source     */
	unsigned strays;          /**< From elsewhere, not counted       */
} got;


/* Whether a datagram came from neither the test's sender nor the
   socket itself: another process's, to the port that is ours now (on
   a busy machine, retransmissions to a phone or flood source gone
   from that port; a socket on 0.0.0.0 gets those to any 127.x address
   too).  It is not the test's, and not counted */
static bool stray(const struct sa *src, const struct sa *peer,
		  const struct sa *self)
{
	return !sa_cmp(src, peer, SA_ALL) &&
		!(self && sa_cmp(src, self, SA_ALL));
}

static struct tmr tmr_stop;


static void libre_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)arg;

	if (stray(src, &got.peer, &got.self)) {
		++got.strays;
		return;
	}
	if (got.nlibre < 8) {
		got.src[got.nlibre] = *src;
		(void)re_snprintf(got.libre[got.nlibre], 16, "%b",
				  mbuf_buf(mb), mbuf_get_left(mb));
	}
	++got.nlibre;
}


static bool tap_ours(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	(void)arg;

	/* what is not ours goes on to libre: the test's own or a stray */
	if (mbuf_get_left(mb) < 4 || memcmp(mbuf_buf(mb), "OURS", 4))
		return false;

	if (got.ntap < 8)
		(void)re_snprintf(got.tap[got.ntap], 16, "%b", mbuf_buf(mb),
				  mbuf_get_left(mb));
	++got.ntap;

	return true;
}


/* The main loop runs until done() (asked every 5 ms), at most 5 s, and
   then 100 ms more, in which a datagram too many would come.  Not a
   fixed window: on a loaded machine a wakeup's loopback delivery may
   run late (from ksoftirqd), several of them in turn later still */
static struct {
	bool (*done)(void);
	uint64_t deadline;
	uint64_t end;
} until;

static void until_handler(void *arg)
{
	const uint64_t now = tmr_jiffies();
	(void)arg;

	if (!until.end && until.done())
		until.end = now + 100;
	if ((until.end && now >= until.end) || now >= until.deadline) {
		re_cancel();
		return;
	}
	tmr_start(&tmr_stop, 5, until_handler, NULL);
}

static void run_until(bool (*done)(void))
{
	until.done = done;
	until.deadline = tmr_jiffies() + 5000;
	until.end = 0;
	tmr_start(&tmr_stop, 5, until_handler, NULL);
	(void)re_main(NULL);
	tmr_cancel(&tmr_stop);
}


static bool drain_done(void)
{
	return got.ntap >= 4 && got.nlibre >= 3;
}


/* Answers of ours are read many per recvmmsg past libre; what else
   such a read takes still reaches libre, in order, from its source,
   also once the socket has nothing more (the wakeup) */
/* The phones' answers drained past libre, the rest handed to libre in
   order with their source, on a socket bound to bind_ip (libre's
   msg->dst is then that address, a wildcard one too) */
static void drain_case(const char *bind_ip)
{
	static const char *sent[] = {
		"OURS1", "OURS2", "FOREIGN1", "OURS3", "FOREIGN2", "OURS4",
		"FOREIGN3",
	};
	struct udp_sock *us = NULL, *peer = NULL;
	struct sa laddr, daddr, paddr;
	uint64_t calls0, calls, drained0, drained;
	unsigned i;

	memset(&got, 0, sizeof(got));
	us = tuned_socket(bind_ip, libre_recv, &laddr);
	assert_int_equal(0, sa_set_str(&daddr, "127.0.0.1",
				       sa_port(&laddr)));
	peer = peer_socket(NULL, &paddr);
	got.peer = paddr;
	got.self = daddr;
	sipsock_tap(tap_ours, NULL, NULL);
	sipsock_drain_stats(&calls0, &drained0);

	for (i = 0; i < sizeof(sent) / sizeof(sent[0]); i++) {
		struct mbuf mb = {
			.buf = (uint8_t *)sent[i], .size = strlen(sent[i]),
			.end = strlen(sent[i])};

		assert_int_equal(0, udp_send(peer, &daddr, &mb));
	}
	wait_delivered(peer);

	run_until(drain_done);

	assert_int_equal(4, got.ntap);
	assert_string_equal("OURS1", got.tap[0]);
	assert_string_equal("OURS4", got.tap[3]);
	/* each kept one reaches libre by a wakeup, and nothing else does */
	assert_int_equal(3, got.nlibre);
	assert_string_equal("FOREIGN1", got.libre[0]);
	assert_string_equal("FOREIGN2", got.libre[1]);
	assert_string_equal("FOREIGN3", got.libre[2]);
	for (i = 0; i < 3; i++)
		assert_true(sa_cmp(&got.src[i], &paddr, SA_ALL));

	/* libre read the first; one recvmmsg the other six (and the
	   strays that came before it) */
	sipsock_drain_stats(&calls, &drained);
	assert_true(drained >= drained0 + 6);
	assert_true(drained <= drained0 + 6 + got.strays);
	assert_true(calls - calls0 <= 2);

	sipsock_tap(NULL, NULL, NULL);
	sipsock_reset();
	mem_deref(peer);
	mem_deref(us);
}


static void test_drain(void **state)
{
	(void)state;
	drain_case("127.0.0.1");
}


/* A socket bound to 0.0.0.0 (parkblf's are not: app.c expands
   sip_listen 0.0.0.0:5060 to each local address): the wakeup that
   makes libre read a kept datagram must be known as one there too */
static void test_drain_wildcard(void **state)
{
	(void)state;
	drain_case("0.0.0.0");
}


/* In what order the bulk handler and libre got datagrams */
static struct {
	char seq[16][16];
	unsigned n;
	struct sa laddr;
	struct sa peer;           /**< The test's sender                 */
	bool bad_addr;
} order;


static void order_add(char who, const struct mbuf *mb)
{
	if (order.n < 16)
		(void)re_snprintf(order.seq[order.n], 16, "%c:%b", who,
				  mbuf_buf(mb), mbuf_get_left(mb));
	++order.n;
}


static void libre_order(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)arg;

	if (!stray(src, &order.peer, NULL))
		order_add('L', mb);
}


static bool bulk_take(void *sock, const struct sa *laddr,
		      const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	(void)arg;

	if (mbuf_get_left(mb) < 4 || memcmp(mbuf_buf(mb), "BULK", 4))
		return false;

	if (!sock || !sa_cmp(laddr, &order.laddr, SA_ALL))
		order.bad_addr = true;
	order_add('B', mb);

	return true;
}


static bool bulk_done(void)
{
	return order.n >= 5;
}


static bool bulk4_done(void)
{
	return order.n >= 4;
}


/* The bulk handler takes kept datagrams many per libre read, oldest
   first; the first it leaves goes to libre, in its place in the order,
   and the bulk handler goes on after it */
static void test_bulk(void **state)
{
	static const char *sent[] = {
		"OURS1", "BULK1", "BULK2", "FOREIGN1", "BULK3", "OURS2",
		"BULK4",
	};
	static const char *want[] = {
		"B:BULK1", "B:BULK2", "L:FOREIGN1", "B:BULK3", "B:BULK4",
	};
	struct udp_sock *us = NULL, *peer = NULL;
	struct sa laddr, paddr;
	uint64_t taken0 = sipsock_bulk_taken();
	unsigned i;
	(void)state;

	memset(&got, 0, sizeof(got));
	memset(&order, 0, sizeof(order));
	us = tuned_socket("127.0.0.1", libre_order, &laddr);
	peer = peer_socket(NULL, &paddr);
	order.laddr = laddr;
	order.peer = paddr;
	sipsock_tap(tap_ours, NULL, NULL);
	sipsock_bulk(bulk_take, NULL, NULL);

	for (i = 0; i < sizeof(sent) / sizeof(sent[0]); i++) {
		struct mbuf mb = {
			.buf = (uint8_t *)sent[i], .size = strlen(sent[i]),
			.end = strlen(sent[i])};

		assert_int_equal(0, udp_send(peer, &laddr, &mb));
	}
	wait_delivered(peer);

	run_until(bulk_done);

	assert_int_equal(2, got.ntap);
	assert_int_equal(5, order.n);
	for (i = 0; i < 5; i++)
		assert_string_equal(want[i], order.seq[i]);
	assert_false(order.bad_addr);
	assert_int_equal(taken0 + 4, sipsock_bulk_taken());

	sipsock_bulk(NULL, NULL, NULL);
	sipsock_tap(NULL, NULL, NULL);
	sipsock_reset();
	mem_deref(peer);
	mem_deref(us);
}


static unsigned budget_calls;


static unsigned budget_one(void *arg)
{
	(void)arg;
	++budget_calls;

	return 1;
}


/* With a budget of one per loop turn, a burst is still taken whole and
   in order, one datagram per turn (a budget asked each turn) */
static void test_bulk_budget(void **state)
{
	static const char *sent[] = {"BULK1", "BULK2", "BULK3", "BULK4"};
	struct udp_sock *us = NULL, *peer = NULL;
	struct sa laddr, paddr;
	uint64_t taken0 = sipsock_bulk_taken();
	unsigned i;
	(void)state;

	memset(&order, 0, sizeof(order));
	budget_calls = 0;
	us = tuned_socket("127.0.0.1", libre_order, &laddr);
	peer = peer_socket(NULL, &paddr);
	order.laddr = laddr;
	order.peer = paddr;
	sipsock_tap(tap_ours, NULL, NULL);
	sipsock_bulk(bulk_take, budget_one, NULL);

	for (i = 0; i < 4; i++) {
		struct mbuf mb = {
			.buf = (uint8_t *)sent[i], .size = strlen(sent[i]),
			.end = strlen(sent[i])};

		assert_int_equal(0, udp_send(peer, &laddr, &mb));
	}
	wait_delivered(peer);

	run_until(bulk4_done);

	assert_int_equal(4, order.n);
	for (i = 0; i < 4; i++)
		assert_string_equal(sent[i], order.seq[i] + 2);
	assert_int_equal(taken0 + 4, sipsock_bulk_taken());
	assert_true(budget_calls >= 4);

	sipsock_bulk(NULL, NULL, NULL);
	sipsock_tap(NULL, NULL, NULL);
	sipsock_reset();
	mem_deref(peer);
	mem_deref(us);
}


/* What the phone's side received, in order */
static struct {
	char seq[8][16];
	unsigned n;
	struct sa from;           /**< The tuned socket                  */
} peer_got;


static void peer_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)arg;

	if (stray(src, &peer_got.from, NULL))
		return;
	if (peer_got.n < 8)
		(void)re_snprintf(peer_got.seq[peer_got.n], 16, "%b",
				  mbuf_buf(mb), mbuf_get_left(mb));
	++peer_got.n;
}


static bool peer4_done(void)
{
	return peer_got.n >= 4;
}


/* libre's responses on a tuned socket wait in the fast path's queue
   and leave by sendmmsg; a request libre sends (here: by hand) goes at
   once, but only after everything queued before it */
static void test_responses_queued(void **state)
{
	struct udp_sock *us = NULL, *peer = NULL;
	struct sa laddr, paddr;
	struct mbuf r1 = {.buf = (uint8_t *)"SIP/2.0 200 A", .size = 13,
			  .end = 13};
	struct mbuf r2 = {.buf = (uint8_t *)"SIP/2.0 200 B", .size = 13,
			  .end = 13};
	struct mbuf req = {.buf = (uint8_t *)"NOTIFY x", .size = 8,
			   .end = 8};
	const unsigned q0 = txq_count();
	(void)state;

	memset(&peer_got, 0, sizeof(peer_got));
	us = tuned_socket("127.0.0.1", recv_nothing, &laddr);
	peer = peer_socket(peer_recv, &paddr);
	peer_got.from = laddr;

	assert_int_equal(0, udp_send(us, &paddr, &r1));
	assert_int_equal(0, udp_send(us, &paddr, &r2));
	assert_int_equal(q0 + 2, txq_count());
	assert_int_equal(0, udp_send(us, &paddr, &req));
	assert_int_equal(0, txq_count());

	assert_int_equal(0, udp_send(us, &paddr, &r1));
	assert_int_equal(1, txq_count());   /* sent by the queue's timer */

	run_until(peer4_done);

	assert_int_equal(0, txq_count());
	assert_int_equal(4, peer_got.n);
	assert_string_equal("SIP/2.0 200 A", peer_got.seq[0]);
	assert_string_equal("SIP/2.0 200 B", peer_got.seq[1]);
	assert_string_equal("NOTIFY x", peer_got.seq[2]);
	assert_string_equal("SIP/2.0 200 A", peer_got.seq[3]);

	sipsock_reset();
	mem_deref(peer);
	mem_deref(us);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_congestion),
	cmocka_unit_test(test_drain),
	cmocka_unit_test(test_drain_wildcard),
	cmocka_unit_test(test_bulk),
	cmocka_unit_test(test_bulk_budget),
	cmocka_unit_test(test_responses_queued),
};

const struct unit_group unit_sipsock = UNIT_GROUP(sipsock, tests);

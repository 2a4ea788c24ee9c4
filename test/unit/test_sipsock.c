/**
 * @file test_sipsock.c  SIP UDP sockets: buffer size and congestion
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
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
} got;

static struct tmr tmr_stop;


static void libre_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)arg;

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

	if (mbuf_get_left(mb) < 4 || memcmp(mbuf_buf(mb), "OURS", 4))
		return false;

	if (got.ntap < 8)
		(void)re_snprintf(got.tap[got.ntap], 16, "%b", mbuf_buf(mb),
				  mbuf_get_left(mb));
	++got.ntap;

	return true;
}


static void stop_handler(void *arg)
{
	(void)arg;
	re_cancel();
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
	struct sip_msg msg;
	struct sa laddr, daddr, paddr;
	uint64_t calls0, calls, drained0, drained;
	unsigned i;

	memset(&got, 0, sizeof(got));
	assert_int_equal(0, sa_set_str(&laddr, bind_ip, 0));
	assert_int_equal(0, udp_listen(&us, &laddr, libre_recv, NULL));
	assert_int_equal(0, udp_local_get(us, &laddr));
	assert_int_equal(0, sa_set_str(&daddr, "127.0.0.1",
				       sa_port(&laddr)));
	assert_int_equal(0, sa_set_str(&paddr, "127.0.0.1", 0));
	assert_int_equal(0, udp_listen(&peer, &paddr, NULL, NULL));
	assert_int_equal(0, udp_local_get(peer, &paddr));

	memset(&msg, 0, sizeof(msg));
	msg.tp = SIP_TRANSP_UDP;
	msg.sock = us;
	msg.dst = laddr;
	sipsock_tune(&msg);
	sipsock_tap(tap_ours, NULL, NULL);
	sipsock_drain_stats(&calls0, &drained0);

	for (i = 0; i < sizeof(sent) / sizeof(sent[0]); i++) {
		struct mbuf mb = {
			.buf = (uint8_t *)sent[i], .size = strlen(sent[i]),
			.end = strlen(sent[i])};

		assert_int_equal(0, udp_send(peer, &daddr, &mb));
	}

	tmr_start(&tmr_stop, 200, stop_handler, NULL);
	(void)re_main(NULL);
	tmr_cancel(&tmr_stop);

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

	/* libre read the first; one recvmmsg the other six */
	sipsock_drain_stats(&calls, &drained);
	assert_int_equal(drained0 + 6, drained);
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


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_congestion),
	cmocka_unit_test(test_drain),
	cmocka_unit_test(test_drain_wildcard),
};

const struct unit_group unit_sipsock = UNIT_GROUP(sipsock, tests);

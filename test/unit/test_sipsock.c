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

	/* fill it past half without reading (the main loop is not
	   running here) */
	memset(dgram, 'x', sizeof(dgram));
	for (i = 0; i < 4096 && !sipsock_congested(); i++) {
		assert_true(udp_send_anon(&laddr, &(struct mbuf){
			.buf = dgram, .size = sizeof(dgram),
			.end = sizeof(dgram)}) == 0);
	}
	assert_true(sipsock_congested());
	assert_true((size_t)i * sizeof(dgram) >= (size_t)rcvbuf / 4);

	/* drained: not congested */
	while (recv(fd, dgram, sizeof(dgram), MSG_DONTWAIT) > 0)
		;
	assert_false(sipsock_congested());

	sipsock_reset();
	mem_deref(us);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_congestion),
};

const struct unit_group unit_sipsock = UNIT_GROUP(sipsock, tests);

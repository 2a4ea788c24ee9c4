/**
 * @file sipsock.c  SIP UDP sockets sized for fan-out bursts
 *
 * One orbit change sends a NOTIFY to each of its watchers, and their
 * 200 OKs come back faster than libre's main loop reads them (one
 * datagram per socket per loop turn).  With the kernel's default
 * receive buffer (net.core.rmem_default, 208 KiB: a few hundred small
 * datagrams) the answers of a 1,000-watcher fan-out overflow it, and
 * every lost 200 OK costs a NOTIFY retransmission 500 ms later.
 *
 * libre 1.1.0 has no accessor for the sockets of its SIP transports,
 * but each received message names its socket (msg->sock), so the
 * first request on a UDP socket gets it a 4 MiB receive buffer:
 * SO_RCVBUFFORCE where parkblf may (CAP_NET_ADMIN), else SO_RCVBUF,
 * which the kernel caps at net.core.rmem_max.
 *
 * Even 4 MiB fill up when orbit changes follow each other faster than
 * the answers are read: sipsock_congested tells the fan-out to wait a
 * millisecond while more than half of a socket's buffer is taken, so
 * that the 200 OKs are read rather than dropped (each drop costs a NOTIFY
 * retransmission 500 ms later, and the watcher's next NOTIFY waits
 * until then).  With a small buffer this paces the fan-out to
 * the answers.
 *
 * Each tuned socket also gets a receive helper in front of libre:
 * through sipsock_tap the phones' dialogs (subdlg.c) take the answers
 * to their NOTIFYs before libre parses them.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


enum {
	RCVBUF_WANTED = 4 * 1024 * 1024,
	RCVBUF_ENOUGH = 1024 * 1024,   /**< Below this: say how to fix  */
	MAX_SOCKS     = 64,            /**< As app.c's MAX_TRANSPORTS     */
};

static struct {
	struct udp_sock *done[MAX_SOCKS]; /**< Seen (not referenced)     */
	struct sa laddr[MAX_SOCKS];       /**< Their local addresses      */
	unsigned n;
} seen;

/* Where datagrams go before libre parses them (sipsock_tap) */
static struct {
	sipsock_recv_h *h;
	sipsock_new_h *newh;
	void *arg;
} tap;


/* On every tuned socket, in front of libre's SIP transport.  The socket
   owns the helper and frees it with itself; the tap it calls is global,
   so nothing here outlives what it points to. */
static bool helper_recv(struct sa *src, struct mbuf *mb, void *arg)
{
	(void)arg;

	return tap.h ? tap.h(src, mb, tap.arg) : false;
}


static int rcvbuf_get(const struct udp_sock *us, int af)
{
	const int fd = udp_sock_fd(us, af);
	int size = 0;
	socklen_t len = sizeof(size);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &len))
		return 0;

	return size / 2;  /* the kernel reports twice what it grants */
}


static void tune(struct udp_sock *us, const struct sa *laddr)
{
	int size = RCVBUF_WANTED;
	int got;

	if (udp_setsockopt(us, SOL_SOCKET, SO_RCVBUFFORCE, &size,
			   sizeof(size)))
		(void)udp_setsockopt(us, SOL_SOCKET, SO_RCVBUF, &size,
				     sizeof(size));

	got = rcvbuf_get(us, sa_af(laddr));
	if (got >= RCVBUF_ENOUGH) {
		log_info("sip: UDP receive buffer of %J: %d KiB", laddr,
			 got / 1024);
	}
	else {
		log_warn("sip: UDP receive buffer of %J is %d KiB; phones' "
			 "answers to a big fan-out may be lost (sysctl "
			 "net.core.rmem_max=%d raises it)", laddr, got / 1024,
			 RCVBUF_WANTED);
	}
}


/**
 * Give a UDP socket the receive buffer fan-outs need, once
 *
 * @param msg A request just received (any transport)
 */
void sipsock_tune(const struct sip_msg *msg)
{
	unsigned i;

	if (!msg || msg->tp != SIP_TRANSP_UDP || !msg->sock)
		return;

	for (i = 0; i < seen.n; i++) {
		if (seen.done[i] == msg->sock)
			return;
	}

	if (seen.n == MAX_SOCKS)
		return;

	seen.done[seen.n] = msg->sock;
	seen.laddr[seen.n++] = msg->dst;
	tune(msg->sock, &msg->dst);
	if (udp_register_helper(NULL, msg->sock, 0, NULL, helper_recv, NULL))
		log_warn("sip: %J: no receive helper", &msg->dst);
	else if (tap.newh)
		tap.newh(msg->sock, &msg->dst, tap.arg);
}


/**
 * See every datagram of the tuned sockets before libre parses it, and
 * hear of each socket when it gets its tap
 *
 * @param h    Handler (true: the datagram was consumed), NULL for none
 * @param newh Called with each newly tapped socket, or NULL
 * @param arg  Handler argument
 */
void sipsock_tap(sipsock_recv_h *h, sipsock_new_h *newh, void *arg)
{
	tap.h = h;
	tap.newh = newh;
	tap.arg = arg;
}


/**
 * Find the tapped UDP socket bound to a local address
 *
 * @param laddr Local address (as msg->dst gives it)
 *
 * @return The udp_sock, or NULL if none was tapped yet
 */
void *sipsock_find(const struct sa *laddr)
{
	unsigned i;

	for (i = 0; i < seen.n; i++) {
		if (sa_cmp(&seen.laddr[i], laddr, SA_ALL))
			return seen.done[i];
	}

	return NULL;
}


/**
 * Whether a UDP socket was tuned, and so has the tap in front of it
 *
 * @param sock A udp_sock of the phones' SIP stack
 *
 * @return true if so
 */
bool sipsock_tapped(const void *sock)
{
	unsigned i;

	for (i = 0; i < seen.n; i++) {
		if (seen.done[i] == sock)
			return true;
	}

	return false;
}


/**
 * Forget the sockets seen (before their SIP stack is freed)
 */
void sipsock_reset(void)
{
	memset(&seen, 0, sizeof(seen));
}


/**
 * Whether a SIP UDP socket's receive queue is filling up
 *
 * @return true while one holds more than a quarter of its buffer
 */
bool sipsock_congested(void)
{
	unsigned i;

	for (i = 0; i < seen.n; i++) {
		const int fd = udp_sock_fd(seen.done[i],
					   sa_af(&seen.laddr[i]));
		uint32_t mi[SK_MEMINFO_VARS];
		socklen_t len = sizeof(mi);

		if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len))
			continue;

		if (mi[SK_MEMINFO_RMEM_ALLOC] > mi[SK_MEMINFO_RCVBUF] / 2)
			return true;
	}

	return false;
}

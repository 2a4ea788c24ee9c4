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
 * Each tuned socket also gets a send helper, which moves libre's own
 * requests of dialogs pinned to another socket there (sippin.c), and a
 * receive helper in front of libre:
 * through sipsock_tap the phones' dialogs (subdlg.c) take the answers
 * to their NOTIFYs before libre parses them.
 *
 * libre reads one datagram per socket per main-loop turn, each with an
 * epoll_wait(2), a recvfrom(2) and an 8 KiB allocation: half of what a
 * fan-out's answers cost parkblf.  So when the datagram libre read was
 * one of those answers, the helper reads on with recvmmsg(2), many per
 * call, while the socket has any.  What it reads that is not an answer
 * of ours (a SUBSCRIBE, libre's own transactions' responses) is kept
 * in order and handed back to libre: libre's next read on the socket
 * gets it instead (the helper may rewrite the datagram and its source
 * before libre parses it), the datagram libre read taking its place in
 * the queue.  If the socket has nothing more for libre to read, a
 * datagram of zero bytes from the socket to itself makes it read
 * (a wakeup), and that read delivers the oldest kept datagram.  So
 * during a storm the SUBSCRIBEs wait here (still one parsed per loop
 * turn) instead of in the socket in front of the answers, which hold
 * up the established watchers' next NOTIFYs.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#define _GNU_SOURCE 1  /* recvmmsg */
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
	DRAIN_N       = 32,            /**< Datagrams per recvmmsg        */
	DRAIN_MAX     = 256,           /**< Read per libre read, at most  */
	DGRAM_MAX     = 8192,          /**< As libre's UDP reads          */
	KEPT_MAX      = 1024,          /**< Foreign datagrams kept        */
	BULK_MAX      = 64,            /**< Taken in bulk per loop turn   */
	WAKEUP_LOST_MS = 100,          /**< A wakeup not read by then is  */
	ANSWER_BYTES  = 2048,          /**< Buffer an answer takes, at most
					    (a 200 OK of ~500 bytes takes
					    ~1,300 on loopback: truesize)  */
};

/** A datagram read for libre, kept until libre's next read */
struct kept {
	struct le le;
	struct sa src;
	size_t len;
	uint8_t data[];
};

/** One tuned socket */
struct sock {
	struct udp_sock *us;           /**< Not referenced                */
	struct sa laddr;               /**< Its local address             */
	struct sa wake;                /**< Where wakeups go, from itself */
	struct list kept;              /**< struct kept, oldest first     */
	unsigned nkept;
	uint64_t woken;                /**< A wakeup sent then (ms), 0    */
};

static struct {
	struct sock s[MAX_SOCKS];
	unsigned n;
} seen;

/* Where recvmmsg reads */
static struct {
	uint8_t buf[DRAIN_N][DGRAM_MAX];
	struct mmsghdr msg[DRAIN_N];
	struct iovec iov[DRAIN_N];
	struct sa src[DRAIN_N];
	uint64_t calls;                /**< recvmmsg calls, for the tests */
	uint64_t drained;              /**< Datagrams read by them        */
	uint64_t queued;               /**< libre's responses to txq      */
} rx;

/* Where datagrams go before libre parses them (sipsock_tap) */
static struct {
	sipsock_recv_h *h;
	sipsock_new_h *newh;
	void *arg;
} tap;

/* Who takes kept datagrams many per loop turn (sipsock_bulk) */
static struct {
	sipsock_bulk_h *h;
	sipsock_budget_h *budgeth;
	void *arg;
	struct mbuf *mb;               /**< Reused while nobody keeps it  */
	uint64_t taken;                /**< Datagrams it took             */
} bulk;


static int sock_fd(const struct sock *k)
{
	return udp_sock_fd(k->us, sa_af(&k->laddr));
}


static bool is_wakeup(const struct sock *k, const struct sa *src,
		      const struct mbuf *mb)
{
	return mbuf_get_left(mb) == 0 && sa_cmp(src, &k->wake, SA_ALL);
}


/* Make libre read the socket again: a datagram of zero bytes to itself,
   unless one is on its way (or lost: after WAKEUP_LOST_MS) */
static void wakeup(struct sock *k)
{
	const uint64_t now = tmr_jiffies();

	if (!k->nkept || (k->woken && now - k->woken < WAKEUP_LOST_MS))
		return;

	if (sendto(sock_fd(k), "", 0, 0, &k->wake.u.sa, k->wake.len) == 0)
		k->woken = now ? now : 1;
}


/* Keep a datagram for libre */
static bool keep(struct sock *k, const struct sa *src, const uint8_t *p,
		 size_t len)
{
	struct kept *e = mem_alloc(sizeof(*e) + len, NULL);

	if (!e)
		return false;

	memset(&e->le, 0, sizeof(e->le));
	e->src = *src;
	e->len = len;
	memcpy(e->data, p, len);
	list_append(&k->kept, &e->le, e);
	++k->nkept;

	return true;
}


/* libre's read becomes the oldest datagram kept */
static void deliver(struct sock *k, struct sa *src, struct mbuf *mb)
{
	struct kept *e = list_ledata(list_head(&k->kept));

	list_unlink(&e->le);
	--k->nkept;
	*src = e->src;
	mbuf_rewind(mb);
	if (mbuf_write_mem(mb, e->data, e->len))
		mbuf_rewind(mb);
	mb->pos = 0;
	mem_deref(e);
}


/* Read on while the socket has datagrams: answers of ours are taken,
   the rest kept for libre */
static void drain(struct sock *k)
{
	const int fd = sock_fd(k);
	unsigned total = 0;

	while (total < DRAIN_MAX && k->nkept < KEPT_MAX && tap.h) {
		int i, n;

		for (i = 0; i < DRAIN_N; i++) {
			struct msghdr *h = &rx.msg[i].msg_hdr;

			rx.iov[i].iov_base = rx.buf[i];
			rx.iov[i].iov_len = DGRAM_MAX;
			memset(h, 0, sizeof(*h));
			h->msg_name = &rx.src[i].u.sa;
			h->msg_namelen = sizeof(rx.src[i].u);
			h->msg_iov = &rx.iov[i];
			h->msg_iovlen = 1;
		}

		n = recvmmsg(fd, rx.msg, DRAIN_N, MSG_DONTWAIT, NULL);
		++rx.calls;
		if (n <= 0)
			return;

		rx.drained += (unsigned)n;
		total += (unsigned)n;
		for (i = 0; i < n; i++) {
			struct sa *src = &rx.src[i];
			struct mbuf mb;

			src->len = rx.msg[i].msg_hdr.msg_namelen;
			memset(&mb, 0, sizeof(mb));
			mb.buf = rx.buf[i];
			mb.size = mb.end = rx.msg[i].msg_len;

			if (is_wakeup(k, src, &mb)) {
				k->woken = 0;
				continue;
			}
			if (tap.h && tap.h(src, &mb, tap.arg))
				continue;
			if (!keep(k, src, mb.buf, mb.end))
				log_warn("sip: %J: a datagram from %J lost "
					 "(no memory)", &k->laddr, src);
		}

		if (n < DRAIN_N)
			return;
	}
}


/* Hand the oldest kept datagrams to the bulk handler, in order, while
   it takes them (at most its budget per loop turn, BULK_MAX without
   one, so that timers, such as the established watchers' fan-out
   batches, run in between).  true: the budget is spent, and the
   oldest kept one is still to be offered (next turn: a wakeup) */
static bool take_bulk(struct sock *k)
{
	unsigned n = 0, max;

	if (!bulk.h)
		return false;

	max = bulk.budgeth ? bulk.budgeth(bulk.arg) : BULK_MAX;
	while (k->nkept && n < max) {
		struct kept *e = list_ledata(list_head(&k->kept));
		struct sa src = e->src;
		bool taken;

		/* one buffer while nobody keeps a reference to it (libre's
		   server transactions keep the request) */
		if (bulk.mb && mem_nrefs(bulk.mb) > 1)
			bulk.mb = mem_deref(bulk.mb);
		if (!bulk.mb) {
			bulk.mb = mbuf_alloc(DGRAM_MAX);
			if (!bulk.mb)
				return false;
		}
		mbuf_rewind(bulk.mb);
		if (mbuf_write_mem(bulk.mb, e->data, e->len))
			return false;
		bulk.mb->pos = 0;

		taken = bulk.h(k->us, &k->laddr, &src, bulk.mb, bulk.arg);
		if (!taken)
			return false;

		/* the handler may have reset the sockets (seen.n = 0) */
		if (!k->nkept)
			return false;
		list_unlink(&e->le);
		--k->nkept;
		mem_deref(e);
		++bulk.taken;
		++n;
	}

	return k->nkept > 0;
}


/* On every tuned socket, in front of libre's SIP transport.  The socket
   owns the helper and frees it with itself; the tap it calls is global,
   so nothing here outlives what it points to.  true: libre has nothing
   to parse; false: libre parses what mb holds now, from src. */
static bool helper_recv(struct sa *src, struct mbuf *mb, void *arg)
{
	struct sock *k = arg;
	bool ours;

	if (is_wakeup(k, src, mb)) {
		k->woken = 0;
		if (take_bulk(k) || !k->nkept) {
			wakeup(k);
			return true;
		}
		deliver(k, src, mb);
		wakeup(k);
		return false;
	}

	ours = tap.h && tap.h(src, mb, tap.arg);

	/* with a bulk handler, whatever libre read joins the queue and
	   the socket is read on: the SUBSCRIBEs of a burst are then taken
	   many per loop turn */
	if (!ours && bulk.h) {
		if (!keep(k, src, mbuf_buf(mb), mbuf_get_left(mb)))
			return false;
		ours = true;
	}
	if (ours)
		drain(k);
	if (take_bulk(k)) {
		wakeup(k);              /* the rest in the next turns */
		return true;
	}

	if (!k->nkept)
		return ours;

	/* the oldest kept goes first; this one, if libre's, after it */
	if (!ours && !keep(k, src, mbuf_buf(mb), mbuf_get_left(mb)))
		return false;
	deliver(k, src, mb);
	wakeup(k);

	return false;
}


/* On every tuned socket, behind libre's SIP transport: libre's
   responses (a SUBSCRIBE's 200, refusals) join the fast path's queue
   (txq.c) and go out with the NOTIFYs by sendmmsg in the same loop
   turn, instead of a sendto(2) each.  A burst of SUBSCRIBEs then wakes
   the phones' side once per batch rather than once per answer: on
   loopback the receiver's wakeup is charged to the sender, and it was
   most of what a SUBSCRIBE's 200 cost.  true: queued. */
static bool queue_response(const struct sock *k, const struct sa *dst,
			   const struct mbuf *mb)
{
	const size_t len = mbuf_get_left(mb);
	char *p = txq_reserve(len);

	if (!p)
		return false;

	memcpy(p, mbuf_buf(mb), len);
	txq_commit(udp_sock_fd(k->us, sa_af(dst)), dst, len);
	++rx.queued;

	return true;
}


/* On every tuned socket: libre's responses are queued (above).
   Requests are not (a client transaction wants sendto's error at
   once), but what is queued goes first, so that nothing overtakes a
   200 (the final NOTIFY of an un-SUBSCRIBE, sent by libre, must come
   after its 200); and libre's own request of a dialog pinned to
   another socket leaves from there (sippin.c).  true: sent or queued
   (err says how) */
static bool helper_send(int *err, struct sa *dst, struct mbuf *mb,
			void *arg)
{
	const struct sock *k = arg;
	const size_t len = mbuf_get_left(mb);

	if (len >= 8 && !memcmp(mbuf_buf(mb), "SIP/2.0 ", 8))
		return queue_response(k, dst, mb);

	if (txq_count())
		txq_flush();

	return sippin_send(err, &k->laddr, dst, mb);
}


/* Forget the datagrams kept for libre */
static void sock_clear(struct sock *k)
{
	list_flush(&k->kept);
	k->nkept = 0;
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
 * Give a UDP socket the receive buffer fan-outs need, once, and the
 * helpers in front of libre
 *
 * @param msg A request just received (any transport)
 *
 * @return true if it was sippin_probe's, to be dropped
 */
bool sipsock_tune(const struct sip_msg *msg)
{
	struct sock *k;
	unsigned i;

	if (!msg || msg->tp != SIP_TRANSP_UDP || !msg->sock)
		return false;

	k = NULL;
	for (i = 0; i < seen.n; i++) {
		if (seen.s[i].us == msg->sock)
			return sippin_is_probe(msg);
		if (!seen.s[i].us && !k)
			k = &seen.s[i];   /* one sipsock_forget freed */
	}

	if (!k && seen.n == MAX_SOCKS)
		return sippin_is_probe(msg);

	if (!k)
		k = &seen.s[seen.n++];
	memset(k, 0, sizeof(*k));
	k->us = msg->sock;
	k->laddr = msg->dst;
	k->wake = msg->dst;
	/* a socket on 0.0.0.0 or [::] sending to that address gets its
	   datagram from loopback: send it there.  parkblf's own are never
	   such (app.c makes sip_listen 0.0.0.0:5060 one socket per local
	   address); this keeps the helper right for any socket */
	if (sa_is_any(&k->wake))
		(void)sa_set_str(&k->wake, sa_af(&k->wake) == AF_INET6 ?
				 "::1" : "127.0.0.1", sa_port(&msg->dst));
	tune(msg->sock, &msg->dst);
	if (udp_register_helper(NULL, msg->sock, 0, helper_send, helper_recv,
				k))
		log_warn("sip: %J: no receive helper", &msg->dst);
	else if (tap.newh)
		tap.newh(msg->sock, &msg->dst, tap.arg);

	return sippin_is_probe(msg);
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
 * Take the datagrams a tuned socket's helper keeps for libre many per
 * loop turn, oldest first, as long as the handler takes them: the one
 * it does not take, and every later one, go to libre as before
 *
 * @param h       Handler (true: taken; false: untouched, libre's), or
 *                NULL
 * @param budgeth How many it may take in this loop turn, or NULL for
 *                BULK_MAX
 * @param arg     Handlers' argument
 */
void sipsock_bulk(sipsock_bulk_h *h, sipsock_budget_h *budgeth, void *arg)
{
	bulk.h = h;
	bulk.budgeth = budgeth;
	bulk.arg = arg;
	if (!h)
		bulk.mb = mem_deref(bulk.mb);
}


/** @return Datagrams the bulk handler took (for the tests) */
uint64_t sipsock_bulk_taken(void)
{
	return bulk.taken;
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
		if (sa_cmp(&seen.s[i].laddr, laddr, SA_ALL))
			return seen.s[i].us;
	}

	return NULL;
}


/**
 * The file descriptor of a tuned UDP socket, by its local address
 *
 * @param laddr Local address (as msg->dst gives it)
 *
 * @return The descriptor, or -1 if no such socket was tuned
 */
int sipsock_fd(const struct sa *laddr)
{
	unsigned i;

	for (i = 0; i < seen.n; i++) {
		if (seen.s[i].us && sa_cmp(&seen.s[i].laddr, laddr, SA_ALL))
			return sock_fd(&seen.s[i]);
	}

	return -1;
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
		if (seen.s[i].us == sock)
			return true;
	}

	return false;
}


/**
 * Forget the socket of a local address, closed under libre
 * (sockclose.c): its datagrams kept for libre go, and its slot may be
 * another socket's.  libre never reads the closed socket again, so the
 * helper it holds is never called.
 *
 * @param laddr Local address
 */
void sipsock_forget(const struct sa *laddr)
{
	unsigned i;

	for (i = 0; i < seen.n; i++) {
		struct sock *k = &seen.s[i];

		if (!k->us || !sa_cmp(&k->laddr, laddr, SA_ALL))
			continue;

		sock_clear(k);
		memset(k, 0, sizeof(*k));
	}
}


/**
 * Forget the sockets seen (before their SIP stack is freed)
 */
void sipsock_reset(void)
{
	unsigned i;

	for (i = 0; i < seen.n; i++)
		sock_clear(&seen.s[i]);
	memset(&seen, 0, sizeof(seen));

	sippin_reset();
}


/**
 * How the phones' datagrams were read past libre (for the tests)
 *
 * @param calls   Where to store the recvmmsg calls, or NULL
 * @param drained Where to store the datagrams they read, or NULL
 */
void sipsock_drain_stats(uint64_t *calls, uint64_t *drained)
{
	if (calls)
		*calls = rx.calls;
	if (drained)
		*drained = rx.drained;
}


/**
 * How many more answers the SIP UDP sockets can take unread: the room
 * left below half of each one's buffer, in ANSWER_BYTES per answer, of
 * the fullest.  A fan-out sends that many NOTIFYs before it looks again
 * (notifier.c), so with a big buffer it sends a whole orbit's before
 * reading the first 200, and with a small one it waits for the loop to
 * read them rather than have them dropped.
 *
 * @param max At most this many
 *
 * @return Answers that fit, 0 while one socket holds more than half of
 *         its buffer
 */
unsigned sipsock_room(unsigned max)
{
	unsigned i, room = max;

	for (i = 0; i < seen.n && room; i++) {
		const int fd = sock_fd(&seen.s[i]);
		uint32_t mi[SK_MEMINFO_VARS];
		socklen_t len = sizeof(mi);
		uint32_t half, fit;

		if (!seen.s[i].us || fd < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len))
			continue;

		half = mi[SK_MEMINFO_RCVBUF] / 2;
		fit = mi[SK_MEMINFO_RMEM_ALLOC] < half ?
			(half - mi[SK_MEMINFO_RMEM_ALLOC]) / ANSWER_BYTES : 0;
		if (fit < room)
			room = fit;
	}

	return room;
}


/**
 * Whether a SIP UDP socket's receive queue is filling up
 *
 * @return true while one holds more than half of its buffer
 */
bool sipsock_congested(void)
{
	return sipsock_room(1) == 0;
}

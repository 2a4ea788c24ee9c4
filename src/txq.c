/**
 * @file txq.c  Datagrams of the fast path, sent many per system call
 *
 * A fan-out writes one NOTIFY per watcher; each sendto(2) pays the
 * system call's entry and exit (in this VM a paravirtual interrupt
 * enabling too) besides the per-datagram work of the UDP stack.  The
 * fast path writes its datagrams into one arena here instead, and
 * sendmmsg(2) sends them together: at the end of each fan-out batch
 * (txq_flush), when the arena is full, or at the latest from a timer
 * due at once, in the same main-loop turn for everything queued from
 * a socket's handler.  A datagram the kernel refuses is lost like one
 * the network drops: the retransmission timer's business.
 *
 * An IPv4 datagram sent in the socket's default mode (IP_PMTUDISC_WANT:
 * the kernel may fragment it locally) takes an IP ID from the kernel's
 * shared generator (__ip_select_ident, ~5 % of parkblf's CPU in a
 * fan-out); with IP_PMTUDISC_DO its ID is 0.  On the wire nothing
 * changes: in either mode a datagram that fits the path MTU carries DF.
 * What differs is one that does not fit: DO refuses it (EMSGSIZE)
 * instead of fragmenting it.  libre sends on the same sockets and must
 * see the default mode, so a run of datagrams goes out in DO mode and
 * the socket's own mode is back before anything else runs (the loop is
 * single-threaded); a datagram refused for its size is sent again
 * right there in the socket's own mode, fragmented as before, ahead of
 * the rest of the run.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#define _GNU_SOURCE 1  /* sendmmsg */
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


enum {
	ARENA   = 128 * 1024,
	MAX_MSG = 128,
};

static struct {
	char arena[ARENA];
	size_t used;
	struct mmsghdr msg[MAX_MSG];
	struct iovec iov[MAX_MSG];
	struct sa dst[MAX_MSG];
	int fd[MAX_MSG];
	unsigned n;
	struct ptmr tmr;
	uint64_t calls;             /**< sendmmsg calls, for the tests    */
	uint64_t refits;            /**< Sent again, fragmented           */
} q;


/* IPv4 with a mode other than DO: put DO in force for a run and say
   the mode to restore (-1: leave the socket as it is) */
static int df_enter(int fd, const struct sa *dst)
{
	const int df = IP_PMTUDISC_DO;
	int mode = -1;
	socklen_t len = sizeof(mode);

	if (sa_af(dst) != AF_INET)
		return -1;

	if (getsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &mode, &len) ||
	    mode == IP_PMTUDISC_DO || mode == IP_PMTUDISC_PROBE)
		return -1;

	if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &df, sizeof(df)))
		return -1;

	return mode;
}


static void df_leave(int fd, int mode)
{
	if (mode >= 0)
		(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &mode,
				 sizeof(mode));
}


/* Datagram i, too large for the path MTU in DO mode: again in the
   socket's own mode, which fragments it */
static void refit(unsigned i, int mode)
{
	const int fd = q.fd[i];
	ssize_t r;

	df_leave(fd, mode);
	do {
		r = sendmsg(fd, &q.msg[i].msg_hdr, 0);
	} while (r < 0 && errno == EINTR);
	++q.refits;
	(void)df_enter(fd, &q.dst[i]);
}


/* Send fd's run of datagrams starting at i; returns the next index */
static unsigned send_run(unsigned i)
{
	const int fd = q.fd[i];
	unsigned j = i;
	int mode;

	while (j < q.n && q.fd[j] == fd)
		++j;

	mode = df_enter(fd, &q.dst[i]);

	while (i < j) {
		int r = sendmmsg(fd, &q.msg[i], j - i, 0);

		++q.calls;
		if (r > 0)
			i += (unsigned)r;
		else if (r < 0 && errno == EINTR)
			continue;
		else if (r < 0 && errno == EMSGSIZE && mode >= 0)
			refit(i++, mode);
		else
			++i;     /* this one is lost: try the rest */
	}

	df_leave(fd, mode);

	return j;
}


/**
 * Send every datagram queued
 */
void txq_flush(void)
{
	unsigned i = 0;

	ptmr_cancel(&q.tmr);

	while (i < q.n)
		i = send_run(i);

	q.n = 0;
	q.used = 0;
}


static void flush_handler(void *arg)
{
	(void)arg;
	txq_flush();
}


/**
 * Space for one datagram of at most max bytes
 *
 * @param max Upper bound of its length
 *
 * @return Where to write it, or NULL if it can never fit (send it on
 *         its own)
 */
char *txq_reserve(size_t max)
{
	if (max > ARENA)
		return NULL;

	if (q.n == MAX_MSG || q.used + max > ARENA)
		txq_flush();

	return q.arena + q.used;
}


/**
 * Queue the datagram written at txq_reserve's space
 *
 * @param fd  Socket to send it from
 * @param dst Destination
 * @param len Its length
 */
void txq_commit(int fd, const struct sa *dst, size_t len)
{
	struct mmsghdr *m;

	if (fd < 0 || !dst)
		return;

	m = &q.msg[q.n];
	q.dst[q.n] = *dst;
	q.fd[q.n] = fd;
	q.iov[q.n].iov_base = q.arena + q.used;
	q.iov[q.n].iov_len = len;
	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_name = &q.dst[q.n].u.sa;
	m->msg_hdr.msg_namelen = q.dst[q.n].len;
	m->msg_hdr.msg_iov = &q.iov[q.n];
	m->msg_hdr.msg_iovlen = 1;

	/* 8-byte aligned, like every datagram after it */
	q.used += (len + 7) & ~(size_t)7;
	if (q.used > ARENA)
		q.used = ARENA;
	++q.n;

	if (!ptmr_isrunning(&q.tmr))
		ptmr_start(&q.tmr, 0, flush_handler, NULL);
}


/** @return Datagrams queued, not yet sent */
unsigned txq_count(void)
{
	return q.n;
}


/** @return sendmmsg calls so far */
uint64_t txq_calls(void)
{
	return q.calls;
}


/** @return Datagrams too large for IP_PMTUDISC_DO, sent fragmented */
uint64_t txq_refits(void)
{
	return q.refits;
}

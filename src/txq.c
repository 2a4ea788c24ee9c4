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
 * Copyright (C) 2026 The parkblf authors
 */
#define _GNU_SOURCE 1  /* sendmmsg */
#include <string.h>
#include <sys/socket.h>
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
} q;


/* Send fd's run of datagrams starting at i; returns the next index */
static unsigned send_run(unsigned i)
{
	const int fd = q.fd[i];
	unsigned j = i;

	while (j < q.n && q.fd[j] == fd)
		++j;

	while (i < j) {
		int r = sendmmsg(fd, &q.msg[i], j - i, 0);

		++q.calls;
		if (r > 0)
			i += (unsigned)r;
		else if (r < 0 && errno == EINTR)
			continue;
		else
			++i;     /* this one is lost: try the rest */
	}

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

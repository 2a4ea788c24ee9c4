/**
 * @file fanfloor.c  The kernel's floor of a fan-out on this machine
 *
 * What a 1,000-watcher fan-out costs with nothing of parkblf's or the
 * load generator's own in it: a sender process pinned to CPU 0 sends N
 * datagrams of SIZE bytes (parkblf's NOTIFY of a park in make bench's
 * fan-out: 1,027 bytes; a retrieve's is 719) from one UDP socket on
 * 127.0.0.1 by sendmmsg, BATCH per call (as parkblf's txq), to N
 * sockets each bound to its own loopback address (127.1.0.1,
 * 127.1.0.2, ... at a port of the kernel's choice: the load
 * generator's phones); a reader process pinned to CPU 1 reads them as
 * the load generator does (test/bench/loadgen.c): a
 * level-triggered epoll set of the N sockets, waited for in epoll_wait
 * (-B: polled with epoll_wait(0)), one recvmmsg of up to VLEN (32) per
 * ready socket, the read time taken as it returns, and the kernel's
 * arrival stamp (SO_TIMESTAMPNS) of each datagram.  Latencies run from
 * the sender's CLOCK_MONOTONIC right before its first sendmmsg.
 *
 * The rounds alternate two senders: the default socket
 * (IP_PMTUDISC_WANT: every datagram gets an IP ID from
 * __ip_select_ident) and one with IP_MTU_DISCOVER = IP_PMTUDISC_DO
 * (DF set, IP ID 0).  Per sender one line: the latencies of every
 * datagram of every round pooled (arr_p50_ms, arr_p99_ms, read_*: as
 * make bench's fan-out p50/p99 over all watchers of all events), the
 * last one per round (p50/p99 over the rounds), the sender's wall time
 * and its CPU (CLOCK_THREAD_CPUTIME_ID) per datagram, and the reader's
 * CPU per datagram (with polling, its wall time).  -a: the reader
 * also answers each datagram with ANSWER bytes from the phone's socket,
 * after its reads, 16 at a time when no socket is ready, as the load
 * generator sends its 200s.  Not a test: numbers for
 * docs/BENCHMARKS.md.
 *
 * Usage: fanfloor [-n N] [-s SIZE] [-b BATCH] [-r ROUNDS] [-v VLEN]
 *                 [-a] [-B] [-c SENDCPU,READCPU]
 *        (default 1000 watchers, 1027 bytes, 128, 200 rounds, CPUs 0,1)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <getopt.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>


enum {
	RX_BATCH  = 32,          /**< Datagrams per recvmmsg, as loadgen   */
	EV_MAX    = 256,         /**< Ready sockets per epoll_wait         */
	CHUNK     = 16,          /**< Answers sent between two looks       */
	ANSWER    = 480,         /**< -a: bytes of an answer (a 200 OK)    */
	WAIT_MS   = 2000,        /**< A round's datagrams lost after this  */
	MAX_BATCH = 1024,
};

struct cmd {
	int mode;                /**< 0: default socket, 1: DF; -1: end    */
};

struct result {
	uint64_t t0, t1;         /**< Before the first, after the last, ns */
	uint64_t cpu;            /**< The sender's CPU for the sends, ns   */
};

struct stats {
	double *arr, *rd;        /**< Every datagram's, ms                 */
	size_t n;
	double *arr_last, *rd_last, *send_ms, *cpu_us, *rcpu_us;
	size_t rounds;
	unsigned lost;
};

static struct {
	unsigned n, size, batch, rounds, vlen;
	int cpu_send, cpu_read;
	bool answer, spin;
	int *fd;                  /**< The watchers' sockets               */
	struct sockaddr_in *addr;
	struct sockaddr_in src[2];  /**< The senders' addresses             */
} o = {1000, 1027, 128, 200, 32, 0, 1, false, false, NULL, NULL, {{0}}};


static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	(void)clock_gettime(c, &ts);

	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}


static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		(void)fprintf(stderr, "fanfloor: CPU %d: %s (not pinned)\n",
			      cpu, strerror(errno));
}


static int udp_socket(uint32_t addr, int rcvbuf)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		(void)close(fd);
		return -1;
	}

	return fd;
}


static bool full_io(int fd, void *buf, size_t len, bool wr)
{
	char *p = buf;

	while (len) {
		ssize_t r = wr ? write(fd, p, len) : read(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		len -= (size_t)r;
	}

	return true;
}


/* --- the sender (CPU 0) -------------------------------------------- */

static void drain(int fd)
{
	char buf[2048];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}


static int sender(int cmdfd, int resfd, int sfd[2])
{
	char *arena = malloc((size_t)o.batch * o.size);
	struct mmsghdr *mm = calloc(o.n, sizeof(*mm));
	struct iovec *iov = calloc(o.n, sizeof(*iov));
	unsigned i;

	if (!arena || !mm || !iov) {
		free(arena);
		free(mm);
		free(iov);
		return 1;
	}

	/* a datagram per watcher, BATCH of them distinct (parkblf writes
	   each into its arena before the sendmmsg) */
	for (i = 0; i < o.batch; i++) {
		char *p = arena + (size_t)i * o.size;

		memset(p, 'x', o.size);
		(void)snprintf(p, o.size, "NOTIFY sip:phone%u@127.1.0.1 "
			       "SIP/2.0\r\n", i);
	}
	for (i = 0; i < o.n; i++) {
		iov[i].iov_base = arena + (size_t)(i % o.batch) * o.size;
		iov[i].iov_len = o.size;
		mm[i].msg_hdr.msg_name = &o.addr[i];
		mm[i].msg_hdr.msg_namelen = sizeof(o.addr[i]);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}

	pin(o.cpu_send);

	for (;;) {
		struct result res;
		struct cmd c;
		uint64_t c0;
		int fd;

		if (!full_io(cmdfd, &c, sizeof(c), false) || c.mode < 0)
			break;
		fd = sfd[c.mode];
		drain(sfd[0]);
		drain(sfd[1]);

		c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		res.t0 = clock_ns(CLOCK_MONOTONIC);
		for (i = 0; i < o.n;) {
			const unsigned k = o.n - i < o.batch ?
				o.n - i : o.batch;
			int r = sendmmsg(fd, &mm[i], k, 0);

			if (r < 0 && errno == EINTR)
				continue;
			i += r > 0 ? (unsigned)r : 1;
		}
		res.t1 = clock_ns(CLOCK_MONOTONIC);
		res.cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;

		if (!full_io(resfd, &res, sizeof(res), true))
			break;
	}

	free(arena);
	free(mm);
	free(iov);

	return 0;
}


/* --- the reader (CPU 1) -------------------------------------------- */

static uint64_t stamp_ns(struct msghdr *mh, int64_t off, uint64_t t)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		struct timespec ts;

		if (c->cmsg_level != SOL_SOCKET ||
		    c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));

		return (uint64_t)((int64_t)ts.tv_sec * 1000000000LL +
				  ts.tv_nsec - off);
	}

	return t;
}


/* One round: every watcher's arrival and read time, ns (0: lost); -a:
   the answers go to the round's sender socket, as the phones' 200s to
   parkblf's */
static void round_read(int ep, int mode, uint64_t *arr, uint64_t *rd,
		       int *pending, unsigned *npending)
{
	static char buf[RX_BATCH][2048];
	static char ctl[RX_BATCH][CMSG_SPACE(sizeof(struct timespec))];
	static char answer[ANSWER];
	struct epoll_event ev[EV_MAX];
	struct mmsghdr mm[RX_BATCH];
	struct iovec iov[RX_BATCH];
	const uint64_t t_end = clock_ns(CLOCK_MONOTONIC) +
		WAIT_MS * 1000000ULL;
	unsigned got = 0, sent = 0;

	memset(answer, 'y', sizeof(answer));

	while (got < o.n || sent < *npending) {
		struct timespec r, m;
		int64_t off;
		int i, nev;

		if (clock_ns(CLOCK_MONOTONIC) > t_end)
			break;
		nev = epoll_wait(ep, ev, EV_MAX,
				 o.spin || got == o.n ? 0 : 100);
		(void)clock_gettime(CLOCK_REALTIME, &r);
		(void)clock_gettime(CLOCK_MONOTONIC, &m);
		off = ((int64_t)r.tv_sec - m.tv_sec) * 1000000000LL +
			(r.tv_nsec - m.tv_nsec);

		for (i = 0; i < nev; i++) {
			const unsigned w = ev[i].data.u32;
			uint64_t t;
			int k, n;

			for (k = 0; k < RX_BATCH; k++) {
				memset(&mm[k], 0, sizeof(mm[k]));
				iov[k].iov_base = buf[k];
				iov[k].iov_len = sizeof(buf[k]);
				mm[k].msg_hdr.msg_iov = &iov[k];
				mm[k].msg_hdr.msg_iovlen = 1;
				mm[k].msg_hdr.msg_control = ctl[k];
				mm[k].msg_hdr.msg_controllen = sizeof(ctl[k]);
			}
			n = recvmmsg(o.fd[w], mm, o.vlen, MSG_DONTWAIT,
				     NULL);
			t = clock_ns(CLOCK_MONOTONIC);
			for (k = 0; k < n; k++) {
				if (rd[w])
					continue;    /* not ours */
				rd[w] = t;
				arr[w] = stamp_ns(&mm[k].msg_hdr, off, t);
				++got;
				if (o.answer)
					pending[(*npending)++] = (int)w;
			}
		}
		if (nev > 0)
			continue;

		/* -a: the answers of what was read, when nothing is */
		for (i = 0; i < CHUNK && sent < *npending; i++, sent++) {
			const unsigned w = (unsigned)pending[sent];

			(void)sendto(o.fd[w], answer, sizeof(answer), 0,
				     (const struct sockaddr *)
				     &o.src[mode], sizeof(o.src[0]));
		}
	}
	*npending = 0;
}


static int cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}


static double pct(double *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return -1;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(p * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}


static void report(const char *mode, struct stats *s)
{
	(void)printf("fanfloor mode=%s watchers=%u size=%u batch=%u "
		     "rounds=%zu answers=%d spin=%d lost=%u "
		     "arr_p50_ms=%.3f arr_p99_ms=%.3f "
		     "read_p50_ms=%.3f read_p99_ms=%.3f "
		     "arr_last_p50_ms=%.3f arr_last_p99_ms=%.3f "
		     "read_last_p50_ms=%.3f read_last_p99_ms=%.3f "
		     "send_ms_p50=%.3f send_cpu_us_per_dgram_p50=%.3f "
		     "read_cpu_us_per_dgram_p50=%.3f\n",
		     mode, o.n, o.size, o.batch, s->rounds, o.answer, o.spin,
		     s->lost,
		     pct(s->arr, s->n, 0.50), pct(s->arr, s->n, 0.99),
		     pct(s->rd, s->n, 0.50), pct(s->rd, s->n, 0.99),
		     pct(s->arr_last, s->rounds, 0.50),
		     pct(s->arr_last, s->rounds, 0.99),
		     pct(s->rd_last, s->rounds, 0.50),
		     pct(s->rd_last, s->rounds, 0.99),
		     pct(s->send_ms, s->rounds, 0.50),
		     pct(s->cpu_us, s->rounds, 0.50),
		     pct(s->rcpu_us, s->rounds, 0.50));
}


static int stats_init(struct stats *s)
{
	memset(s, 0, sizeof(*s));
	s->arr = calloc((size_t)o.n * o.rounds, sizeof(double));
	s->rd = calloc((size_t)o.n * o.rounds, sizeof(double));
	s->arr_last = calloc(o.rounds, sizeof(double));
	s->rd_last = calloc(o.rounds, sizeof(double));
	s->send_ms = calloc(o.rounds, sizeof(double));
	s->cpu_us = calloc(o.rounds, sizeof(double));
	s->rcpu_us = calloc(o.rounds, sizeof(double));

	return s->arr && s->rd && s->arr_last && s->rd_last && s->send_ms &&
		s->cpu_us && s->rcpu_us ? 0 : ENOMEM;
}


static void stats_free(struct stats *s)
{
	free(s->arr);
	free(s->rd);
	free(s->arr_last);
	free(s->rd_last);
	free(s->send_ms);
	free(s->cpu_us);
	free(s->rcpu_us);
}


static int reader(int cmdfd, int resfd)
{
	uint64_t *arr = calloc(o.n, sizeof(*arr));
	uint64_t *rd = calloc(o.n, sizeof(*rd));
	int *pending = calloc(o.n, sizeof(*pending));
	struct stats st[2];
	unsigned r, w, npending = 0;
	int ep = epoll_create1(0), err = 1;

	/* both initialised (|, not ||), so that out: frees both */
	if (stats_init(&st[0]) | stats_init(&st[1]) || !arr || !rd ||
	    !pending || ep < 0)
		goto out;
	for (w = 0; w < o.n; w++) {
		struct epoll_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u32 = w;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, o.fd[w], &ev))
			goto out;
	}

	pin(o.cpu_read);

	for (r = 0; r < 2 * o.rounds; r++) {
		struct stats *s = &st[r % 2];
		const struct cmd c = {(int)(r % 2)};
		struct result res;
		uint64_t arr_last = 0, rd_last = 0, c0;

		memset(arr, 0, o.n * sizeof(*arr));
		memset(rd, 0, o.n * sizeof(*rd));
		if (!full_io(cmdfd, (void *)&c, sizeof(c), true))
			goto out;
		c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		round_read(ep, c.mode, arr, rd, pending, &npending);
		s->rcpu_us[s->rounds] = (double)(clock_ns(
			CLOCK_THREAD_CPUTIME_ID) - c0) / 1e3 / o.n;
		if (!full_io(resfd, &res, sizeof(res), false))
			goto out;

		for (w = 0; w < o.n; w++) {
			if (!rd[w]) {
				++s->lost;
				continue;
			}
			if (arr[w] < res.t0)
				arr[w] = res.t0;
			s->arr[s->n] = (double)(arr[w] - res.t0) / 1e6;
			s->rd[s->n++] = (double)(rd[w] - res.t0) / 1e6;
			if (arr[w] > arr_last)
				arr_last = arr[w];
			if (rd[w] > rd_last)
				rd_last = rd[w];
		}
		s->arr_last[s->rounds] = (double)(arr_last - res.t0) / 1e6;
		s->rd_last[s->rounds] = (double)(rd_last - res.t0) / 1e6;
		s->send_ms[s->rounds] = (double)(res.t1 - res.t0) / 1e6;
		s->cpu_us[s->rounds++] = (double)res.cpu / 1e3 / o.n;
		/* the machine settles between rounds (as between events) */
		(void)poll(NULL, 0, 2);
	}

	report("default", &st[0]);
	report("df", &st[1]);
	err = 0;

 out:
	stats_free(&st[0]);
	stats_free(&st[1]);
	free(arr);
	free(rd);
	free(pending);
	if (ep >= 0)
		(void)close(ep);

	return err;
}


static void usage(void)
{
	(void)fprintf(stderr, "usage: fanfloor [-n N] [-s SIZE] [-b BATCH] "
		      "[-r ROUNDS] [-v VLEN] [-a] [-B] "
		      "[-c SENDCPU,READCPU]\n");
}


int main(int argc, char *argv[])
{
	int cmdp[2], resp[2], sfd[2], c, err, status;
	const int df = IP_PMTUDISC_DO;
	socklen_t sl = sizeof(o.src[0]);
	pid_t pid;
	unsigned i;

	while ((c = getopt(argc, argv, "n:s:b:r:v:aBc:")) != -1) {
		switch (c) {

		case 'n': o.n = (unsigned)atoi(optarg); break;
		case 's': o.size = (unsigned)atoi(optarg); break;
		case 'b': o.batch = (unsigned)atoi(optarg); break;
		case 'r': o.rounds = (unsigned)atoi(optarg); break;
		case 'v': o.vlen = (unsigned)atoi(optarg); break;
		case 'a': o.answer = true; break;
		case 'B': o.spin = true; break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &o.cpu_send,
				   &o.cpu_read) != 2) {
				usage();
				return 2;
			}
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!o.n || o.n > 65000 || o.size < 64 || o.size > 1472 ||
	    !o.batch || o.batch > MAX_BATCH || !o.rounds || !o.vlen ||
	    o.vlen > RX_BATCH) {
		usage();
		return 2;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		o.cpu_read = o.cpu_send;

	o.fd = calloc(o.n, sizeof(*o.fd));
	o.addr = calloc(o.n, sizeof(*o.addr));
	if (!o.fd || !o.addr)
		return 1;

	/* the watchers, as the load generator's phones: 127.1.0.1 ... */
	for (i = 0; i < o.n; i++) {
		const int one = 1;
		socklen_t al = sizeof(o.addr[i]);

		o.fd[i] = udp_socket(0x7f010001 + i, 1 << 20);
		if (o.fd[i] < 0 ||
		    setsockopt(o.fd[i], SOL_SOCKET, SO_TIMESTAMPNS, &one,
			       sizeof(one)) ||
		    getsockname(o.fd[i], (struct sockaddr *)&o.addr[i],
				&al)) {
			(void)fprintf(stderr, "fanfloor: socket %u: %s\n", i,
				      strerror(errno));
			return 1;
		}
	}

	/* the senders: the default socket and one with DF (no IP ID) */
	for (i = 0; i < 2; i++) {
		sfd[i] = udp_socket(0x7f000001, 4 << 20);
		if (sfd[i] < 0 ||
		    (i == 1 && setsockopt(sfd[i], IPPROTO_IP, IP_MTU_DISCOVER,
					  &df, sizeof(df))) ||
		    getsockname(sfd[i], (struct sockaddr *)&o.src[i], &sl)) {
			(void)fprintf(stderr, "fanfloor: sender: %s\n",
				      strerror(errno));
			return 1;
		}
	}

	if (pipe(cmdp) || pipe(resp))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		(void)close(cmdp[1]);
		(void)close(resp[0]);
		_exit(sender(cmdp[0], resp[1], sfd));
	}
	(void)close(cmdp[0]);
	(void)close(resp[1]);

	err = reader(cmdp[1], resp[0]);
	(void)close(cmdp[1]);          /* the sender ends */
	if (waitpid(pid, &status, 0) != pid)
		(void)kill(pid, SIGKILL);

	return err;
}

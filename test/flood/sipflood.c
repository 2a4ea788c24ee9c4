/**
 * @file sipflood.c  A hostile SIP client for the security tests
 *
 * Sends COUNT requests made from templates (each source takes them in
 * turn), from one source address or SOURCES of them (the -s address
 * and the next ones: 127.0.5.1, 127.0.5.2, ... each with a port the OS
 * picks), to parkblf, and meanwhile listens as a "victim" address that
 * a request may name (in its Contact, Record-Route or Via) and counts
 * every byte that arrives there.  The source and the victim answer
 * NOTIFYs 200 only when asked to (-A, -a): an address that never
 * answers has not shown parkblf that it is reachable.
 *
 * The template is a SIP request with LF or CRLF line ends; these are
 * replaced in it:
 *
 *   @N@       the request's number (0, 1, ...)
 *   @SRC@     the source address, ip:port
 *   @VICTIM@  the victim address, ip:port
 *   @DST@     parkblf's address, ip:port
 *
 * Usage:
 *
 *   sipflood -t DST -s SRC -m TEMPLATE [-m TEMPLATE...] [-n COUNT]
 *            [-S SOURCES] [-d SECS] [-v VICTIM] [-A] [-a] [-w WINDOW]
 *            [-T SECS]
 *
 * At most WINDOW requests (default 100) are left without an answer at
 * a time; a request unanswered for 2 s is counted lost.  With -d it
 * stops sending after SECS seconds even if COUNT are not sent.  After the
 * last request it listens SECS more seconds (default 2), then prints:
 *
 *   sent=N sent_bytes=B answered=N lost=N c2xx=N c4xx=N c5xx=N
 *   code_XXX=N ...  src_requests=N src_bytes=N victim_requests=N
 *   victim_bytes=N
 *
 * (src_bytes: bytes of requests parkblf sent to the source; responses
 * to the source's own requests are not counted there.)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdbool.h>
#include <strings.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>


enum { MAX_MSG = 65536, LOST_MS = 2000, MAX_TPL = 16, MAX_SRC = 1024 };

struct counts {
	unsigned long sent, sent_bytes, answered, lost;
	unsigned long code[700];
	unsigned long src_requests, src_bytes;
	unsigned long victim_requests, victim_bytes;
};


static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);

	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}


static int parse_addr(struct sockaddr_in *sin, const char *s)
{
	char host[64];
	const char *c = strrchr(s, ':');

	if (!c || (size_t)(c - s) >= sizeof(host))
		return EINVAL;

	memcpy(host, s, (size_t)(c - s));
	host[c - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(c + 1));

	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : EINVAL;
}


static int bind_udp(const struct sockaddr_in *sin, struct sockaddr_in *got)
{
	socklen_t len = sizeof(*got);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int size = 4 * 1024 * 1024;

	if (fd < 0)
		return -1;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (const struct sockaddr *)sin, sizeof(*sin)) ||
	    getsockname(fd, (struct sockaddr *)got, &len)) {
		close(fd);
		return -1;
	}

	return fd;
}


static void addr_str(char *buf, size_t sz, const struct sockaddr_in *sin)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
	snprintf(buf, sz, "%s:%u", ip, ntohs(sin->sin_port));
}


/* The template with its placeholders filled in and CRLF line ends */
static size_t render(char *out, size_t sz, const char *tpl, unsigned long n,
		     const char *src, const char *victim, const char *dst)
{
	size_t o = 0;
	const char *p = tpl;

	while (*p && o + 64 < sz) {
		const char *val = NULL;
		char num[24];
		size_t skip = 0;

		if (!strncmp(p, "@N@", 3)) {
			snprintf(num, sizeof(num), "%lu", n);
			val = num;
			skip = 3;
		}
		else if (!strncmp(p, "@SRC@", 5)) {
			val = src;
			skip = 5;
		}
		else if (!strncmp(p, "@VICTIM@", 8)) {
			val = victim;
			skip = 8;
		}
		else if (!strncmp(p, "@DST@", 5)) {
			val = dst;
			skip = 5;
		}

		if (val) {
			size_t l = strlen(val);

			if (o + l + 64 >= sz)
				break;
			memcpy(out + o, val, l);
			o += l;
			p += skip;
		}
		else if (*p == '\n') {
			if (!o || out[o - 1] != '\r')
				out[o++] = '\r';
			out[o++] = '\n';
			++p;
		}
		else {
			out[o++] = *p++;
		}
	}

	return o;
}


/* The header value of NAME in a message (first one), into buf */
static void header(char *buf, size_t sz, const char *msg, size_t len,
		   const char *name)
{
	size_t nl = strlen(name);
	const char *p = msg, *end = msg + len;

	buf[0] = '\0';
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);

		if (!eol || eol == p)
			return;
		if ((size_t)(eol - p) > nl + 1 && !strncasecmp(p, name, nl) &&
		    p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t l;

			while (v < eol && *v == ' ')
				++v;
			l = (size_t)(eol - v);
			if (l >= sz)
				l = sz - 1;
			memcpy(buf, v, l);
			buf[l] = '\0';
			return;
		}
		p = eol + 2;
	}
}


/* 200 OK to a request, copying what a response must copy */
static void answer(int fd, const char *msg, size_t len,
		   const struct sockaddr_in *to)
{
	static const char *hdrs[] = {"Via", "From", "To", "Call-ID", "CSeq"};
	char out[4096], v[1024];
	size_t o, i;

	o = (size_t)snprintf(out, sizeof(out), "SIP/2.0 200 OK\r\n");
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		header(v, sizeof(v), msg, len, hdrs[i]);
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s: %s\r\n",
				      hdrs[i], v);
		if (o >= sizeof(out))
			return;
	}
	o += (size_t)snprintf(out + o, sizeof(out) - o,
			      "Content-Length: 0\r\n\r\n");
	if (o < sizeof(out))
		(void)sendto(fd, out, o, 0, (const struct sockaddr *)to,
			     sizeof(*to));
}


static bool is_response(const char *msg, size_t len)
{
	return len > 12 && !memcmp(msg, "SIP/2.0 ", 8);
}


/* Read what arrived on a socket.  The source (outstanding set) gets
   answers to its requests; requests of parkblf (and, at the victim,
   every byte) are counted, and answered 200 with ans. */
static void read_sock(int fd, struct counts *c, bool ans,
		      unsigned long *outstanding)
{
	char buf[MAX_MSG];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl)) > 0) {
		fl = sizeof(from);
		buf[n] = '\0';
		if (!outstanding)
			c->victim_bytes += (unsigned long)n;

		if (!is_response(buf, (size_t)n)) {
			if (outstanding) {
				++c->src_requests;
				c->src_bytes += (unsigned long)n;
			}
			else {
				++c->victim_requests;
			}
			if (ans)
				answer(fd, buf, (size_t)n, &from);
		}
		else if (outstanding) {
			int code = atoi(buf + 8);

			if (code >= 100 && code < 200)
				continue;
			if (code >= 200 && code < 700)
				++c->code[code];
			++c->answered;
			if (*outstanding)
				--*outstanding;
		}
	}
}


static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;

	buf = calloc(1, MAX_MSG);
	n = buf ? fread(buf, 1, MAX_MSG - 1, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';

	return buf;
}


static void usage(void)
{
	fprintf(stderr, "usage: sipflood -t DST -s SRC -m TEMPLATE "
		"[-m TEMPLATE...] [-n COUNT] [-S SOURCES] [-d SECS] "
		"[-v VICTIM] [-A] [-a] [-w WINDOW] [-T SECS]\n");
	exit(2);
}


static void print_counts(const struct counts *c)
{
	unsigned long k2 = 0, k4 = 0, k5 = 0;
	int k;

	printf("sent=%lu sent_bytes=%lu answered=%lu lost=%lu", c->sent,
	       c->sent_bytes, c->answered, c->lost);
	for (k = 200; k < 700; k++) {
		if (k < 300)
			k2 += c->code[k];
		else if (k >= 400 && k < 500)
			k4 += c->code[k];
		else if (k >= 500 && k < 600)
			k5 += c->code[k];
	}
	printf(" c2xx=%lu c4xx=%lu c5xx=%lu", k2, k4, k5);
	for (k = 200; k < 700; k++) {
		if (c->code[k])
			printf(" code_%d=%lu", k, c->code[k]);
	}
	printf(" src_requests=%lu src_bytes=%lu victim_requests=%lu "
	       "victim_bytes=%lu\n", c->src_requests, c->src_bytes,
	       c->victim_requests, c->victim_bytes);
}


/* Every socket's arrivals: the sources' and the victim's */
static void read_all(const int *sfd, unsigned nsrc, int vfd,
		     struct counts *c, bool src_ans, bool victim_ans,
		     unsigned long *outstanding, int timeout_ms)
{
	static struct pollfd pfd[MAX_SRC + 1];
	unsigned k;

	for (k = 0; k < nsrc; k++) {
		pfd[k].fd = sfd[k];
		pfd[k].events = POLLIN;
		pfd[k].revents = 0;
	}
	pfd[nsrc].fd = vfd;
	pfd[nsrc].events = POLLIN;
	pfd[nsrc].revents = 0;

	if (poll(pfd, nsrc + (vfd >= 0), timeout_ms) <= 0)
		return;

	for (k = 0; k < nsrc; k++) {
		if (pfd[k].revents)
			read_sock(sfd[k], c, src_ans, outstanding);
	}
	if (vfd >= 0 && pfd[nsrc].revents)
		read_sock(vfd, c, victim_ans, NULL);
}


int main(int argc, char **argv)
{
	static int sfd[MAX_SRC];
	static char srcs[MAX_SRC][32];
	struct sockaddr_in dst, src, victim, got;
	char victims[32] = "", dsts[32] = "";
	const char *tplfile[MAX_TPL], *victim_arg = NULL, *src_arg = NULL;
	const char *dst_arg = NULL;
	char *tpl[MAX_TPL];
	unsigned long count = 1, window = 100, outstanding = 0, i;
	unsigned tail_s = 2, ntpl = 0, nsrc = 1, dur_s = 0, k;
	bool src_ans = false, victim_ans = false;
	struct counts c;
	int vfd = -1, opt;
	uint64_t last_progress, end, stop = 0;
	char *msg;

	while ((opt = getopt(argc, argv, "t:s:m:n:v:Aaw:T:S:d:")) != -1) {
		switch (opt) {
		case 't': dst_arg = optarg; break;
		case 's': src_arg = optarg; break;
		case 'm':
			if (ntpl == MAX_TPL)
				usage();
			tplfile[ntpl++] = optarg;
			break;
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 'v': victim_arg = optarg; break;
		case 'A': src_ans = true; break;
		case 'a': victim_ans = true; break;
		case 'w': window = strtoul(optarg, NULL, 10); break;
		case 'T': tail_s = (unsigned)atoi(optarg); break;
		case 'S': nsrc = (unsigned)atoi(optarg); break;
		case 'd': dur_s = (unsigned)atoi(optarg); break;
		default: usage();
		}
	}
	if (!dst_arg || !src_arg || !ntpl || !window || !nsrc ||
	    nsrc > MAX_SRC)
		usage();

	if (parse_addr(&dst, dst_arg) || parse_addr(&src, src_arg) ||
	    (victim_arg && parse_addr(&victim, victim_arg))) {
		fprintf(stderr, "sipflood: bad address\n");
		return 2;
	}

	for (k = 0; k < ntpl; k++) {
		tpl[k] = read_file(tplfile[k]);
		if (!tpl[k]) {
			fprintf(stderr, "sipflood: cannot read %s\n",
				tplfile[k]);
			return 2;
		}
	}
	msg = malloc(MAX_MSG);
	if (!msg)
		return 2;

	for (k = 0; k < nsrc; k++) {
		struct sockaddr_in a = src;

		if (nsrc > 1) {
			a.sin_addr.s_addr = htonl(ntohl(src.sin_addr.s_addr) +
						  k);
			a.sin_port = 0;
		}
		sfd[k] = bind_udp(&a, &got);
		if (sfd[k] < 0) {
			perror("sipflood: source");
			return 2;
		}
		addr_str(srcs[k], sizeof(srcs[k]), &got);
	}
	if (victim_arg) {
		vfd = bind_udp(&victim, &got);
		if (vfd < 0) {
			perror("sipflood: victim");
			return 2;
		}
		addr_str(victims, sizeof(victims), &got);
	}
	addr_str(dsts, sizeof(dsts), &dst);

	memset(&c, 0, sizeof(c));
	last_progress = now_ms();
	if (dur_s)
		stop = last_progress + dur_s * 1000ULL;
	for (i = 0; i < count && (!stop || now_ms() < stop); ) {
		if (outstanding < window) {
			const unsigned s = (unsigned)(i % nsrc);
			/* every source sends every template in turn */
			const unsigned t = (unsigned)((i + i / nsrc) % ntpl);
			size_t len = render(msg, MAX_MSG, tpl[t], i, srcs[s],
					    victims, dsts);

			if (sendto(sfd[s], msg, len, 0,
				   (const struct sockaddr *)&dst,
				   sizeof(dst)) == (ssize_t)len) {
				++c.sent;
				c.sent_bytes += len;
				++outstanding;
				++i;
				last_progress = now_ms();
			}
			else if (errno != EAGAIN && errno != ENOBUFS) {
				perror("sipflood: send");
				return 1;
			}
		}
		else if (now_ms() > last_progress + LOST_MS) {
			/* answers lost (or never coming): go on */
			c.lost += outstanding;
			outstanding = 0;
		}

		/* with many sources, poll all only every so often */
		if (outstanding >= window || nsrc == 1 || !(i % 64))
			read_all(sfd, nsrc, vfd, &c, src_ans, victim_ans,
				 &outstanding, outstanding < window ? 0 : 10);
	}

	end = now_ms() + tail_s * 1000ULL;
	while (now_ms() < end)
		read_all(sfd, nsrc, vfd, &c, src_ans, victim_ans,
			 &outstanding, 50);
	c.lost += outstanding;

	print_counts(&c);

	for (k = 0; k < ntpl; k++)
		free(tpl[k]);
	free(msg);
	for (k = 0; k < nsrc; k++)
		close(sfd[k]);
	if (vfd >= 0)
		close(vfd);

	return 0;
}

/**
 * @file wirefeed.c  Feed SIP messages to the wire check, one at a time
 *
 * Usage: wirefeed PORT FILE...   or   wirefeed PORT < LIST_OF_FILES
 *
 * Sends each FILE (one SIP message, exactly as it was on the wire) in
 * one datagram to the checking Kamailio at 127.0.0.1:PORT, then a probe
 * whose answer carries the verdict on that message (wirecheck.cfg.in).
 * A message too big for a datagram (a BLF list's NOTIFY over TCP) goes
 * over a TCP connection of its own, followed by the probe; Kamailio
 * then frames it by its Content-Length, and a wrong one leaves the probe
 * unanswered (reported as refused).
 * Prints "REFUSED FILE: why" for each message refused; exits 0 if none
 * was, 1 if one was, 2 if the checker does not answer.
 *
 * Plain POSIX, no libre: the checker's input must not pass through the
 * stack that made it.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


enum {
	MAX_MSG  = 1048576,   /**< As tcp_rd_buf_size there            */
	MAX_UDP  = 65000,
	WAIT_MS  = 2000,      /**< per probe attempt                   */
	ATTEMPTS = 3,
};


static int read_file(const char *path, char *buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return errno;
	n = fread(buf, 1, MAX_MSG + 1, f);
	fclose(f);
	if (n > MAX_MSG)
		return EMSGSIZE;
	*len = n;
	return 0;
}


static int probe_text(char *req, size_t sz, int fd, const char *tp,
		      unsigned long seq)
{
	struct sockaddr_in la;
	socklen_t lal = sizeof(la);

	if (getsockname(fd, (struct sockaddr *)&la, &lal))
		return -1;

	return snprintf(req, sz,
			"OPTIONS sip:wirecheck@127.0.0.1 SIP/2.0\r\n"
			"Via: SIP/2.0/%s 127.0.0.1:%u;branch=z9hG4bKwc%lu\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:wirefeed@127.0.0.1>;tag=%lu\r\n"
			"To: <sip:wirecheck@127.0.0.1>\r\n"
			"Call-ID: wirecheck-probe-%lu\r\n"
			"CSeq: %lu OPTIONS\r\n"
			"X-Wirecheck-Probe: %lu\r\n"
			"Content-Length: 0\r\n\r\n",
			tp, ntohs(la.sin_port), seq, seq, seq, seq, seq);
}


/* The reason phrase of the answer to probe SEQ in RSP, if it is one */
static bool verdict(const char *rsp, unsigned long seq, char *why,
		    size_t whysz)
{
	char callid[64];
	const char *eol;

	snprintf(callid, sizeof(callid), "Call-ID: wirecheck-probe-%lu\r\n",
		 seq);
	if (strncmp(rsp, "SIP/2.0 200 ", 12) || !strstr(rsp, callid))
		return false;
	eol = strstr(rsp + 12, "\r\n");
	if (!eol)
		return false;
	snprintf(why, whysz, "%.*s", (int)(eol - rsp - 12), rsp + 12);
	return true;
}


/* The verdict on the datagram sent before: the probe's reason phrase */
static int probe_udp(int fd, unsigned long seq, char *why, size_t whysz)
{
	static char rsp[65536];
	char req[512];
	int attempt, n, len;

	len = probe_text(req, sizeof(req), fd, "UDP", seq);
	if (len < 0)
		return errno;

	for (attempt = 0; attempt < ATTEMPTS; attempt++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (send(fd, req, (size_t)len, 0) != len)
			return errno;

		while (poll(&pfd, 1, WAIT_MS) == 1) {
			n = (int)recv(fd, rsp, sizeof(rsp) - 1, 0);
			if (n < 0)
				return errno;
			rsp[n] = '\0';
			/* else an answer to an earlier, retried probe */
			if (verdict(rsp, seq, why, whysz))
				return 0;
		}
	}

	return ETIMEDOUT;
}


/* A message too big for a datagram, and its probe, over TCP */
static int feed_tcp(const struct sockaddr_in *sa, const char *msg,
		    size_t len, unsigned long seq, char *why, size_t whysz)
{
	char req[512], rsp[4096];
	size_t got = 0;
	int fd, n, err = 0;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		err = errno;
		goto out;
	}
	n = probe_text(req, sizeof(req), fd, "TCP", seq);
	if (n < 0 || send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		err = errno;
		goto out;
	}

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, ATTEMPTS * WAIT_MS) != 1) {
			snprintf(why, whysz, "no answer to the probe after "
				 "it over TCP (a wrong Content-Length?)");
			goto out;
		}
		n = (int)recv(fd, rsp + got, sizeof(rsp) - 1 - got, 0);
		if (n <= 0) {
			snprintf(why, whysz, "the connection closed before "
				 "the probe's answer (refused by the core?)");
			goto out;
		}
		got += (size_t)n;
		rsp[got] = '\0';
		if (strstr(rsp, "\r\n\r\n") || got == sizeof(rsp) - 1)
			break;
	}
	if (!verdict(rsp, seq, why, whysz))
		snprintf(why, whysz, "an answer that is not the probe's");

 out:
	close(fd);
	return err;
}


/* The next path of the list on standard input, one a line */
static bool next_path(char *path, size_t sz)
{
	size_t n;

	if (!fgets(path, (int)sz, stdin))
		return false;
	n = strlen(path);
	if (n && path[n - 1] == '\n')
		path[n - 1] = '\0';
	return true;
}


int main(int argc, char *argv[])
{
	static char msg[MAX_MSG + 1];
	char path[4096];
	struct sockaddr_in sa;
	int fd, i, refused = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: wirefeed PORT FILE...\n");
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("wirefeed: socket");
		return 2;
	}

	for (i = 2; argc > 2 ? i < argc : next_path(path, sizeof(path));
	     i++) {
		const char *file = argc > 2 ? argv[i] : path;
		const unsigned long seq = (unsigned long)i;
		char why[256];
		size_t len = 0;
		int err;

		err = read_file(file, msg, &len);
		if (err) {
			fprintf(stderr, "wirefeed: %s: %s\n", file,
				strerror(err));
			return 2;
		}
		if (len > MAX_UDP) {
			err = feed_tcp(&sa, msg, len, seq, why, sizeof(why));
		}
		else if (send(fd, msg, len, 0) != (ssize_t)len) {
			err = errno;
		}
		else {
			err = probe_udp(fd, seq, why, sizeof(why));
		}
		if (err) {
			fprintf(stderr, "wirefeed: %s: the checker does not "
				"answer (%s)\n", file, strerror(err));
			return 2;
		}
		if (strcmp(why, "sane")) {
			printf("REFUSED %s: %s\n", file, why);
			refused = 1;
		}
	}

	close(fd);
	return refused;
}

/**
 * @file wirefeed.c  Feed SIP messages to the wire check, one at a time
 *
 * Usage: wirefeed PORT FILE...
 *
 * Sends each FILE (one SIP message, exactly as it was on the wire) in
 * one datagram to the checking Kamailio at 127.0.0.1:PORT, then a probe
 * whose answer carries the verdict on that message (wirecheck.cfg.in).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


enum {
	MAX_MSG  = 65535,
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


/* The verdict on the message sent before: the probe's reason phrase */
static int probe(int fd, unsigned long seq, char *why, size_t whysz)
{
	char req[512], rsp[MAX_MSG + 1];
	struct sockaddr_in la;
	socklen_t lal = sizeof(la);
	int attempt, n, len;

	if (getsockname(fd, (struct sockaddr *)&la, &lal))
		return errno;

	len = snprintf(req, sizeof(req),
		       "OPTIONS sip:wirecheck@127.0.0.1 SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKwc%lu\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <sip:wirefeed@127.0.0.1>;tag=%lu\r\n"
		       "To: <sip:wirecheck@127.0.0.1>\r\n"
		       "Call-ID: wirecheck-probe-%lu\r\n"
		       "CSeq: %lu OPTIONS\r\n"
		       "X-Wirecheck-Probe: %lu\r\n"
		       "Content-Length: 0\r\n\r\n",
		       ntohs(la.sin_port), seq, seq, seq, seq, seq);

	for (attempt = 0; attempt < ATTEMPTS; attempt++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char callid[64];

		if (send(fd, req, (size_t)len, 0) != len)
			return errno;

		snprintf(callid, sizeof(callid),
			 "Call-ID: wirecheck-probe-%lu\r\n", seq);
		while (poll(&pfd, 1, WAIT_MS) == 1) {
			char *sp, *eol;

			n = (int)recv(fd, rsp, MAX_MSG, 0);
			if (n < 12)
				continue;
			rsp[n] = '\0';
			/* an answer to an earlier, retried probe */
			if (!strstr(rsp, callid))
				continue;
			sp = rsp + 12;      /* "SIP/2.0 200 " */
			eol = strstr(sp, "\r\n");
			if (!eol)
				return EBADMSG;
			snprintf(why, whysz, "%.*s", (int)(eol - sp), sp);
			return 0;
		}
	}

	return ETIMEDOUT;
}


int main(int argc, char *argv[])
{
	static char msg[MAX_MSG + 1];
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

	for (i = 2; i < argc; i++) {
		char why[256];
		size_t len = 0;
		int err;

		err = read_file(argv[i], msg, &len);
		if (err) {
			fprintf(stderr, "wirefeed: %s: %s\n", argv[i],
				strerror(err));
			return 2;
		}
		if (send(fd, msg, len, 0) != (ssize_t)len) {
			fprintf(stderr, "wirefeed: %s: send: %s\n", argv[i],
				strerror(errno));
			return 2;
		}
		err = probe(fd, (unsigned long)i, why, sizeof(why));
		if (err) {
			fprintf(stderr, "wirefeed: the checker does not answer "
				"(%s)\n", strerror(err));
			return 2;
		}
		if (strcmp(why, "sane")) {
			printf("REFUSED %s: %s\n", argv[i], why);
			refused = 1;
		}
	}

	close(fd);
	return refused;
}

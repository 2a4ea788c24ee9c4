/**
 * @file randbuf.c  parkblf's random numbers, from a getrandom(2) buffer
 *
 * Every NOTIFY parkblf sends itself needs a fresh branch nonce, every
 * dialog a tag, every NAT keepalive a nonce.  libre 1.1.0 takes each
 * rand_u32 from OpenSSL's RAND_bytes, whose fork check makes a getpid
 * system call every time: 16 % of parkblf's CPU in a fan-out profile
 * (docs/BENCHMARKS.md).  parkblf's own numbers come from this buffer,
 * filled by the kernel's CSPRNG, 4 KiB per system call: the same
 * quality of randomness, ~1/500 of the calls.  libre keeps its own
 * (its transactions, dialogs and parsed messages).
 *
 * parkblf never forks; were a child to share the buffer, it would
 * repeat the parent's numbers, so a pthread_atfork handler empties
 * the child's copy.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <errno.h>
#include <string.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/random.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


enum { RANDBUF_SIZE = 4096 };

static struct {
	uint8_t buf[RANDBUF_SIZE];
	size_t pos;                 /**< Next unused byte                 */
	bool atfork;                /**< Child handler registered         */
} rb = {.pos = RANDBUF_SIZE};


/* a forked child must not replay its parent's numbers */
static void forget_in_child(void)
{
	memset(rb.buf, 0, sizeof(rb.buf));
	rb.pos = sizeof(rb.buf);
}


static void refill(void)
{
	size_t got = 0;

	if (!rb.atfork)
		rb.atfork = 0 == pthread_atfork(NULL, NULL, forget_in_child);

	while (got < sizeof(rb.buf)) {
		ssize_t n = getrandom(rb.buf + got, sizeof(rb.buf) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;

			/* no kernel CSPRNG (pre-3.17 kernel): nothing safe
			   to fall back to for SIP tags and branches */
			log_error("rand: getrandom: %m", errno);
			abort();
		}

		got += (size_t)n;
	}

	rb.pos = 0;
}


/**
 * Fill a buffer with random bytes
 *
 * @param p    Buffer
 * @param size Its size
 */
void randbuf_bytes(uint8_t *p, size_t size)
{
	if (!p)
		return;

	while (size > 0) {
		size_t n;

		if (rb.pos == sizeof(rb.buf))
			refill();

		n = min(size, sizeof(rb.buf) - rb.pos);
		memcpy(p, rb.buf + rb.pos, n);

		/* used bytes are wiped: no copy of a tag lingers */
		memset(rb.buf + rb.pos, 0, n);
		rb.pos += n;
		p      += n;
		size   -= n;
	}
}


/**
 * A random 16-bit number
 *
 * @return The number
 */
uint16_t randbuf_u16(void)
{
	uint16_t v;

	randbuf_bytes((uint8_t *)&v, sizeof(v));

	return v;
}


/**
 * A random 32-bit number
 *
 * @return The number
 */
uint32_t randbuf_u32(void)
{
	uint32_t v;

	randbuf_bytes((uint8_t *)&v, sizeof(v));

	return v;
}


/**
 * A random 64-bit number
 *
 * @return The number
 */
uint64_t randbuf_u64(void)
{
	uint64_t v;

	randbuf_bytes((uint8_t *)&v, sizeof(v));

	return v;
}

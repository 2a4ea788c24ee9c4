/**
 * @file randbuf.c  parkblf's random numbers, from a getrandom(2) buffer
 *
 * Every NOTIFY parkblf sends itself needs a fresh branch nonce, every
 * dialog a tag, every NAT keepalive a nonce.  libre 1.1.0 takes each
 * rand_u32 from OpenSSL's RAND_bytes, whose fork check makes a getpid
 * system call every time: 16 % of parkblf's CPU in a fan-out profile
 * (docs/BENCHMARKS.md).  parkblf's own numbers come from this buffer,
 * filled by the kernel's CSPRNG, 4 KiB per system call: the same
 * quality of randomness, ~1/500 of the calls.
 *
 * libre draws its own (a tag for every message it parses, the branch
 * of every transaction) through its rand_*, that is OpenSSL's
 * RAND_bytes: ~2 x 1-20 us per SUBSCRIBE on the benchmark's VM
 * (getpid, locks, parameter lookups).  randbuf_openssl installs this
 * buffer as OpenSSL's RAND method (OpenSSL's public API, deprecated in
 * 3.0 but kept), so libre's numbers, and TLS's, come from the kernel's
 * CSPRNG through it too; nothing of libre is redefined.
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
#define OPENSSL_SUPPRESS_DEPRECATED 1  /* RAND_METHOD */
#include <openssl/rand.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


enum { RANDBUF_SIZE = 4096 };

static struct {
	uint8_t buf[RANDBUF_SIZE];
	size_t pos;                 /**< Next unused byte                 */
	bool atfork;                /**< Child handler registered         */
	uint64_t drawn;             /**< Bytes handed out                 */
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

	rb.drawn += size;

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


/**
 * Bytes handed out so far
 *
 * @return The count
 */
uint64_t randbuf_drawn(void)
{
	return rb.drawn;
}


static int ossl_bytes(unsigned char *buf, int num)
{
	if (num < 0)
		return 0;

	randbuf_bytes(buf, (size_t)num);

	return 1;
}


static int ossl_status(void)
{
	return 1;
}


static const RAND_METHOD ossl_method = {
	.bytes      = ossl_bytes,
	.pseudorand = ossl_bytes,
	.status     = ossl_status,
};


/**
 * Make this buffer OpenSSL's source of random numbers, and so libre's
 *
 * @return 0 if success, otherwise errorcode
 */
int randbuf_openssl(void)
{
	return RAND_set_rand_method(&ossl_method) ? 0 : ENOSYS;
}

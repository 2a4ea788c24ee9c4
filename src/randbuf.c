/**
 * @file randbuf.c  libre's random numbers from a getrandom(2) buffer
 *
 * Every SIP request libre sends needs a fresh branch (rand_u64) and
 * every dialog tags and a Call-ID.  libre 1.1.0 takes each rand_u32
 * from OpenSSL's RAND_bytes, whose fork check makes a getpid system
 * call every time: 16 % of parkblf's CPU in a fan-out profile
 * (docs/BENCHMARKS.md).  The executable defines libre's rand_* API
 * (libre.so calls it through its PLT, as with tmrheap.c) and serves
 * it from a buffer filled by the kernel's CSPRNG, 4 KiB per system
 * call: the same quality of randomness, ~1/500 of the calls.
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

static const char alphanum[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	"abcdefghijklmnopqrstuvwxyz"
	"0123456789";


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


void rand_bytes(uint8_t *p, size_t size)
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


void rand_init(void)
{
}


uint16_t rand_u16(void)
{
	uint16_t v;

	rand_bytes((uint8_t *)&v, sizeof(v));

	return v;
}


uint32_t rand_u32(void)
{
	uint32_t v;

	rand_bytes((uint8_t *)&v, sizeof(v));

	return v;
}


uint64_t rand_u64(void)
{
	uint64_t v;

	rand_bytes((uint8_t *)&v, sizeof(v));

	return v;
}


/* [A-Za-z0-9], uniform: bytes >= 248 (4 * 62) are drawn again */
void rand_str(char *str, size_t size)
{
	size_t i = 0;

	if (!str || !size)
		return;

	--size;

	while (i < size) {
		uint8_t b;

		rand_bytes(&b, 1);
		if (b >= 4 * (sizeof(alphanum) - 1))
			continue;

		str[i++] = alphanum[b % (sizeof(alphanum) - 1)];
	}

	str[size] = '\0';
}


char rand_char(void)
{
	char s[2];

	rand_str(s, sizeof(s));

	return s[0];
}


/**
 * Check that libre draws its random numbers here (see interpose.c)
 *
 * @return 0 if so, ENOSYS if libre binds to its own
 */
int randbuf_selftest(void)
{
	static const struct interposed api[] = {
		{"rand_bytes", (void *)rand_bytes},
		{"rand_u16",   (void *)rand_u16},
		{"rand_u32",   (void *)rand_u32},
		{"rand_u64",   (void *)rand_u64},
		{"rand_str",   (void *)rand_str},
	};

	return interpose_check("rand", api, ARRAY_SIZE(api));
}

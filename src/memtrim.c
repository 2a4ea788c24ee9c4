/**
 * @file memtrim.c  Give memory back to the system after a storm
 *
 * A subscription storm (every phone after a power cut) leaves tens of
 * megabytes of short-lived SIP transactions; a SUBSCRIBE's lives 32 s.
 * When they are gone, glibc keeps the freed memory inside the heap,
 * in holes between the subscriptions that stay, so parkblf's resident
 * size would stay at the storm's peak.  Every CHECK_MS this looks at
 * how much of the heap is free (mallinfo2) and, past TRIM_MIN_FREE and
 * once more of it is free than in use, calls malloc_trim(0), which
 * hands the free pages back (madvise).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <malloc.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


enum {
	CHECK_MS      = 10000,
	TRIM_MIN_FREE = 4 * 1024 * 1024,
};

struct memtrim {
	struct ptmr tmr;
};


static void memtrim_destructor(void *arg)
{
	struct memtrim *mt = arg;

	ptmr_cancel(&mt->tmr);
}


static void check(void *arg)
{
	struct memtrim *mt = arg;
	const struct mallinfo2 mi = mallinfo2();

	ptmr_start(&mt->tmr, CHECK_MS, check, mt);

	/* trimming under load would only fault the pages back in: wait
	   until more of the heap is free than in use (the storm is over) */
	if (mi.fordblks < TRIM_MIN_FREE || mi.fordblks < mi.uordblks)
		return;

	(void)malloc_trim(0);
	log_debug("memtrim: %zu KiB free in the heap, trimmed",
		  mi.fordblks / 1024);
}


/**
 * Start the periodic heap trim
 *
 * @param mtp Where to store the trimmer (mem_deref stops it)
 *
 * @return 0 or ENOMEM
 */
int memtrim_alloc(struct memtrim **mtp)
{
	struct memtrim *mt;

	if (!mtp)
		return EINVAL;

	mt = mem_zalloc(sizeof(*mt), memtrim_destructor);
	if (!mt)
		return ENOMEM;

	ptmr_start(&mt->tmr, CHECK_MS, check, mt);
	*mtp = mt;

	return 0;
}

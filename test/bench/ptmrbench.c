/**
 * @file ptmrbench.c  What a timer costs: parkblf's heap against libre's list
 *
 * With N timers running far in the future (subscriptions' expiries, TCP
 * connections' idle timers: 60 s to 1 h), starts and cancels a short
 * timer (a NOTIFY's retransmission: 500 ms) and a 32 s one (a
 * transaction's timeout), in parkblf's heap (src/ptmr.c) and in libre
 * 1.1.0's sorted list, and prints the CPU time per start+cancel pair.
 * CPU time of this thread (CLOCK_THREAD_CPUTIME_ID): a shared machine
 * slows it less than wall time.  Not a test: numbers for
 * docs/BENCHMARKS.md.
 *
 * Then NOTIFYs in flight (-f): with 10,000 far timers running, F
 * dialogs (344 bytes apart, as subdlg's) each with a retransmission
 * timer of 500 ms; per step one is answered (its timer cancelled: the
 * oldest, or one at random) and a new NOTIFY starts one; CPU ns per
 * step with the timers in parkblf's heap (ptmr) and in one FIFO per
 * interval (src/tfifo.c), which replaced it for these timers.
 *
 * Usage: ptmrbench [N...]   (default 1000 10000 100000)
 *        ptmrbench -f [F...] (default 1000 4000 16000)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


enum { PAIRS_MIN = 2000, BUDGET_NS = 200000000 };


static void nop_h(void *arg)
{
	(void)arg;
}


static uint64_t cpu_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);

	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}


/* far deadlines, later for each (subscriptions arriving over time:
   in libre's list each is then appended at the tail, its best case) */
static uint64_t far_ms(unsigned i, unsigned n)
{
	return 60000 + (uint64_t)i * 3540000 / n;
}


/* ns per start+cancel of one timer of delay ms, ptmr */
static double ptmr_pair(uint64_t delay)
{
	struct ptmr t;
	uint64_t t0, el;
	unsigned i, n = 0;

	ptmr_init(&t);
	t0 = cpu_ns();
	do {
		for (i = 0; i < 1000; i++) {
			ptmr_start(&t, delay, nop_h, NULL);
			ptmr_cancel(&t);
		}
		n += i;
		el = cpu_ns() - t0;
	} while (n < PAIRS_MIN || el < BUDGET_NS / 4);

	return (double)el / n;
}


/* ns per start+cancel of one timer of delay ms, libre's list */
static double tmr_pair(uint64_t delay)
{
	struct tmr t;
	uint64_t t0, el;
	unsigned i, n = 0;

	tmr_init(&t);
	t0 = cpu_ns();
	do {
		for (i = 0; i < 100; i++) {
			tmr_start(&t, delay, nop_h, NULL);
			tmr_cancel(&t);
		}
		n += i;
		el = cpu_ns() - t0;
	} while (n < PAIRS_MIN && el < BUDGET_NS);

	return (double)el / n;
}


/* A dialog, as far apart as subdlg's */
struct dlg {
	char other[296];
	struct ptmr t;
	struct tfent e;
};


static struct tfifo *tf;


/* ns per answer + new NOTIFY with f in flight; random: answers in no
   order */
static double inflight(struct dlg *dv, unsigned f, bool fifo, bool random)
{
	uint64_t t0, el;
	unsigned i, k = 0, n = 0;

	for (i = 0; i < f; i++) {
		if (fifo)
			(void)tfifo_start(tf, &dv[i].e, 500, &dv[i]);
		else
			ptmr_start(&dv[i].t, 500, nop_h, &dv[i]);
	}

	t0 = cpu_ns();
	do {
		for (i = 0; i < 1000; i++) {
			struct dlg *d;

			k = random ? (k * 1103515245u + 12345u) : k + 1;
			d = &dv[k % f];
			if (fifo) {
				tfifo_cancel(&d->e);
				(void)tfifo_start(tf, &d->e, 500, d);
			}
			else {
				ptmr_cancel(&d->t);
				ptmr_start(&d->t, 500, nop_h, d);
			}
		}
		n += i;
		el = cpu_ns() - t0;
	} while (n < PAIRS_MIN || el < BUDGET_NS / 4);

	for (i = 0; i < f; i++) {
		tfifo_cancel(&dv[i].e);
		ptmr_cancel(&dv[i].t);
	}

	return (double)el / n;
}


static void run_inflight(unsigned f)
{
	enum { FAR = 10000 };
	struct ptmr *pv = calloc(FAR, sizeof(*pv));
	struct dlg *dv = calloc(f, sizeof(*dv));
	double h, q, hr, qr;
	unsigned i;

	if (!pv || !dv || (!tf && tfifo_alloc(&tf, nop_h))) {
		fprintf(stderr, "ptmrbench: out of memory\n");
		exit(1);
	}

	for (i = 0; i < FAR; i++)
		ptmr_start(&pv[i], far_ms(i, FAR), nop_h, NULL);

	h = inflight(dv, f, false, false);
	q = inflight(dv, f, true, false);
	hr = inflight(dv, f, false, true);
	qr = inflight(dv, f, true, true);

	printf("ptmrbench: inflight=%u far=%u answer+start_ns in order: "
	       "heap=%.0f fifo=%.0f; in no order: heap=%.0f fifo=%.0f\n",
	       f, FAR, h, q, hr, qr);

	for (i = 0; i < FAR; i++)
		ptmr_cancel(&pv[i]);
	free(pv);
	free(dv);
}


static void run(unsigned n)
{
	struct ptmr *pv = calloc(n, sizeof(*pv));
	struct tmr *tv = calloc(n, sizeof(*tv));
	double p500, p32k, l500, l32k;
	uint64_t t0, pfill, lfill;
	unsigned i;

	if (!pv || !tv) {
		fprintf(stderr, "ptmrbench: out of memory\n");
		exit(1);
	}

	t0 = cpu_ns();
	for (i = 0; i < n; i++)
		ptmr_start(&pv[i], far_ms(i, n), nop_h, NULL);
	pfill = cpu_ns() - t0;
	p500 = ptmr_pair(500);
	p32k = ptmr_pair(32000);
	for (i = 0; i < n; i++)
		ptmr_cancel(&pv[i]);

	t0 = cpu_ns();
	for (i = 0; i < n; i++)
		tmr_start(&tv[i], far_ms(i, n), nop_h, NULL);
	lfill = cpu_ns() - t0;
	l500 = tmr_pair(500);
	l32k = tmr_pair(32000);
	for (i = 0; i < n; i++)
		tmr_cancel(&tv[i]);

	printf("ptmrbench: running=%u start+cancel_ns 500ms: ptmr=%.0f "
	       "libre=%.0f; 32s: ptmr=%.0f libre=%.0f; fill_ns_per_timer: "
	       "ptmr=%.0f libre=%.0f; libre_list_now=%u\n",
	       n, p500, l500, p32k, l32k, (double)pfill / n,
	       (double)lfill / n, list_count(ptmr_libre_list()));

	free(pv);
	free(tv);
}


int main(int argc, char *argv[])
{
	int i, err;

	err = libre_init();
	if (err)
		return 1;

	if (argc >= 2 && !strcmp(argv[1], "-f")) {
		if (argc < 3) {
			run_inflight(1000);
			run_inflight(4000);
			run_inflight(16000);
		}
		for (i = 2; i < argc; i++)
			run_inflight((unsigned)atoi(argv[i]));
		tf = mem_deref(tf);
		libre_close();
		return 0;
	}

	if (argc < 2) {
		run(1000);
		run(10000);
		run(100000);
	}

	for (i = 1; i < argc; i++)
		run((unsigned)atoi(argv[i]));

	libre_close();

	return 0;
}

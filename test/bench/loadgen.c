/**
 * @file loadgen.c  Load generator for the parkblf benchmark
 *
 * Acts as many phones on loopback: PHONES UDP sockets, each bound to its
 * own source address (127.1.0.1, 127.1.0.2, ... or -s ADDRS shared
 * round-robin), each with KEYS subscriptions (Event: dialog) to orbits
 * park-1 ... park-ORBITS; key j of phone p watches orbit
 * (p * KEYS + j) % ORBITS + 1.  Every NOTIFY is answered 200 at once,
 * like a phone, and recorded (receive time, subscription, version).
 *
 * It runs three phases and prints one "key=value" line for each:
 *
 *  setup     SUBSCRIBEs with at most WINDOW transactions outstanding
 *            (or at RATE per second, open loop); established = a 2xx
 *            answer; a non-2xx answer or 8 s without one is a failure.
 *  fanout    ROUNDS times: park a call on an orbit, then retrieve it,
 *            each through the fake PBX's control socket.  Latency of a
 *            watcher = arrival of its NOTIFY (read from the socket,
 *            CLOCK_MONOTONIC) minus the time taken right before the
 *            command is written to the control socket.  Also
 *            reported (arr_*): the same to the kernel's arrival stamp
 *            (SO_TIMESTAMPNS) of the NOTIFY on the phone's socket, which
 *            on loopback is when the server's send put it there: what
 *            the server's latency is without our own reading of 1,000
 *            sockets on one core.  One core plays every phone, so it
 *            reads first and answers after: every phone socket ready
 *            in a round of libre's epoll_wait is read (recvmmsg,
 *            stamped as it returns) before any datagram read is
 *            parsed and answered (a timer due at once, after the
 *            round), and no phone's read waits for another phone's
 *            200.  -Q: the same with an epoll set of our own (pump),
 *            answering 16 at a time whenever no socket is ready; -B
 *            (with -Q): it polls instead of sleeping during a fan-out
 *            event.
 *
 * With -p ADDR:PORT instead of -c (a presence server such as Kamailio's
 * presence + presence_dialoginfo, make bench-compare), the orbits'
 * changes are PUBLISHes (RFC 3903, Event: dialog) of the dialog-info
 * document the fake PBX would send upstream, for the entity
 * sip:park-N@ADDR, from one socket of their own; each orbit first
 * publishes its idle state (no dialog) before the phones subscribe, and
 * later PUBLISHes refresh that publication (SIP-If-Match).  Latency then
 * starts right before the PUBLISH is written to its socket; an orbit
 * changes again only once its last PUBLISH was answered.  -P may name
 * several processes (PID,PID,...): CPU is their sum, memory the sum of
 * their Pss (one process: its VmRSS).
 *  throughput park/retrieve on the orbits in turn for SECS seconds, at
 *            most 4 changes' worth of NOTIFYs outstanding; NOTIFYs
 *            received per second, and parkblf's CPU time (-P PID).
 *  storm     (-S STORM) STORM more subscriptions from new phones, at
 *            most 1000 unanswered, and meanwhile fan-out events
 *            (park/retrieve) as in the fan-out phase: the latency of
 *            the established watchers while the storm lasts.
 *  rest      (-W SECS, with -P) idle for SECS seconds, still answering,
 *            then parkblf's RSS again: memory once the transactions
 *            of the storm are gone (a SUBSCRIBE's lives 32 s);
 *            ended= counts the subscriptions a terminated NOTIFY
 *            ended (test/bench/stop.sh stops parkblf meanwhile).
 *
 * Usage:
 *
 *   loadgen -t ADDR:PORT [-c CTLPORT | -p ADDR:PORT] [-n PHONES] [-k KEYS]
 *           [-m ORBITS] [-b DNBASE] [-a FIRSTADDR] [-s ADDRS]
 *           [-w WINDOW] [-r RATE] [-f ROUNDS] [-T SECS] [-P PID[,PID...]]
 *           [-o FILE] [-x EXPIRES] [-L SECS] [-W SECS] [-S STORM]
 *           [-D PER] [-R] [-1] [-Q] [-B]
 *
 * -D PER: the orbits belong to tenants of PER orbits each: orbit N is
 * park-((N-1) % PER + 1)@tT.bench, T = (N-1) / PER + 1 (parkblf's
 * tenant_domain; the fake PBX's DNs stay DNBASE + N).
 *
 * -L stops sending new SUBSCRIBEs SECS seconds into the setup phase
 * (reported as not_sent), so that a slow daemon cannot stall the run.
 * The DN of orbit park-N is DNBASE + N (default 70000 + N).  -o writes
 * one line per NOTIFY received: "t_us sub orbit version phase".
 *
 * Copyright (C) 2026 The parkblf authors
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <getopt.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <re.h>


enum {
	SUB_IDLE = 0,
	SUB_PENDING,
	SUB_OK,
	SUB_FAILED,
	SUB_ENDED,
};

enum phase {
	PH_SETUP = 0,
	PH_SETTLE,
	PH_FANOUT,
	PH_TPUT,
	PH_DRAIN,
	PH_STORM,
	PH_REST,
	PH_DONE,
	PH_PREPUB,      /**< -p: every orbit's first PUBLISH, then setup */
};

enum {
	T1_MS          = 500,
	TX_TIMEOUT_MS  = 8000,
	TICK_MS        = 5,
	EVENT_WAIT_MS  = 5000,
	QUIET_MS       = 30,
	TPUT_WARMUP_MS = 500,
	TPUT_WINDOW    = 4,
	STALL_MS       = 200,
	DRAIN_IDLE_MS  = 300,
	DRAIN_MAX_MS   = 5000,
	MAX_RECORDS    = 8000000,
	RCVBUF         = 1 << 20,
	RX_BATCH       = 32,         /**< Datagrams per recvmmsg          */
	RING           = 1024,       /**< Read, not yet handled (pump)    */
	DGRAM_MAX      = 8192,       /**< Largest datagram read           */
	CHUNK          = 16,         /**< Handled between two looks       */
	REP_MAX        = 64,         /**< 200s per replies_flush          */
	EV_MAX         = 256,        /**< Ready sockets per epoll_wait    */
	ANSWER_US      = 2000,       /**< A read waits this for its 200   */
	SPIN_IDLE_US   = 2000,       /**< Busy-poll: quiet this long, stop */
	PUMP_US        = 10000,      /**< Back to the main loop after     */
	STORM_WINDOW   = 1000,
	MAX_PIDS       = 256,
};

struct sub {
	struct le le;           /**< In the outstanding list          */
	uint64_t t_tx;          /**< First SUBSCRIBE sent, us          */
	uint64_t t_retx;        /**< Next retransmission due, us       */
	uint32_t rto_ms;
	uint32_t cseq;          /**< Last NOTIFY CSeq seen             */
	uint32_t version;       /**< Last dialog-info version seen     */
	int32_t event;          /**< Last fan-out event it counted in  */
	uint16_t orbit;         /**< 0-based                           */
	uint8_t state;
	uint8_t ntx;
	bool initial;           /**< Its first NOTIFY arrived          */
};

struct phone {
	int fd;
	struct sa laddr;
};

/** -p: an orbit's publication at the presence server (RFC 3903) */
struct pub {
	char etag[128];         /**< SIP-ETag of the last 2xx, or ""   */
	uint64_t t_tx;          /**< This PUBLISH first sent, us       */
	uint64_t t_retx;        /**< Next retransmission due, us       */
	uint32_t rto_ms;
	uint32_t cseq;          /**< CSeq of the one in flight         */
	uint32_t version;       /**< dialog-info version in its body   */
	uint32_t call;          /**< Number of the call parked there   */
	bool pending;           /**< Sent, no final answer yet         */
};

struct record {
	uint64_t t_us;
	uint32_t sub;
	uint32_t version;
	uint8_t phase;
};

static struct {
	/* options */
	struct sa target;
	uint16_t ctl_port;
	struct sa pub_target;     /**< -p: PUBLISH the events here     */
	bool publish;
	uint32_t nphones, keys, norbits, dnbase, naddrs, window, rate;
	uint32_t rounds, tput_s, expires, limit_s;
	uint32_t storm;           /**< -S: subscriptions of the storm  */
	uint32_t per_tenant;      /**< -D: orbits per tenant, 0: none  */
	bool route;               /**< -R: SUBSCRIBEs record-routed    */
	bool onesock;             /**< -1: every phone on one socket   */
	bool spin;                /**< -B: busy-poll during a fan-out  */
	bool libre_round;         /**< Pass = libre epoll round (-Q: no) */
	struct tmr answer_tmr;
	int pid;                  /**< -P: the server's first process  */
	int pids[MAX_PIDS];       /**< -P: all of the server's         */
	uint32_t npids;
	const char *outfile;
	struct in_addr first;

	/* state */
	struct phone *phones;
	struct sub *subs;
	uint32_t nsubs;
	uint32_t nsetup;          /**< Subscriptions of the set-up     */
	uint32_t **orbit_subs;    /**< Per orbit: its subscriptions    */
	uint32_t *orbit_nsubs;
	bool *orbit_busy;         /**< A call is parked there          */
	struct list outstanding;
	uint32_t noutstanding;
	uint32_t next_sub;
	uint32_t not_sent;        /**< Cut off by the -L deadline      */
	uint32_t nok, nfailed, nretx, ninitial, nended, nstray;
	uint32_t code_fail[7];    /**< Failures by class, 0 = timeout  */
	uint64_t t_setup0, t_last_ok, t_last_initial;
	enum phase phase;
	struct tmr tick;
	unsigned runid;

	/* control connection to the fake PBX */
	int ctl_fd;
	char ctl_buf[512];
	size_t ctl_len;
	uint32_t ctl_waiting;     /**< Commands without a reply yet    */
	uint32_t ncmd;

	/* -p: the publisher, one UDP socket for every orbit's PUBLISH */
	int pub_fd;
	struct sa pub_laddr;
	struct pub *pubs;         /**< Per orbit                       */
	uint32_t npub, npub_ok, npub_failed, npub_retx;

	/* fan-out */
	int32_t event;            /**< Current event, -1 = none        */
	uint32_t event_orbit;
	bool event_park;
	uint64_t event_t0;
	uint64_t event_done_at;   /**< When the last watcher got it    */
	uint32_t event_left;
	uint32_t nevents;
	uint32_t event_missing, event_wrong;
	double *lat;              /**< Every watcher's latency, ms     */
	size_t nlat, lat_cap;
	double *alat;             /**< The same, to its arrival, ms    */
	size_t nalat, alat_cap;
	double *qlat;             /**< Read minus arrival, ms: our own */
	size_t nqlat, qlat_cap;
	double *last;             /**< Per event: the slowest, ms      */
	double *efirst;           /**< Per event: the first arrival, ms */

	/* throughput */
	uint64_t tp_t0, tp_win0, tp_win1, tp_last_progress;
	uint64_t tp_expected, tp_received;
	uint64_t tp_n0, tp_n1;
	double tp_cpu0, tp_cpu1;
	double tp_self0, tp_self1;  /**< Our own CPU, s                  */
	double fo_cpu0, fo_self0;   /**< At a fan-out phase's start, ns  */
	uint32_t tp_changes, tp_stalls, tp_next_orbit;

	/* storm: fan-out to the established watchers while new phones
	   subscribe all at once */
	uint64_t st_t0, st_t1;
	uint32_t st_ok0, st_failed0, st_retx0;

	/* all NOTIFYs */
	uint64_t nnotify;
	struct record *rec;
	size_t nrec, rec_cap;

	/* parkblf's counters */
	double cpu_setup0, cpu_setup1;
	double lg_setup0, lg_setup1;   /**< The load generator's own CPU  */
	long rss0, rss1;
	long drops0;
	long sdrops0;
	uint32_t rest_s;            /**< -W: idle seconds, then RSS again */
	int exit_code;
} g;


static uint64_t now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);

	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}


/* The load generator's own utime + stime, seconds: near 1 s per
   second, it is the limit of the rate it measures */
static double self_cpu(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;

	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}


/* /proc/PID/FILE, or NULL */
static FILE *pid_fopen(int pid, const char *file)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);

	return fopen(path, "r");
}


/* One process's utime + stime, seconds; -1 if unknown */
static double pid_cpu(int pid)
{
	char buf[1024], *p;
	unsigned long ut, st;
	long tck = sysconf(_SC_CLK_TCK);
	FILE *f;
	size_t n;

	f = pid_fopen(pid, "stat");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	(void)fclose(f);
	buf[n] = '\0';

	/* the command name may hold blanks: fields count from its ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			 "%*u %lu %lu", &ut, &st) != 2)
		return -1;

	return (double)(ut + st) / (double)(tck > 0 ? tck : 100);
}


/* One process's "KEY: N kB" line of FILE (status, smaps_rollup),
   bytes; -1 if unknown */
static long pid_kb(int pid, const char *file, const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	long kb = -1;
	FILE *f;

	f = pid_fopen(pid, file);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl) && line[kl] == ':' &&
		    sscanf(line + kl + 1, "%ld", &kb) == 1)
			break;
	}
	(void)fclose(f);

	return kb < 0 ? -1 : kb * 1024;
}


/* The sum of per_pid over the server's processes (-P); -1 if one is
   unknown */
static double pids_sum(double (*per_pid)(int pid))
{
	double sum = 0;
	uint32_t i;

	if (!g.npids)
		return -1;
	for (i = 0; i < g.npids; i++) {
		const double c = per_pid(g.pids[i]);

		if (c < 0)
			return -1;
		sum += c;
	}

	return sum;
}


/* The server's CPU time (-P: the sum over its processes), seconds;
   -1 if unknown */
static double proc_cpu(void)
{
	return pids_sum(pid_cpu);
}


/* One process's CPU time in ns as the scheduler counts it
   (/proc/PID/schedstat: its main thread's; parkblf has no other);
   -1 if unknown */
static double pid_sched_ns(int pid)
{
	unsigned long long ns;
	FILE *f = pid_fopen(pid, "schedstat");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%llu", &ns);
	(void)fclose(f);

	return n == 1 ? (double)ns : -1;
}


/* The server's CPU time, ns: precise where /proc/PID/stat counts in
   10 ms ticks, for the short fan-out phase; -1 if unknown */
static double proc_cpu_ns(void)
{
	return pids_sum(pid_sched_ns);
}


/* The load generator's own CPU time, ns */
static double self_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
		return 0;

	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}


/* The server's resident memory, bytes; -1 if unknown.  One process:
   its VmRSS.  Several (-P PID,PID,...: Kamailio's workers share their
   memory): the sum of their proportional set sizes (Pss), which
   counts every shared page once.  The two agree on what a
   subscription adds: private pages count fully in both. */
static long proc_rss(void)
{
	long sum = 0;
	uint32_t i;

	if (!g.npids)
		return -1;
	if (g.npids == 1)
		return pid_kb(g.pids[0], "status", "VmRSS");
	for (i = 0; i < g.npids; i++) {
		const long b = pid_kb(g.pids[i], "smaps_rollup", "Pss");

		if (b < 0)
			return -1;
		sum += b;
	}

	return sum;
}


/* UDP datagrams dropped for a full receive buffer (this netns) */
static long udp_drops(void)
{
	char hdr[512], val[512];
	long v = -1;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		return -1;

	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		char *h, *x, *hs, *xs;
		int i = 0, col = -1;

		if (strncmp(hdr, "Udp:", 4))
			continue;
		for (h = strtok_r(hdr, " \n", &hs); h;
		     h = strtok_r(NULL, " \n", &hs), i++) {
			if (!strcmp(h, "RcvbufErrors"))
				col = i;
		}
		for (x = strtok_r(val, " \n", &xs), i = 0; x;
		     x = strtok_r(NULL, " \n", &xs), i++) {
			if (i == col)
				v = atol(x);
		}
		break;
	}
	(void)fclose(f);

	return v;
}


/* Datagrams dropped by the sockets of this run only: the phones' and
   the publisher's (SO_MEMINFO) and the server's at the target's port
   (/proc/net/udp); unlike udp_drops(), blind to the other programs on
   a shared machine */
static long sock_drops(void)
{
	uint32_t meminfo[SK_MEMINFO_VARS];
	char line[512];
	long sum = 0;
	uint32_t p;
	FILE *f;

	for (p = 0; g.phones && p < g.nphones + (g.publish ? 1 : 0); p++) {
		const int fd = p < g.nphones ? g.phones[p].fd : g.pub_fd;
		socklen_t l = sizeof(meminfo);

		if (g.onesock && p > 0 && p < g.nphones)
			continue;               /* the same socket */
		if (fd <= 0 || getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo,
					  &l) || l <= SK_MEMINFO_DROPS * 4)
			continue;
		sum += meminfo[SK_MEMINFO_DROPS];
	}

	f = fopen("/proc/net/udp", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned port;
		long d;

		/* sl local rem st tx:rx tr:when retr uid timeout inode ref
		   pointer drops */
		if (sscanf(line, " %*d: %*x:%x %*x:%*x %*x %*x:%*x %*x:%*x "
			   "%*x %*u %*u %*u %*u %*x %ld", &port, &d) == 2 &&
		    port == sa_port(&g.target))
			sum += d;
	}
	(void)fclose(f);

	return sum;
}


/* The drops since the last call (-1 if unknown): netns-wide, and of
   this run's sockets */
static void drops_take(long *udp, long *sock)
{
	const long u = udp_drops(), k = sock_drops();

	*udp = u >= 0 && g.drops0 >= 0 ? u - g.drops0 : -1;
	*sock = k >= 0 && g.sdrops0 >= 0 ? k - g.sdrops0 : -1;
	g.drops0 = u;
	g.sdrops0 = k;
}


static void record(uint32_t si, uint32_t version, uint64_t t)
{
	struct record *r;

	if (!g.outfile || g.nrec >= MAX_RECORDS)
		return;

	if (g.nrec == g.rec_cap) {
		size_t cap = g.rec_cap ? g.rec_cap * 2 : 65536;
		void *p = realloc(g.rec, cap * sizeof(*g.rec));

		if (!p)
			return;
		g.rec = p;
		g.rec_cap = cap;
	}

	r = &g.rec[g.nrec++];
	r->t_us = t;
	r->sub = si;
	r->version = version;
	r->phase = (uint8_t)g.phase;
}


static void vec_add(double **v, size_t *n, size_t *capp, double ms)
{
	if (*n == *capp) {
		size_t cap = *capp ? *capp * 2 : 65536;
		void *p = realloc(*v, cap * sizeof(**v));

		if (!p)
			return;
		*v = p;
		*capp = cap;
	}
	(*v)[(*n)++] = ms;
}


static void lat_add(double ms, double arr_ms)
{
	vec_add(&g.lat, &g.nlat, &g.lat_cap, ms);
	vec_add(&g.alat, &g.nalat, &g.alat_cap, arr_ms);
	vec_add(&g.qlat, &g.nqlat, &g.qlat_cap, ms - arr_ms);
}


/* --- SUBSCRIBE ------------------------------------------------------ */

/* The orbit a key subscribes to (Request-URI and To).  -D PER: orbit
   o is park-(o % PER + 1) of tenant o / PER + 1, whose domain is
   tN.bench (parkblf's tenant_domain); else park-(o + 1) at parkblf's
   address. */
static int orbit_uri_print(struct re_printf *pf, void *arg)
{
	const uint32_t o = *(const uint32_t *)arg;

	if (!g.per_tenant)
		return re_hprintf(pf, "park-%u@%J", o + 1, &g.target);

	return re_hprintf(pf, "park-%u@t%u.bench", o % g.per_tenant + 1,
			  o / g.per_tenant + 1);
}


static void from_phone(struct msghdr *mh, char *ctl, size_t ctlsz,
		       const struct in_addr *from);


static void send_subscribe(uint32_t si)
{
	struct sub *s = &g.subs[si];
	struct phone *ph = &g.phones[si / g.keys];
	uint32_t o = s->orbit;
	char buf[1024], rr[64] = "";
	int n;

	/* -R: as if a proxy on the phone's address record-routed */
	if (g.route)
		(void)re_snprintf(rr, sizeof(rr),
				  "Record-Route: <sip:%J;lr>\r\n",
				  &ph->laddr);

	n = re_snprintf(buf, sizeof(buf),
			"SUBSCRIBE sip:%H SIP/2.0\r\n"
			"Via: SIP/2.0/UDP %J;branch=z9hG4bKlg%u.%u;rport\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:phone%u@%j>;tag=lg%u\r\n"
			"To: <sip:%H>\r\n"
			"Call-ID: lg%u-%u@loadgen\r\n"
			"CSeq: 1 SUBSCRIBE\r\n"
			"Contact: <sip:phone%u@%J>\r\n"
			"Event: dialog\r\n"
			"Accept: application/dialog-info+xml\r\n"
			"Expires: %u\r\n"
			"User-Agent: parkblf-loadgen\r\n"
			"%s"
			"Content-Length: 0\r\n\r\n",
			orbit_uri_print, &o, &ph->laddr, si, g.runid,
			si / g.keys, &ph->laddr, si, orbit_uri_print, &o,
			si, g.runid, si / g.keys, &ph->laddr,
			g.expires, rr);
	if (n <= 0)
		return;

	{
		char ctl[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct iovec iov = {buf, (size_t)n};
		struct msghdr mh;

		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &g.target.u.sa;
		mh.msg_namelen = g.target.len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		from_phone(&mh, ctl, sizeof(ctl), &ph->laddr.u.in.sin_addr);
		if (sendmsg(ph->fd, &mh, 0) < 0 && errno != EAGAIN)
			(void)re_fprintf(stderr, "loadgen: send: %m\n",
					 errno);
	}
}


static void sub_start(uint32_t si, uint64_t t)
{
	struct sub *s = &g.subs[si];

	s->state = SUB_PENDING;
	s->t_tx = t;
	s->rto_ms = T1_MS;
	s->t_retx = t + T1_MS * 1000;
	s->ntx = 1;
	list_append(&g.outstanding, &s->le, s);
	++g.noutstanding;
	send_subscribe(si);
}


static void sub_done(struct sub *s)
{
	if (s->le.list) {
		list_unlink(&s->le);
		--g.noutstanding;
	}
}


static void sub_fail(struct sub *s, unsigned code)
{
	sub_done(s);
	s->state = SUB_FAILED;
	++g.nfailed;
	++g.code_fail[code / 100 < 7 ? code / 100 : 0];
}


static void setup_fill(uint64_t t)
{
	if (g.limit_s && t - g.t_setup0 >= g.limit_s * 1000000ULL) {
		g.not_sent += g.nsetup - g.next_sub;
		g.next_sub = g.nsetup;
		return;
	}

	if (g.rate) {
		uint64_t due = (t - g.t_setup0) * g.rate / 1000000 + 1;

		while (g.next_sub < g.nsetup && g.next_sub < due)
			sub_start(g.next_sub++, t);
		return;
	}

	while (g.next_sub < g.nsetup && g.noutstanding < g.window)
		sub_start(g.next_sub++, t);
}


/* The storm: every new phone at once, at most STORM_WINDOW
   SUBSCRIBEs unanswered (what a site's phones do after a power cut,
   retransmitting at T1 what gets lost) */
static void storm_fill(uint64_t t)
{
	while (g.next_sub < g.nsubs && g.noutstanding < STORM_WINDOW)
		sub_start(g.next_sub++, t);
}


static void setup_retransmit(uint64_t t)
{
	struct le *le = list_head(&g.outstanding);

	while (le) {
		struct sub *s = le->data;

		le = le->next;
		if (t < s->t_retx)
			continue;
		if (t - s->t_tx >= TX_TIMEOUT_MS * 1000ULL) {
			sub_fail(s, 0);
			continue;
		}
		s->rto_ms = s->rto_ms * 2 > 4000 ? 4000 : s->rto_ms * 2;
		s->t_retx = t + s->rto_ms * 1000ULL;
		++s->ntx;
		++g.nretx;
		send_subscribe((uint32_t)(s - g.subs));
	}
}


/* --- messages from parkblf ----------------------------------------- */

struct hdrs {
	struct pl callid;
	struct pl cseq;
	struct pl substate;
	struct pl etag;
	const char *body;
	size_t bodyl;
};


static bool hname(const char *p, size_t l, const char *full,
		  const char *compact)
{
	size_t fl = strlen(full);

	return (l == fl && !strncasecmp(p, full, fl)) ||
		(compact && l == 1 && (*p | 0x20) == *compact);
}


/* Split the headers; copy Via, From, To, Call-ID and CSeq to reply */
static int parse(const char *buf, size_t len, struct hdrs *h,
		 struct mbuf *reply)
{
	const char *p = buf, *end = buf + len, *eol;
	bool first = true;

	memset(h, 0, sizeof(*h));

	for (; p < end; p = eol + 1) {
		const char *colon, *v, *ve;
		size_t nl;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			return EBADMSG;
		ve = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		if (ve == p) {
			h->body = eol + 1;
			h->bodyl = (size_t)(end - h->body);
			return 0;
		}
		if (first) {
			first = false;
			continue;
		}
		colon = memchr(p, ':', (size_t)(ve - p));
		if (!colon)
			continue;
		nl = (size_t)(colon - p);
		while (nl && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
			--nl;
		v = colon + 1;
		while (v < ve && (*v == ' ' || *v == '\t'))
			++v;

		if (hname(p, nl, "Call-ID", "i")) {
			h->callid.p = v;
			h->callid.l = (size_t)(ve - v);
		}
		else if (hname(p, nl, "CSeq", NULL)) {
			h->cseq.p = v;
			h->cseq.l = (size_t)(ve - v);
		}
		else if (hname(p, nl, "Subscription-State", NULL)) {
			h->substate.p = v;
			h->substate.l = (size_t)(ve - v);
			continue;
		}
		else if (hname(p, nl, "SIP-ETag", NULL)) {
			h->etag.p = v;
			h->etag.l = (size_t)(ve - v);
			continue;
		}
		else if (!hname(p, nl, "Via", "v") &&
			 !hname(p, nl, "From", "f") &&
			 !hname(p, nl, "To", "t")) {
			continue;
		}

		if (reply)
			(void)mbuf_write_mem(reply, (const uint8_t *)p,
					     (size_t)(eol + 1 - p));
	}

	return EBADMSG;
}


/* The number of a CSeq header's value "N METHOD" (pl_u32 gives 0 for
   anything but digits); the message is NUL-terminated */
static uint32_t cseq_num(const struct pl *cseq)
{
	return cseq->p ? (uint32_t)strtoul(cseq->p, NULL, 10) : 0;
}


/* Our subscription index from a Call-ID "lgN-RUNID@loadgen" */
static int sub_index(const struct pl *callid, uint32_t *si)
{
	struct pl n;

	if (re_regex(callid->p, callid->l, "lg[0-9]+-", &n))
		return ENOENT;
	*si = pl_u32(&n);

	return *si < g.nsubs ? 0 : ENOENT;
}


static void handle_response(const char *buf, size_t len, uint64_t t)
{
	struct hdrs h;
	unsigned code;
	uint32_t si;
	struct sub *s;

	if (len < 12 || parse(buf, len, &h, NULL) ||
	    sub_index(&h.callid, &si))
		return;

	code = (unsigned)atoi(buf + 8);
	s = &g.subs[si];
	if (code < 200 || s->state != SUB_PENDING)
		return;

	if (code >= 300) {
		sub_fail(s, code);
		return;
	}

	sub_done(s);
	s->state = SUB_OK;
	++g.nok;
	g.t_last_ok = t;
	if (g.phase == PH_SETUP)
		setup_fill(t);
	else if (g.phase == PH_STORM)
		storm_fill(t);
}


static void fanout_seen(struct sub *s, bool busy, uint64_t t, uint64_t ta);
static void tput_progress(uint64_t t);


/* The 200s of the NOTIFYs handled together (ring_handle), sent by one
   sendmmsg per run of one phone's socket */
static struct {
	char buf[REP_MAX][1024];
	struct mmsghdr msg[REP_MAX];
	struct iovec iov[REP_MAX];
	struct sa dst[REP_MAX];
	char ctl[REP_MAX][CMSG_SPACE(sizeof(struct in_pktinfo))];
	int fd[REP_MAX];
	unsigned n;
} rep;


/* -1: a datagram of the phone at address from leaves from it (all
   phones share one socket bound to the wildcard address) */
static void from_phone(struct msghdr *mh, char *ctl, size_t ctlsz,
		       const struct in_addr *from)
{
	struct in_pktinfo pi;
	struct cmsghdr *c;

	if (!g.onesock || !from)
		return;

	memset(&pi, 0, sizeof(pi));
	pi.ipi_spec_dst = *from;
	mh->msg_control = ctl;
	mh->msg_controllen = ctlsz;
	c = CMSG_FIRSTHDR(mh);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
}


static void replies_flush(void)
{
	unsigned i = 0;

	while (i < rep.n) {
		unsigned j = i + 1;
		int r;

		while (j < rep.n && rep.fd[j] == rep.fd[i])
			++j;
		r = sendmmsg(rep.fd[i], &rep.msg[i], j - i, 0);
		if (r < 0 && errno == EINTR)
			continue;
		/* one not sent is lost: parkblf retransmits */
		i += r > 0 ? (unsigned)r : 1;
	}
	rep.n = 0;
}


static void handle_notify(const char *buf, size_t len, const struct sa *src,
			  const struct in_addr *to, int fd, uint64_t t,
			  uint64_t ta)
{
	const char *di, *vp;
	struct mbuf reply;
	struct hdrs h;
	struct sub *s;
	uint32_t si, cseq, version = 0;
	bool busy;

	/* the 200, sent with the others of this chunk (replies_flush) */
	if (rep.n == REP_MAX)
		replies_flush();
	mbuf_init(&reply);
	reply.buf = (uint8_t *)rep.buf[rep.n];
	reply.size = sizeof(rep.buf[rep.n]);
	(void)mbuf_write_str(&reply, "SIP/2.0 200 OK\r\n");

	if (parse(buf, len, &h, &reply))
		return;

	if (!mbuf_write_str(&reply, "Content-Length: 0\r\n\r\n")) {
		struct mmsghdr *m = &rep.msg[rep.n];

		rep.fd[rep.n] = fd;
		rep.dst[rep.n] = *src;
		rep.iov[rep.n].iov_base = reply.buf;
		rep.iov[rep.n].iov_len = reply.end;
		memset(m, 0, sizeof(*m));
		m->msg_hdr.msg_name = &rep.dst[rep.n].u.sa;
		m->msg_hdr.msg_namelen = rep.dst[rep.n].len;
		m->msg_hdr.msg_iov = &rep.iov[rep.n];
		m->msg_hdr.msg_iovlen = 1;
		from_phone(&m->msg_hdr, rep.ctl[rep.n], sizeof(rep.ctl[0]),
			   to);
		++rep.n;
	}

	if (sub_index(&h.callid, &si)) {
		++g.nstray;
		return;
	}
	s = &g.subs[si];

	/* a retransmission was answered again, and is not counted */
	cseq = cseq_num(&h.cseq);
	if (s->cseq && cseq <= s->cseq)
		return;
	s->cseq = cseq;

	if (h.substate.l >= 10 && !strncasecmp(h.substate.p, "terminated",
					       10)) {
		if (s->state == SUB_OK || s->state == SUB_PENDING) {
			sub_done(s);
			s->state = SUB_ENDED;
			++g.nended;
		}
		return;
	}

	di = h.body ? memmem(h.body, h.bodyl, "<dialog-info", 12) : NULL;
	vp = di ? memmem(di, h.bodyl - (size_t)(di - h.body),
			 "version=\"", 9) : NULL;
	if (vp)
		version = (uint32_t)strtoul(vp + 9, NULL, 10);
	/* a lit lamp: a dialog, none of them terminated (an idle orbit is
	   a terminated dialog at parkblf, no dialog at Kamailio) */
	busy = h.body && memmem(h.body, h.bodyl, "<state>", 7) &&
		!memmem(h.body, h.bodyl, "<state>terminated", 17);

	s->version = version;
	++g.nnotify;
	record(si, version, t);

	if (!s->initial) {
		s->initial = true;
		++g.ninitial;
		g.t_last_initial = t;
		return;
	}

	if (g.phase == PH_FANOUT || g.phase == PH_STORM)
		fanout_seen(s, busy, t, ta);
	else if (g.phase == PH_TPUT || g.phase == PH_DRAIN)
		tput_progress(t);
}


/* CLOCK_REALTIME minus CLOCK_MONOTONIC, us: SO_TIMESTAMPNS stamps
   arrivals in the former, the latency clock is the latter */
static int64_t real_minus_mono_us(void)
{
	struct timespec r;

	(void)clock_gettime(CLOCK_REALTIME, &r);

	return ((int64_t)r.tv_sec * 1000000 + r.tv_nsec / 1000) -
		(int64_t)now_us();
}


/* When the kernel queued the datagram on the socket (on loopback: when
   the sender's sendmmsg put it there), CLOCK_MONOTONIC us; t if the
   kernel gave no stamp */
static uint64_t arrival_us(struct msghdr *mh, int64_t off, uint64_t t)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		struct timespec ts;
		int64_t us;

		if (c->cmsg_level != SOL_SOCKET ||
		    c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - off;

		return us > 0 && (uint64_t)us <= t ? (uint64_t)us : t;
	}

	return t;
}


/* -1: the phone address the datagram was sent to, or NULL */
static const struct in_addr *dest_addr(struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			return &((const struct in_pktinfo *)
				 (const void *)CMSG_DATA(c))->ipi_addr;
	}

	return NULL;
}


/* What the pump read and has not handled yet: a ring of datagrams,
   each with its read time t (the latency figures), its arrival time ta
   (the kernel's stamp) and the phone whose socket it came from */
static struct {
	char buf[RING][DGRAM_MAX];
	char ctl[RING][CMSG_SPACE(sizeof(struct timespec)) +
		       CMSG_SPACE(sizeof(struct in_pktinfo)) + 32];
	struct mmsghdr mm[RING];
	struct iovec iov[RING];
	struct sa src[RING];
	struct phone *ph[RING];
	uint64_t t[RING], ta[RING];
	struct in_addr to[RING];
	bool hasto[RING];
	uint32_t head, n;
	int epfd;                 /**< Every phone socket, for the pump */
} rx;


static void rx_init(void)
{
	uint32_t k;

	for (k = 0; k < RING; k++) {
		struct msghdr *mh = &rx.mm[k].msg_hdr;

		rx.iov[k].iov_base = rx.buf[k];
		rx.iov[k].iov_len = sizeof(rx.buf[k]) - 1;
		mh->msg_name = &rx.src[k].u.sa;
		mh->msg_iov = &rx.iov[k];
		mh->msg_iovlen = 1;
		mh->msg_control = rx.ctl[k];
	}
}


/* Reads what is queued on a phone's socket into the ring, RX_BATCH
   datagrams per recvmmsg, nothing else: no parsing, no answer.  The
   read time is taken once per recvmmsg, after it returns.  False once
   the socket is empty, true if the ring filled first. */
static bool phone_read(struct phone *ph)
{
	while (rx.n < RING) {
		const uint32_t tail = (rx.head + rx.n) % RING;
		uint32_t want = RING - tail, i;
		int64_t off;
		uint64_t t;
		int r;

		if (want > RING - rx.n)
			want = RING - rx.n;
		if (want > RX_BATCH)
			want = RX_BATCH;
		for (i = tail; i < tail + want; i++) {
			sa_init(&rx.src[i], AF_INET);
			rx.mm[i].msg_hdr.msg_namelen = sizeof(rx.src[i].u);
			rx.mm[i].msg_hdr.msg_controllen = sizeof(rx.ctl[i]);
			rx.mm[i].msg_hdr.msg_flags = 0;
		}

		r = recvmmsg(ph->fd, &rx.mm[tail], want, MSG_DONTWAIT, NULL);
		if (r <= 0)
			return false;
		t = now_us();
		off = real_minus_mono_us();

		for (i = tail; i < tail + (uint32_t)r; i++) {
			struct msghdr *mh = &rx.mm[i].msg_hdr;
			const struct in_addr *to = dest_addr(mh);

			rx.ph[i] = ph;
			rx.t[i] = t;
			rx.ta[i] = arrival_us(mh, off, t);
			rx.src[i].len = mh->msg_namelen;
			rx.hasto[i] = to != NULL;
			if (to)
				rx.to[i] = *to;
		}
		rx.n += (uint32_t)r;
		if ((uint32_t)r < want)
			return false;
	}

	return true;
}


/* The oldest max datagrams of the ring: parsed, counted, and the 200s
   of the NOTIFYs among them sent */
static void ring_handle(uint32_t max)
{
	for (; rx.n && max; max--) {
		const uint32_t k = rx.head;
		const size_t len = rx.mm[k].msg_len;
		char *buf = rx.buf[k];

		buf[len] = '\0';
		if (!strncmp(buf, "SIP/2.0 ", 8))
			handle_response(buf, len, rx.t[k]);
		else if (!strncmp(buf, "NOTIFY ", 7))
			handle_notify(buf, len, &rx.src[k],
				      rx.hasto[k] ? &rx.to[k] : NULL,
				      rx.ph[k]->fd, rx.t[k], rx.ta[k]);
		rx.head = (k + 1) % RING;
		--rx.n;
	}
	replies_flush();
}


/* -B: while a fan-out event waits for watchers, the pump polls instead
   of sleeping, so that parkblf's sends never wake the load generator
   (measured: no less CPU for parkblf, more for us, and on a loaded
   machine slower reads; docs/BENCHMARKS.md change 23) */
static bool spinning(uint64_t t, uint64_t t_read)
{
	return g.spin && (g.phase == PH_FANOUT || g.phase == PH_STORM) &&
		g.event >= 0 && g.event_left && t - t_read < SPIN_IDLE_US;
}


/* The phones' sockets (rx.epfd, level-triggered) are readable.  One
   core plays every phone, so the order of its work is chosen for each
   phone's own read time: every ready socket is read first (a read
   pass: one recvmmsg per socket, stamped as it returns), and the
   datagrams read are parsed and answered, CHUNK at a time, only when
   no socket is ready, or once the oldest has waited ANSWER_US (so
   that a long fan-out cannot hold its 200s back: parkblf retransmits
   after 500 ms).  Another phone's 200 (a sendmmsg on loopback, which
   also delivers it into parkblf's socket) then no longer comes between
   a NOTIFY's arrival and its read.  With -B it polls during a fan-out
   event until every watcher had it (spinning).  After PUMP_US it goes
   back to the main loop (timers, the control socket) with every
   datagram read answered. */
static void pump(int flags, void *arg)
{
	struct epoll_event ev[EV_MAX];
	const uint64_t t0 = now_us();
	uint64_t t_read = t0;
	(void)flags;
	(void)arg;

	for (;;) {
		const uint64_t t = now_us();
		int i, nev;

		if (t - t0 >= PUMP_US)
			break;
		if (rx.n && (rx.n == RING || t - rx.t[rx.head] >= ANSWER_US)) {
			ring_handle(CHUNK);
			continue;
		}

		nev = epoll_wait(rx.epfd, ev, EV_MAX, 0);
		for (i = 0; i < nev && rx.n < RING; i++)
			(void)phone_read(ev[i].data.ptr);
		if (nev > 0) {
			t_read = t;
			continue;
		}

		if (rx.n)
			ring_handle(CHUNK);
		else if (!spinning(t, t_read))
			break;
	}

	/* a socket left unread is still ready (level-triggered) */
	while (rx.n)
		ring_handle(RING);
}


/* A phone's socket, read by the pump */
static void round_answers(void *arg)
{
	(void)arg;

	while (rx.n)
		ring_handle(RING);
}


/* A phone's socket is readable in libre's epoll round: read it into
   the ring; the round's answers go from a timer due at once, which
   libre runs after every handler of the round */
static void phone_readable(int flags, void *arg)
{
	(void)flags;

	while (phone_read(arg))
		ring_handle(RING);
	if (!tmr_isrunning(&g.answer_tmr))
		tmr_start(&g.answer_tmr, 0, round_answers, NULL);
}


static int phone_listen(struct phone *ph)
{
	struct epoll_event ev;

	if (g.libre_round)
		return fd_listen(ph->fd, FD_READ, phone_readable, ph) ?
			EMFILE : 0;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = ph;

	return epoll_ctl(rx.epfd, EPOLL_CTL_ADD, ph->fd, &ev) ? errno : 0;
}


/* --- the fake PBX's control socket --------------------------------- */

static int ctl_send(const char *cmd, uint64_t *t0)
{
	size_t l = strlen(cmd);

	/* the latency clock starts right before the command is written */
	if (t0)
		*t0 = now_us();
	if (write(g.ctl_fd, cmd, l) != (ssize_t)l) {
		(void)re_fprintf(stderr, "loadgen: control write: %m\n",
				 errno);
		return EIO;
	}
	++g.ctl_waiting;
	++g.ncmd;

	return 0;
}


static void ctl_readable(int flags, void *arg)
{
	ssize_t n;
	char *nl;
	(void)flags;
	(void)arg;

	n = read(g.ctl_fd, g.ctl_buf + g.ctl_len,
		 sizeof(g.ctl_buf) - 1 - g.ctl_len);
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		(void)re_fprintf(stderr, "loadgen: control closed\n");
		fd_close(g.ctl_fd);
		g.exit_code = 2;
		re_cancel();
		return;
	}
	g.ctl_len += (size_t)n;
	g.ctl_buf[g.ctl_len] = '\0';

	while ((nl = strchr(g.ctl_buf, '\n'))) {
		*nl = '\0';
		if (strncmp(g.ctl_buf, "ok", 2))
			(void)re_fprintf(stderr, "loadgen: fake PBX: %s\n",
					 g.ctl_buf);
		if (g.ctl_waiting)
			--g.ctl_waiting;
		g.ctl_len -= (size_t)(nl + 1 - g.ctl_buf);
		memmove(g.ctl_buf, nl + 1, g.ctl_len + 1);
	}
	if (g.ctl_len == sizeof(g.ctl_buf) - 1)
		g.ctl_len = 0;
}


static int ctl_connect(void)
{
	struct sockaddr_in sin;
	int one = 1;

	g.ctl_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (g.ctl_fd < 0)
		return errno;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(g.ctl_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(g.ctl_fd, (struct sockaddr *)&sin, sizeof(sin)))
		return errno;
	(void)setsockopt(g.ctl_fd, IPPROTO_TCP, TCP_NODELAY, &one,
			 sizeof(one));
	(void)fcntl(g.ctl_fd, F_SETFL, O_NONBLOCK);

	return fd_listen(g.ctl_fd, FD_READ, ctl_readable, NULL);
}


/* --- -p: the events as PUBLISH to a presence server ---------------- */

/* The full-state document the fake PBX sends upstream for the orbit's
   DN (test/fakepbx/body.c), for the orbit's own entity: a parked call
   is a confirmed dialog with the caller as its remote party; after the
   retrieve, and before the first call, no dialog.  (Not the call's
   dialog as terminated: Kamailio 5.6's presence then refuses every
   later update of that publication, "Trying to update an already
   terminated state".) */
static int pub_body(struct mbuf *mb, uint32_t o)
{
	const struct pub *pb = &g.pubs[o];
	const bool busy = g.orbit_busy[o];
	int err;

	err = mbuf_printf(mb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
			  "\r\n<dialog-info xmlns=\"urn:ietf:params:xml:ns:"
			  "dialog-info\" version=\"%u\" state=\"full\" "
			  "entity=\"sip:park-%u@%j\">\r\n", pb->version, o + 1,
			  &g.pub_target);
	if (busy) {
		err |= mbuf_printf(mb, "<dialog id=\"bench-%u\" "
				   "direction=\"recipient\"><state>confirmed"
				   "</state><duration>0</duration><remote>"
				   "<identity display=\"Bench Caller\">"
				   "sip:5551%04u@%j</identity></remote><local>"
				   "<identity>sip:%u@%j</identity></local>"
				   "</dialog>\r\n",
				   pb->call, pb->call % 10000, &g.pub_target,
				   g.dnbase + o + 1, &g.pub_target);
	}
	err |= mbuf_write_str(mb, "</dialog-info>\r\n");

	return err;
}


/* (Re)send orbit o's PUBLISH in flight; *t0 (if given) right before
   the datagram is written: the start of the event's latency */
static int pub_send(uint32_t o, uint64_t *t0)
{
	static struct mbuf *body, *msg;
	const struct pub *pb = &g.pubs[o];
	int err;

	if (!body || !msg) {
		body = mbuf_alloc(1024);
		msg = mbuf_alloc(2048);
		if (!body || !msg)
			return ENOMEM;
	}
	mbuf_rewind(body);
	mbuf_rewind(msg);

	err = pub_body(body, o);
	err |= mbuf_printf(msg,
			   "PUBLISH sip:park-%u@%J SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP %J;branch=z9hG4bKlgp%u.%u.%u;"
			   "rport\r\n"
			   "Max-Forwards: 70\r\n"
			   "From: <sip:park-%u@%j>;tag=lgp%u\r\n"
			   "To: <sip:park-%u@%j>\r\n"
			   "Call-ID: lgpub%u-%u@loadgen\r\n"
			   "CSeq: %u PUBLISH\r\n"
			   "Event: dialog\r\n"
			   "Expires: 3600\r\n",
			   o + 1, &g.pub_target, &g.pub_laddr, o, pb->cseq,
			   g.runid, o + 1, &g.pub_target, g.runid, o + 1,
			   &g.pub_target, o, g.runid, pb->cseq);
	if (pb->etag[0])
		err |= mbuf_printf(msg, "SIP-If-Match: %s\r\n", pb->etag);
	err |= mbuf_printf(msg, "Content-Type: application/dialog-info+xml"
			   "\r\nContent-Length: %zu\r\n\r\n%b",
			   body->end, body->buf, body->end);
	if (err)
		return err;

	if (t0)
		*t0 = now_us();
	if (sendto(g.pub_fd, msg->buf, msg->end, 0, &g.pub_target.u.sa,
		   g.pub_target.len) < 0 && errno != EAGAIN) {
		(void)re_fprintf(stderr, "loadgen: PUBLISH: %m\n", errno);
		return errno;
	}

	return 0;
}


/* A new PUBLISH of orbit o's state: the first one creates the orbit's
   publication, every later one replaces its document (SIP-If-Match),
   as the PBX's NOTIFYs of the DN's full state do at parkblf */
static int pub_start(uint32_t o, uint64_t *t0)
{
	struct pub *pb = &g.pubs[o];
	uint64_t t = now_us();

	++pb->cseq;
	++pb->version;
	pb->pending = true;
	pb->t_tx = t;
	pb->rto_ms = T1_MS;
	pb->t_retx = t + T1_MS * 1000;
	++g.npub;

	return pub_send(o, t0);
}


/* Retransmit what is unanswered (T1 doubling to 4 s), give up after
   TX_TIMEOUT_MS */
static void pub_retransmit(uint64_t t)
{
	uint32_t o;

	for (o = 0; g.publish && o < g.norbits; o++) {
		struct pub *pb = &g.pubs[o];

		if (!pb->pending || t < pb->t_retx)
			continue;
		if (t - pb->t_tx >= TX_TIMEOUT_MS * 1000ULL) {
			(void)re_fprintf(stderr, "loadgen: PUBLISH park-%u: "
					 "no answer\n", o + 1);
			pb->pending = false;
			pb->etag[0] = '\0';
			++g.npub_failed;
			continue;
		}
		pb->rto_ms = pb->rto_ms * 2 > 4000 ? 4000 : pb->rto_ms * 2;
		pb->t_retx = t + pb->rto_ms * 1000ULL;
		++g.npub_retx;
		(void)pub_send(o, NULL);
	}
}


static void pub_response(const char *buf, size_t len)
{
	struct pl n;
	struct hdrs h;
	struct pub *pb;
	unsigned code;
	uint32_t o;

	if (len < 12 || strncmp(buf, "SIP/2.0 ", 8) ||
	    parse(buf, len, &h, NULL) ||
	    re_regex(h.callid.p, h.callid.l, "lgpub[0-9]+-", &n))
		return;
	o = pl_u32(&n);
	code = (unsigned)atoi(buf + 8);
	if (o >= g.norbits || code < 200)
		return;
	pb = &g.pubs[o];
	if (!pb->pending || cseq_num(&h.cseq) != pb->cseq)
		return;

	pb->pending = false;
	if (code >= 300 || !h.etag.l || h.etag.l >= sizeof(pb->etag)) {
		const char *eol = memchr(buf, '\r', len);

		if (!g.npub_failed++)
			(void)re_fprintf(stderr, "loadgen: PUBLISH park-%u: "
					 "%b\n", o + 1, buf,
					 eol ? (size_t)(eol - buf) : len);
		/* a new publication next time */
		pb->etag[0] = '\0';
		return;
	}
	memcpy(pb->etag, h.etag.p, h.etag.l);
	pb->etag[h.etag.l] = '\0';
	++g.npub_ok;
}


static void pub_readable(int flags, void *arg)
{
	char buf[4096];
	int i;
	(void)flags;
	(void)arg;

	for (i = 0; i < 64; i++) {
		const ssize_t n = recv(g.pub_fd, buf, sizeof(buf) - 1,
				       MSG_DONTWAIT);

		if (n <= 0)
			break;
		buf[n] = '\0';
		pub_response(buf, (size_t)n);
	}
}


static int pub_open(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int buf = RCVBUF;

	g.pubs = calloc(g.norbits, sizeof(*g.pubs));
	if (!g.pubs)
		return ENOMEM;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g.pub_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (g.pub_fd < 0)
		return errno;
	(void)setsockopt(g.pub_fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(g.pub_fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(g.pub_fd, (struct sockaddr *)&sin, &sl))
		return errno;
	sa_init(&g.pub_laddr, AF_INET);
	(void)sa_set_sa(&g.pub_laddr, (struct sockaddr *)&sin);

	return fd_listen(g.pub_fd, FD_READ, pub_readable, NULL);
}


/* An orbit can change now (-p: its last PUBLISH was answered) */
static bool orbit_ready(uint32_t o)
{
	return !g.publish || !g.pubs[o].pending;
}


/* The orbits' state changes through the fake PBX or by PUBLISH */
static bool have_events(void)
{
	return g.ctl_port || g.publish;
}


/* park or retrieve on an orbit (0-based) */
static int orbit_toggle(uint32_t o, uint64_t *t0)
{
	char cmd[128];

	if (g.publish) {
		g.orbit_busy[o] = !g.orbit_busy[o];
		if (g.orbit_busy[o])
			g.pubs[o].call = g.ncmd++;
		return pub_start(o, t0);
	}

	if (g.orbit_busy[o])
		(void)re_snprintf(cmd, sizeof(cmd), "retrieve %u\n",
				  g.dnbase + o + 1);
	else
		(void)re_snprintf(cmd, sizeof(cmd),
				  "park %u bench-%u 5551%04u Bench Caller\n",
				  g.dnbase + o + 1, g.ncmd, g.ncmd % 10000);
	g.orbit_busy[o] = !g.orbit_busy[o];

	return ctl_send(cmd, t0);
}


/* --- phases -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}


static double pct(double *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return -1;
	i = (size_t)(p * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}


/* Memory once the transactions of the storm have ended (the SUBSCRIBEs'
   server transactions live 32 s): what the subscriptions themselves
   hold */
static void report_rest(uint64_t t)
{
	const long rss2 = proc_rss();

	(void)re_printf("rest pid=%d idle_s=%.1f rss0=%ld rss2=%ld subs=%u "
			"bytes_per_sub=%.0f ended=%u\n", g.pid,
			(double)(t - g.tp_t0) / 1e6, g.rss0, rss2, g.nok,
			g.nok && g.rss0 > 0 && rss2 > 0 ?
			(double)(rss2 - g.rss0) / g.nok : -1.0, g.nended);
}


static void phase_next(uint64_t t);


static void fanout_start_event(uint64_t t)
{
	uint32_t o = (uint32_t)g.nevents / 2 % g.norbits;
	uint32_t i;

	g.event = (int32_t)g.nevents;
	g.event_orbit = o;
	g.event_park = !g.orbit_busy[o];
	g.event_left = 0;
	for (i = 0; i < g.orbit_nsubs[o]; i++) {
		if (g.subs[g.orbit_subs[o][i]].state == SUB_OK)
			++g.event_left;
	}
	g.event_done_at = 0;
	(void)t;

	if (orbit_toggle(o, &g.event_t0))
		re_cancel();
}


static void fanout_end_event(uint64_t t)
{
	if (g.event_left) {
		g.event_missing += g.event_left;
		g.last[g.nevents] = (double)(t - g.event_t0) / 1000.0;
	}
	else {
		g.last[g.nevents] = (double)(g.event_done_at - g.event_t0) /
			1000.0;
	}
	++g.nevents;
	g.event = -1;
}


static void fanout_seen(struct sub *s, bool busy, uint64_t t, uint64_t ta)
{
	double ams;

	/* latency is measured for the established watchers only */
	if ((uint32_t)(s - g.subs) >= g.nsetup)
		return;

	if (g.event < 0 || s->orbit != g.event_orbit ||
	    s->event == g.event || t < g.event_t0)
		return;

	s->event = g.event;
	ams = (double)(ta > g.event_t0 ? ta - g.event_t0 : 0) / 1000.0;
	if (!g.efirst[g.nevents] || ams < g.efirst[g.nevents])
		g.efirst[g.nevents] = ams;
	if (busy != g.event_park)
		++g.event_wrong;
	lat_add((double)(t - g.event_t0) / 1000.0, ams);
	if (g.event_left && !--g.event_left)
		g.event_done_at = t;
}


/* The current event is over once every watcher had it and the link
   has been quiet, or after EVENT_WAIT_MS */
static bool event_over(uint64_t t)
{
	return (!g.event_left && t - g.event_done_at >= QUIET_MS * 1000) ||
		t - g.event_t0 >= EVENT_WAIT_MS * 1000ULL;
}


static void fanout_tick(uint64_t t)
{
	if (g.event < 0) {
		if (g.nevents >= 2 * g.rounds) {
			phase_next(t);
			return;
		}
		if (orbit_ready(g.nevents / 2 % g.norbits))
			fanout_start_event(t);
		return;
	}

	if (event_over(t))
		fanout_end_event(t);
}


static void tput_progress(uint64_t t)
{
	++g.tp_received;
	g.tp_last_progress = t;
}


static void tput_tick(uint64_t t)
{
	uint64_t per = g.nsetup / g.norbits;

	if (!g.tp_win0 && t - g.tp_t0 >= TPUT_WARMUP_MS * 1000) {
		g.tp_win0 = t;
		g.tp_n0 = g.tp_received;
		g.tp_cpu0 = proc_cpu();
		g.tp_self0 = self_cpu();
	}
	if (g.tp_win0 && t - g.tp_win0 >= g.tput_s * 1000000ULL) {
		g.tp_win1 = t;
		g.tp_n1 = g.tp_received;
		g.tp_cpu1 = proc_cpu();
		g.tp_self1 = self_cpu();
		phase_next(t);
		return;
	}

	/* keep at most TPUT_WINDOW changes' worth of NOTIFYs in flight;
	   a lost or coalesced NOTIFY must not stall the pipe for good */
	if (t - g.tp_last_progress >= STALL_MS * 1000) {
		++g.tp_stalls;
		g.tp_expected = g.tp_received;
		g.tp_last_progress = t;
	}
	while (g.tp_expected < g.tp_received + TPUT_WINDOW * per) {
		uint32_t o = g.tp_next_orbit % g.norbits;

		if (!orbit_ready(o))
			break;
		++g.tp_next_orbit;
		if (orbit_toggle(o, NULL)) {
			re_cancel();
			return;
		}
		g.tp_expected += g.orbit_nsubs[o];
		++g.tp_changes;
	}
}


static void report_setup(void)
{
	double secs = g.t_last_ok > g.t_setup0 ?
		(double)(g.t_last_ok - g.t_setup0) / 1e6 : 0;
	double isecs = g.t_last_initial > g.t_setup0 ?
		(double)(g.t_last_initial - g.t_setup0) / 1e6 : 0;
	long drops, sdrops;

	drops_take(&drops, &sdrops);

	(void)re_printf("setup subs=%u ok=%u failed=%u timeouts=%u "
			"fail4xx=%u fail5xx=%u not_sent=%u retransmits=%u "
			"time_s=%.3f "
			"subs_per_s=%.0f initial_notifies=%u "
			"all_initial_s=%.3f cpu_s=%.2f lg_cpu_s=%.2f "
			"udp_drops=%ld sock_drops=%ld\n",
			g.nsetup, g.nok, g.nfailed, g.code_fail[0],
			g.code_fail[4], g.code_fail[5], g.not_sent, g.nretx,
			secs,
			secs > 0 ? g.nok / secs : 0.0, g.ninitial, isecs,
			g.cpu_setup1 - g.cpu_setup0,
			g.lg_setup1 - g.lg_setup0, drops, sdrops);
	(void)re_printf("memory pid=%d rss0=%ld rss1=%ld subs=%u "
			"bytes_per_sub=%.0f\n", g.pid, g.rss0, g.rss1, g.nok,
			g.nok && g.rss0 > 0 ?
			(double)(g.rss1 - g.rss0) / g.nok : -1.0);
}


static void report_fanout(const char *name)
{
	size_t i;
	double lastv[4096], firstv[4096];
	size_t nl = g.nevents < 4096 ? g.nevents : 4096;
	const double cpu = proc_cpu_ns(), self = self_cpu_ns();
	long drops, sdrops;

	drops_take(&drops, &sdrops);

	for (i = 0; i < nl; i++) {
		lastv[i] = g.last[i];
		firstv[i] = g.efirst[i];
	}
	qsort(firstv, nl, sizeof(*firstv), cmp_double);
	qsort(g.lat, g.nlat, sizeof(*g.lat), cmp_double);
	qsort(g.alat, g.nalat, sizeof(*g.alat), cmp_double);
	qsort(g.qlat, g.nqlat, sizeof(*g.qlat), cmp_double);
	qsort(lastv, nl, sizeof(*lastv), cmp_double);

	/* arr_*: the same watchers' latencies to the kernel's arrival
	   stamp on their socket instead of our read of it; lg_p50_ms,
	   lg_p99_ms: each NOTIFY's read minus its arrival (our own
	   queue); cpu_s and lg_cpu_s: the server's and our own CPU over
	   the phase */
	(void)re_printf("%s watchers=%u events=%u samples=%zu "
			"p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
			"last_p50_ms=%.3f last_max_ms=%.3f "
			"arr_first_p50_ms=%.3f arr_p50_ms=%.3f "
			"arr_p99_ms=%.3f lg_p50_ms=%.3f lg_p99_ms=%.3f "
			"missing=%u wrong_state=%u cpu_s=%.4f lg_cpu_s=%.4f "
			"udp_drops=%ld sock_drops=%ld\n",
			name, g.nsetup / g.norbits, g.nevents, g.nlat,
			pct(g.lat, g.nlat, 0.50), pct(g.lat, g.nlat, 0.99),
			g.nlat ? g.lat[g.nlat - 1] : -1.0,
			pct(lastv, nl, 0.50), nl ? lastv[nl - 1] : -1.0,
			pct(firstv, nl, 0.50),
			pct(g.alat, g.nalat, 0.50),
			pct(g.alat, g.nalat, 0.99),
			pct(g.qlat, g.nqlat, 0.50),
			pct(g.qlat, g.nqlat, 0.99),
			g.event_missing, g.event_wrong,
			cpu >= 0 && g.fo_cpu0 >= 0 ?
			(cpu - g.fo_cpu0) / 1e9 : -1.0,
			(self - g.fo_self0) / 1e9, drops, sdrops);
}


static void report_tput(void)
{
	double secs = (double)(g.tp_win1 - g.tp_win0) / 1e6;
	uint64_t n = g.tp_n1 - g.tp_n0;
	double cpu = g.tp_cpu1 - g.tp_cpu0;
	long drops, sdrops;

	drops_take(&drops, &sdrops);

	(void)re_printf("throughput secs=%.2f notifies=%llu "
			"notify_per_s=%.0f changes=%u stalls=%u cpu_s=%.2f "
			"cpu_s_per_1k_notify=%.4f lg_cpu_s=%.2f "
			"udp_drops=%ld sock_drops=%ld\n",
			secs, (unsigned long long)n,
			secs > 0 ? (double)n / secs : 0.0, g.tp_changes,
			g.tp_stalls, cpu,
			n && g.tp_cpu0 >= 0 ? cpu * 1000.0 / (double)n : -1.0,
			g.tp_self1 - g.tp_self0,
			drops, sdrops);
}


static void storm_start(uint64_t t)
{
	long drops;

	g.st_t0 = t;
	g.st_t1 = 0;
	g.st_ok0 = g.nok;
	g.st_failed0 = g.nfailed;
	g.st_retx0 = g.nretx;
	g.nlat = 0;
	g.nalat = 0;
	g.nqlat = 0;
	memset(g.efirst, 0, (2 * g.rounds + 1) * sizeof(*g.efirst));
	g.nevents = 0;
	g.event_missing = 0;
	g.event_wrong = 0;
	g.event = -1;
	drops_take(&drops, &drops);
	g.next_sub = g.nsetup;
	g.fo_cpu0 = proc_cpu_ns();
	g.fo_self0 = self_cpu_ns();
	storm_fill(t);
}


/* Fan-out events, one after the other, as long as the storm lasts
   (at most 2 x ROUNDS); latency only of events begun in the storm */
static void storm_tick(uint64_t t)
{
	const bool storming = g.next_sub < g.nsubs ||
		!list_isempty(&g.outstanding);

	setup_retransmit(t);
	storm_fill(t);
	if (!storming && !g.st_t1)
		g.st_t1 = t;

	if (g.event < 0) {
		if (!storming || g.nevents >= 2 * g.rounds) {
			if (!storming)
				phase_next(t);
			return;
		}
		if (orbit_ready(g.nevents / 2 % g.norbits))
			fanout_start_event(t);
		return;
	}

	if (event_over(t))
		fanout_end_event(t);
}


static void report_storm(uint64_t t)
{
	const uint64_t t1 = g.st_t1 ? g.st_t1 : t;
	const double secs = (double)(t1 - g.st_t0) / 1e6;
	const uint32_t ok = g.nok - g.st_ok0;

	(void)re_printf("storm subs=%u ok=%u failed=%u retransmits=%u "
			"time_s=%.3f subs_per_s=%.0f\n",
			g.nsubs - g.nsetup, ok, g.nfailed - g.st_failed0,
			g.nretx - g.st_retx0, secs,
			secs > 0 ? ok / secs : 0.0);
	report_fanout("storm_fanout");
}


/* The set-up phase begins: the server's figures before it */
static void setup_begin(void)
{
	long drops;

	g.rss0 = proc_rss();
	g.cpu_setup0 = proc_cpu();
	g.lg_setup0 = self_cpu();
	drops_take(&drops, &drops);
	g.t_setup0 = now_us();
	g.phase = PH_SETUP;
}


static void phase_next(uint64_t t)
{
	switch (g.phase) {

	case PH_PREPUB:
		if (g.npub_failed) {
			(void)re_fprintf(stderr, "loadgen: the presence "
					 "server refused the orbits' first "
					 "PUBLISH\n");
			g.exit_code = 2;
			g.phase = PH_DONE;
			re_cancel();
			break;
		}
		setup_begin();
		break;

	case PH_SETUP:
		g.phase = PH_SETTLE;
		break;

	case PH_SETTLE:
		g.cpu_setup1 = proc_cpu();
		g.lg_setup1 = self_cpu();
		g.rss1 = proc_rss();
		report_setup();
		g.phase = PH_FANOUT;
		g.fo_cpu0 = proc_cpu_ns();
		g.fo_self0 = self_cpu_ns();
		if (have_events() && g.rounds && g.nok)
			break;
		/* fall through */

	case PH_FANOUT:
		if (g.nevents)
			report_fanout("fanout");
		g.phase = PH_TPUT;
		g.tp_t0 = t;
		g.tp_last_progress = t;
		if (have_events() && g.tput_s && g.nok)
			break;
		/* fall through */

	case PH_TPUT:
		if (g.tp_win1)
			report_tput();
		g.phase = PH_DRAIN;
		g.tp_last_progress = t;
		g.tp_t0 = t;
		break;

	case PH_DRAIN:
		g.phase = PH_STORM;
		if (g.storm && have_events() && g.rounds) {
			storm_start(t);
			break;
		}
		/* fall through */

	case PH_STORM:
		if (g.storm && have_events() && g.rounds)
			report_storm(t);
		g.phase = PH_REST;
		g.tp_t0 = t;
		if (g.rest_s && g.pid)
			break;
		/* fall through */

	case PH_REST:
		if (g.rest_s && g.pid)
			report_rest(t);
		/* fall through */

	default:
		g.phase = PH_DONE;
		re_cancel();
		break;
	}
}


static void tick(void *arg)
{
	uint64_t t = now_us();
	(void)arg;

	pub_retransmit(t);

	switch (g.phase) {

	case PH_PREPUB: {
		uint32_t o;

		for (o = 0; o < g.norbits && orbit_ready(o); o++)
			;
		if (o == g.norbits)
			phase_next(t);
		break;
	}

	case PH_SETUP:
		setup_retransmit(t);
		setup_fill(t);
		if (g.next_sub == g.nsetup && list_isempty(&g.outstanding))
			phase_next(t);
		break;

	case PH_SETTLE:
		/* every initial NOTIFY in, or 2 s of silence */
		if (g.ninitial >= g.nok || (g.t_last_initial &&
		    t - g.t_last_initial > 2000000) ||
		    (!g.t_last_initial && t - g.t_last_ok > 2000000))
			phase_next(t);
		break;

	case PH_FANOUT:
		fanout_tick(t);
		break;

	case PH_TPUT:
		tput_tick(t);
		break;

	case PH_DRAIN:
		if (t - g.tp_last_progress >= DRAIN_IDLE_MS * 1000 ||
		    t - g.tp_t0 >= DRAIN_MAX_MS * 1000)
			phase_next(t);
		break;

	case PH_STORM:
		storm_tick(t);
		break;

	case PH_REST:
		if (t - g.tp_t0 >= (uint64_t)g.rest_s * 1000000)
			phase_next(t);
		break;

	default:
		break;
	}

	if (g.phase != PH_DONE)
		tmr_start(&g.tick, TICK_MS, tick, NULL);
}


/* --- set-up --------------------------------------------------------- */

/* The phones' 200s and SUBSCRIBEs leave with DF set and IP ID 0, as
   parkblf's own fast path does (docs/BENCHMARKS.md change 24): the
   IP ID's generation (__ip_select_ident) was 5 % of our CPU in a
   fan-out with the phones on one socket */
static void phone_df(int fd)
{
	const int df = IP_PMTUDISC_DO;

	(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &df, sizeof(df));
}


/* -1: one socket at the wildcard address for every phone: the phones
   differ by address only, all at the same port (as phones at 5060 on
   their own addresses), and the load generator reads and answers
   everything with a recvmmsg and a sendmmsg per batch instead of two
   system calls per phone per NOTIFY */
static int phones_open_one(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int one = 1, buf = 16 * RCVBUF, fd;
	uint32_t p;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	phone_df(fd);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl))
		return errno;

	for (p = 0; p < g.nphones; p++) {
		struct phone *ph = &g.phones[p];

		sin.sin_addr.s_addr = htonl(ntohl(g.first.s_addr) +
					    p % g.naddrs);
		ph->fd = fd;
		sa_init(&ph->laddr, AF_INET);
		(void)sa_set_sa(&ph->laddr, (struct sockaddr *)&sin);
	}

	return phone_listen(&g.phones[0]);
}


static int phones_open(void)
{
	uint32_t p;
	int one = 1, err;

	rx_init();
	rx.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (rx.epfd < 0)
		return errno;
	if (fd_listen(rx.epfd, FD_READ, pump, NULL))
		return EMFILE;

	if (g.onesock)
		return phones_open_one();

	for (p = 0; p < g.nphones; p++) {
		struct phone *ph = &g.phones[p];
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		int buf = RCVBUF;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(ntohl(g.first.s_addr) +
					    p % g.naddrs);
		ph->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (ph->fd < 0)
			return errno;
		(void)setsockopt(ph->fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one));
		if (setsockopt(ph->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf,
			       sizeof(buf)))
			(void)setsockopt(ph->fd, SOL_SOCKET, SO_RCVBUF,
					 &buf, sizeof(buf));
		/* the kernel's arrival stamp: fan-out latency apart from
		   our own reading (report_fanout's arr_*) */
		(void)setsockopt(ph->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
				 sizeof(one));
		phone_df(ph->fd);
		if (bind(ph->fd, (struct sockaddr *)&sin, sizeof(sin)) ||
		    getsockname(ph->fd, (struct sockaddr *)&sin, &sl))
			return errno;
		sa_init(&ph->laddr, AF_INET);
		(void)sa_set_sa(&ph->laddr, (struct sockaddr *)&sin);
		err = phone_listen(ph);
		if (err)
			return err;
	}

	return 0;
}


static int subs_init(void)
{
	uint32_t si, o;

	g.nsubs = g.nsetup + g.storm;
	g.subs = calloc(g.nsubs, sizeof(*g.subs));
	g.orbit_subs = calloc(g.norbits, sizeof(*g.orbit_subs));
	g.orbit_nsubs = calloc(g.norbits, sizeof(*g.orbit_nsubs));
	g.orbit_busy = calloc(g.norbits, sizeof(*g.orbit_busy));
	g.last = calloc(2 * g.rounds + 1, sizeof(*g.last));
	g.efirst = calloc(2 * g.rounds + 1, sizeof(*g.efirst));
	if (!g.subs || !g.orbit_subs || !g.orbit_nsubs || !g.orbit_busy ||
	    !g.last || !g.efirst)
		return ENOMEM;

	for (si = 0; si < g.nsubs; si++) {
		g.subs[si].orbit = (uint16_t)(si % g.norbits);
		g.subs[si].event = -1;
		if (si < g.nsetup)
			++g.orbit_nsubs[si % g.norbits];
	}
	for (o = 0; o < g.norbits; o++) {
		g.orbit_subs[o] = calloc(g.orbit_nsubs[o] + 1,
					 sizeof(**g.orbit_subs));
		if (!g.orbit_subs[o])
			return ENOMEM;
		g.orbit_nsubs[o] = 0;
	}
	for (si = 0; si < g.nsetup; si++) {
		o = g.subs[si].orbit;
		g.orbit_subs[o][g.orbit_nsubs[o]++] = si;
	}

	return 0;
}


static void write_records(void)
{
	FILE *f;
	size_t i;

	if (!g.outfile)
		return;
	f = fopen(g.outfile, "w");
	if (!f) {
		(void)re_fprintf(stderr, "loadgen: %s: %m\n", g.outfile,
				 errno);
		return;
	}
	for (i = 0; i < g.nrec; i++) {
		const struct record *r = &g.rec[i];

		(void)fprintf(f, "%llu %u %u %u %u\n",
			      (unsigned long long)r->t_us, r->sub,
			      g.subs[r->sub].orbit + 1, r->version,
			      r->phase);
	}
	(void)fclose(f);
}


static void signal_handler(int sig)
{
	(void)re_fprintf(stderr, "loadgen: signal %d\n", sig);
	g.exit_code = 3;
	re_cancel();
}


/* -P PID[,PID...] */
static int pids_parse(const char *arg)
{
	char *end;

	g.npids = 0;
	while (*arg) {
		const long v = strtol(arg, &end, 10);

		if (end == arg || v <= 0 || g.npids == MAX_PIDS ||
		    (*end && *end != ','))
			return EINVAL;
		g.pids[g.npids++] = (int)v;
		arg = *end ? end + 1 : end;
	}
	g.pid = g.npids ? g.pids[0] : 0;

	return g.npids ? 0 : EINVAL;
}


static void usage(void)
{
	(void)re_fprintf(stderr,
			 "usage: loadgen -t ADDR:PORT "
			 "[-c CTLPORT | -p ADDR:PORT]\n  "
			 "[-n PHONES] [-k KEYS] [-m ORBITS]\n"
			 "  [-b DNBASE] [-a FIRSTADDR] [-s ADDRS] "
			 "[-w WINDOW] [-r RATE] [-f ROUNDS]\n"
			 "  [-T SECS] [-P PID[,PID...]] [-o FILE] "
			 "[-x EXPIRES] "
			 "[-L SECS] [-W SECS] [-S STORM] [-D PER] "
			 "[-R] [-1] [-Q] [-B]\n");
}


int main(int argc, char *argv[])
{
	struct rlimit rl;
	int c, err;

	/* a phase's line as it ends (a profiler may wait for it) */
	(void)setvbuf(stdout, NULL, _IOLBF, 0);

	g.nphones = 100;
	g.keys = 10;
	g.norbits = 10;
	g.dnbase = 70000;
	g.window = 64;
	g.rounds = 10;
	g.tput_s = 5;
	g.expires = 3600;
	g.event = -1;
	g.libre_round = true;
	g.runid = (unsigned)getpid();
	(void)inet_pton(AF_INET, "127.1.0.1", &g.first);

	while ((c = getopt(argc, argv,
			   "t:c:p:n:k:m:b:a:s:w:r:f:T:P:o:x:L:W:S:D:R1BQ"))
	       != -1) {
		switch (c) {

		case 't':
			if (sa_decode(&g.target, optarg, strlen(optarg))) {
				usage();
				return 2;
			}
			break;

		case 'c': g.ctl_port = (uint16_t)atoi(optarg); break;

		case 'p':
			if (sa_decode(&g.pub_target, optarg,
				      strlen(optarg))) {
				usage();
				return 2;
			}
			g.publish = true;
			break;

		case 'n': g.nphones = (uint32_t)atol(optarg); break;
		case 'k': g.keys = (uint32_t)atol(optarg); break;
		case 'm': g.norbits = (uint32_t)atol(optarg); break;
		case 'b': g.dnbase = (uint32_t)atol(optarg); break;
		case 's': g.naddrs = (uint32_t)atol(optarg); break;
		case 'w': g.window = (uint32_t)atol(optarg); break;
		case 'r': g.rate = (uint32_t)atol(optarg); break;
		case 'f': g.rounds = (uint32_t)atol(optarg); break;
		case 'T': g.tput_s = (uint32_t)atol(optarg); break;
		case 'P':
			if (pids_parse(optarg)) {
				usage();
				return 2;
			}
			break;
		case 'o': g.outfile = optarg; break;
		case 'x': g.expires = (uint32_t)atol(optarg); break;
		case 'L': g.limit_s = (uint32_t)atol(optarg); break;
		case 'W': g.rest_s = (uint32_t)atol(optarg); break;
		case 'S': g.storm = (uint32_t)atol(optarg); break;
		case 'D': g.per_tenant = (uint32_t)atol(optarg); break;
		case 'R': g.route = true; break;
		case '1': g.onesock = true; break;
		case 'B': g.spin = true; break;
		case 'Q': g.libre_round = false; break;

		case 'a':
			if (inet_pton(AF_INET, optarg, &g.first) != 1) {
				usage();
				return 2;
			}
			break;

		default:
			usage();
			return 2;
		}
	}

	if (!sa_isset(&g.target, SA_ALL) || !g.nphones || !g.keys ||
	    !g.norbits || g.norbits > 65535 || !g.window) {
		usage();
		return 2;
	}
	/* the storm's phones come after the set-up's, with addresses of
	   their own */
	g.nsetup = g.nphones * g.keys;
	g.nphones += (g.storm + g.keys - 1) / g.keys;
	if (!g.naddrs || g.naddrs > g.nphones)
		g.naddrs = g.nphones;

	/* one socket per phone */
	if (!getrlimit(RLIMIT_NOFILE, &rl) &&
	    rl.rlim_cur < g.nphones + 64) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}

	err = libre_init();
	if (err)
		return 1;
	(void)fd_setsize((int)g.nphones + 128);
	(void)signal(SIGPIPE, SIG_IGN);

	err = subs_init();
	if (!err)
		g.phones = calloc(g.nphones, sizeof(*g.phones));
	if (!err && !g.phones)
		err = ENOMEM;
	if (!err)
		err = phones_open();
	if (err) {
		(void)re_fprintf(stderr, "loadgen: %u phones: %m\n",
				 g.nphones, err);
		return 1;
	}
	if (g.ctl_port) {
		err = ctl_connect();
		if (err) {
			(void)re_fprintf(stderr, "loadgen: control port "
					 "%u: %m\n", g.ctl_port, err);
			return 1;
		}
	}

	if (g.publish) {
		uint32_t o;

		err = pub_open();
		if (err) {
			(void)re_fprintf(stderr, "loadgen: publisher: %m\n",
					 err);
			return 1;
		}
		/* every orbit idle at the presence server before the
		   phones subscribe, as the PBX's state is at parkblf */
		g.phase = PH_PREPUB;
		for (o = 0; o < g.norbits; o++)
			(void)pub_start(o, NULL);
	}
	else {
		setup_begin();
	}
	tmr_init(&g.tick);
	tmr_init(&g.answer_tmr);
	tick(NULL);

	err = re_main(signal_handler);

	tmr_cancel(&g.tick);
	tmr_cancel(&g.answer_tmr);
	if (g.publish) {
		(void)re_printf("publish sent=%u ok=%u failed=%u "
				"retransmits=%u\n", g.npub, g.npub_ok,
				g.npub_failed, g.npub_retx);
		fd_close(g.pub_fd);
		(void)close(g.pub_fd);
	}
	write_records();
	if (g.ctl_port)
		fd_close(g.ctl_fd);
	if (rx.epfd > 0) {
		fd_close(rx.epfd);
		(void)close(rx.epfd);
	}
	for (c = 0; c < (int)g.nphones && (!g.onesock || c < 1); c++) {
		if (g.libre_round)
			fd_close(g.phones[c].fd);
		(void)close(g.phones[c].fd);
	}
	libre_close();

	return g.exit_code ? g.exit_code : (g.phase == PH_DONE ? 0 : 1);
}

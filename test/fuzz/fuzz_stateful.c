/**
 * @file fuzz_stateful.c  libFuzzer target: a daemon driven by sequences
 *
 * One parkblf (app_alloc: SIP stack, notifier, upstream link, state_db)
 * on loopback, with the fuzzer as its phones and its PBX.  An input is
 * a sequence of operations, each one opcode byte (taken modulo OP_MAX)
 * and its arguments:
 *
 *   OP_SUB     new subscription: phone, target, event, Accept, Expires
 *              (Expires 0 is a fetch); REGISTER, INVITE and OPTIONS too
 *   OP_REFRESH in-dialog SUBSCRIBE on a subscription: Expires, tag
 *   OP_UNSUB   un-SUBSCRIBE (Expires: 0) on a subscription
 *   OP_ANSWER  the phones answer the oldest NOTIFY parkblf sent them
 *              (a status code, or nothing: it is dropped)
 *   OP_NOTIFY  the PBX sends a NOTIFY on the upstream dialog: state,
 *              Content-Type, body from the input
 *   OP_RAW     raw bytes from a phone's address to sip_listen
 *   OP_TIME    time passes (the timers' clock is the fuzzer's): expiry,
 *              retransmissions, refreshes, pacing, the grace period
 *   OP_RESTART parkblf stops and starts again on its state_db: its
 *              subscriptions are resumed from the rows it wrote (the
 *              byte 7 exactly, once per input; 15, 23, ... are OP_TIME)
 *
 * After each operation the loop runs until nothing is left to read: a
 * turn polls every socket libre listens on (fd_listen is defined here,
 * so libre's sockets report to this file rather than to re_main) and
 * runs the timers due.  The PBX answers parkblf's requests itself.
 * When an input ends, its subscriptions are ended and a minute passes;
 * a daemon left with subscriptions (from raw bytes, or resumed by a
 * restart) is replaced by a fresh one with an empty state_db, so that
 * inputs stay independent.
 *
 * Checked beyond the sanitizers: when the input used neither raw bytes
 * nor restarts, and each un-SUBSCRIBE of the phones got a 2xx, no
 * subscription is left.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <poll.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "app.h"
#include "notifier.h"
#include "fuzz.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum op {
	OP_SUB = 0, OP_REFRESH, OP_UNSUB, OP_ANSWER, OP_NOTIFY, OP_RAW,
	OP_TIME, OP_RESTART, OP_MAX
};

enum {
	NPHONES   = 3,     /**< 127.0.0.1 and .2 allowed, .66 not        */
	NSLOTS    = 8,     /**< Subscriptions an input keeps track of    */
	NPENDING  = 32,    /**< NOTIFYs waiting for the phones' answer   */
	NENDS     = 64,    /**< un-SUBSCRIBEs an input keeps track of    */
	MAX_FDS   = 256,
	MAX_TURNS = 256,
	MAX_OPS   = 64,
};

/* What libre listens on (fd_listen below) */
static struct fdent {
	int fd;
	int flags;
	fd_h *fh;
	void *arg;
} fdv[MAX_FDS];
static size_t fdc;

static uint64_t clock_now;      /**< The timers' clock, ms           */

struct phone {
	int fd;
	struct sa addr;
};

struct slot {
	bool used;
	unsigned phone;
	char callid[32];
	char ftag[16];
	char ttag[64];      /**< parkblf's tag, from its first 2xx     */
	char more[3][64];   /**< Its tags of dialogs made since (a
			       SUBSCRIBE without the tag is a new one) */
	char target[16];
	const char *event;
	uint32_t cseq;
};

static struct {
	char dir[64];
	char db[96];
	struct config *cfg;
	struct app *app;
	struct phone phonev[NPHONES];
	int pbx_fd;
	struct sa pbx_addr;
	struct sa listen;
	/* the upstream dialog, as parkblf's SUBSCRIBE set it up */
	char up_callid[128];
	char up_ftag[64];
	char up_from[256];
	char up_contact[256];
	struct sa up_src;
	uint32_t up_cseq;
	uint32_t seq;        /**< Call-IDs, tags and branches, never reused */
	struct slot slotv[NSLOTS];
	struct {
		struct sip_msg *msg;
		unsigned phone;
	} pend[NPENDING];
	unsigned npend;
	/* the un-SUBSCRIBEs sent, and whether each got its 2xx */
	struct {
		char callid[32];
		uint32_t cseq;
		uint16_t scode;
	} endv[NENDS];
	unsigned nends;
	bool dirty;          /**< Input used raw bytes or restarts, or an
				un-SUBSCRIBE went unanswered or refused */
} fz;


/* The fuzzer's clock: it moves only when the input makes time pass
   (OP_TIME), so that a run does not depend on the machine's speed.
   libre and parkblf read it through tmr_jiffies (exported, see fuzz.mk). */
uint64_t tmr_jiffies(void)
{
	return clock_now;
}


int fd_listen(int fd, int flags, fd_h *fh, void *arg)
{
	size_t i;

	for (i = 0; i < fdc; i++) {
		if (fdv[i].fd == fd)
			break;
	}

	if (!flags || !fh) {
		if (i < fdc)
			fdv[i] = fdv[--fdc];
		return 0;
	}

	if (i == fdc) {
		if (fdc == MAX_FDS)
			return EMFILE;
		++fdc;
	}
	fdv[i].fd = fd;
	fdv[i].flags = flags;
	fdv[i].fh = fh;
	fdv[i].arg = arg;

	return 0;
}


void fd_close(int fd)
{
	(void)fd_listen(fd, 0, NULL, NULL);
}


static int udp_open(struct sa *addr, const char *ip)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || sa_set_str(addr, ip, 0) ||
	    bind(fd, &addr->u.sa, addr->len) ||
	    getsockname(fd, &addr->u.sa, &addr->len))
		abort();
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);

	return fd;
}


static void send_to(int fd, const struct sa *dst, const char *buf,
		    size_t len)
{
	(void)sendto(fd, buf, len, 0, &dst->u.sa, dst->len);
}


/* A SIP message received by a phone or the PBX, or NULL */
static struct sip_msg *recv_msg(int fd)
{
	uint8_t buf[65536];
	struct sip_msg *msg = NULL;
	struct mbuf *mb;
	struct sa src;
	ssize_t n;

	sa_init(&src, AF_INET);
	n = recvfrom(fd, buf, sizeof(buf), 0, &src.u.sa, &src.len);
	if (n <= 0)
		return NULL;

	mb = fuzz_mbuf(buf, (size_t)n);
	if (!sip_msg_decode(&msg, mb))
		msg->src = src;
	mem_deref(mb);

	return msg;
}


/* The request's Via, From, To (with tag), Call-ID and CSeq, answered */
static void reply(int fd, const struct sip_msg *msg, uint16_t scode,
		  const char *totag, const char *extra)
{
	char buf[4096];
	struct mbuf mb;
	struct le *le;
	int err;

	mbuf_init(&mb);
	mb.buf = (uint8_t *)buf;
	mb.size = sizeof(buf);

	err = mbuf_printf(&mb, "SIP/2.0 %u Fuzz\r\n", scode);
	for (le = list_head(&msg->hdrl); le && !err; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (hdr->id == SIP_HDR_VIA)
			err = mbuf_printf(&mb, "Via: %r\r\n", &hdr->val);
	}
	err |= mbuf_printf(&mb, "From: %r\r\nTo: %r", &msg->from.val,
			   &msg->to.val);
	if (!pl_isset(&msg->to.tag) && totag)
		err |= mbuf_printf(&mb, ";tag=%s", totag);
	err |= mbuf_printf(&mb, "\r\nCall-ID: %r\r\nCSeq: %u %r\r\n%s"
			   "Content-Length: 0\r\n\r\n", &msg->callid,
			   msg->cseq.num, &msg->cseq.met, extra ? extra : "");
	if (!err)
		send_to(fd, &msg->src, buf, mb.end);
}


static void upstream_notify(const char *state, const char *ctype,
			    const uint8_t *body, size_t len)
{
	char buf[70000];
	int n;

	if (!fz.up_callid[0])
		return;

	n = re_snprintf(buf, sizeof(buf),
			"NOTIFY %s SIP/2.0\r\n"
			"Via: SIP/2.0/UDP %J;branch=z9hG4bK-u%u\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:any-dn@%J>;tag=pbx\r\n"
			"To: %s;tag=%s\r\n"
			"Call-ID: %s\r\n"
			"CSeq: %u NOTIFY\r\n"
			"Contact: <sip:any-dn@%J>\r\n"
			"Event: dialog\r\n"
			"Subscription-State: %s\r\n"
			"Content-Type: %s\r\n"
			"Content-Length: %zu\r\n\r\n",
			fz.up_contact, &fz.pbx_addr, ++fz.seq, &fz.pbx_addr,
			fz.up_from, fz.up_ftag, fz.up_callid, ++fz.up_cseq,
			&fz.pbx_addr, state, ctype, len);
	if (n <= 0 || (size_t)n + len > sizeof(buf))
		return;
	memcpy(buf + n, body, len);
	send_to(fz.pbx_fd, &fz.up_src, buf, (size_t)n + len);
}


static const char idle_body[] =
	"<?xml version=\"1.0\"?>\r\n"
	"<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" "
	"version=\"0\" state=\"full\" entity=\"sip:any-dn@pbx\"/>\r\n";


/* The PBX: parkblf's SUBSCRIBEs and OPTIONS get 200; the first
   SUBSCRIBE of a dialog is followed by the full (idle) state */
static void pbx_recv(struct sip_msg *msg)
{
	const struct sip_hdr *ct;
	struct sip_addr addr;
	char expires[64];
	bool first;

	if (!msg->req)
		return;

	if (pl_strcmp(&msg->met, "SUBSCRIBE")) {
		reply(fz.pbx_fd, msg, 200, "pbx", NULL);
		return;
	}

	first = pl_strcmp(&msg->callid, fz.up_callid) != 0;
	(void)pl_strcpy(&msg->callid, fz.up_callid, sizeof(fz.up_callid));
	(void)pl_strcpy(&msg->from.tag, fz.up_ftag, sizeof(fz.up_ftag));
	(void)re_snprintf(fz.up_from, sizeof(fz.up_from), "<%r>",
			  &msg->from.auri);
	ct = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	if (ct && !sip_addr_decode(&addr, &ct->val))
		(void)re_snprintf(fz.up_contact, sizeof(fz.up_contact), "%r",
				  &addr.auri);
	fz.up_src = msg->src;

	(void)re_snprintf(expires, sizeof(expires),
			  "Expires: %u\r\nContact: <sip:any-dn@%J>\r\n",
			  pl_isset(&msg->expires) ? pl_u32(&msg->expires)
			  : 3600, &fz.pbx_addr);
	reply(fz.pbx_fd, msg, 200, "pbx", expires);

	if (first)
		upstream_notify("active;expires=3600",
				"application/dialog-info+xml",
				(const uint8_t *)idle_body,
				sizeof(idle_body) - 1);
}


static struct slot *slot_of(const struct pl *callid)
{
	size_t i;

	for (i = 0; i < NSLOTS; i++) {
		if (fz.slotv[i].used && !pl_strcmp(callid,
						    fz.slotv[i].callid))
			return &fz.slotv[i];
	}

	return NULL;
}


/* The final answer to one of the un-SUBSCRIBEs sent */
static void end_answered(const struct sip_msg *msg)
{
	unsigned i;

	if (msg->scode < 200)
		return;

	for (i = 0; i < fz.nends; i++) {
		if (!pl_strcmp(&msg->callid, fz.endv[i].callid) &&
		    msg->cseq.num == fz.endv[i].cseq)
			fz.endv[i].scode = msg->scode;
	}
}


static void phone_recv(unsigned phone, struct sip_msg *msg)
{
	if (!msg->req) {
		struct slot *s = slot_of(&msg->callid);
		size_t i;

		end_answered(msg);
		if (!s || msg->scode >= 300 || !pl_isset(&msg->to.tag))
			return;
		if (!s->ttag[0]) {
			(void)pl_strcpy(&msg->to.tag, s->ttag,
					sizeof(s->ttag));
			return;
		}
		if (!pl_strcmp(&msg->to.tag, s->ttag))
			return;
		for (i = 0; i < ARRAY_SIZE(s->more); i++) {
			if (!s->more[i][0]) {
				(void)pl_strcpy(&msg->to.tag, s->more[i],
						sizeof(s->more[i]));
				return;
			}
			if (!pl_strcmp(&msg->to.tag, s->more[i]))
				return;
		}
		fz.dirty = true;  /* more dialogs than it keeps */
		return;
	}

	if (pl_strcmp(&msg->met, "NOTIFY")) {
		reply(fz.phonev[phone].fd, msg, 405, "ph", NULL);
		return;
	}

	if (fz.npend == NPENDING) {
		/* the oldest goes unanswered */
		mem_deref(fz.pend[0].msg);
		memmove(&fz.pend[0], &fz.pend[1],
			sizeof(fz.pend[0]) * (NPENDING - 1));
		--fz.npend;
	}
	fz.pend[fz.npend].msg = mem_ref(msg);
	fz.pend[fz.npend].phone = phone;
	++fz.npend;
}


/* What reached the phones and the PBX; @return Messages read */
static unsigned drain(void)
{
	struct sip_msg *msg;
	unsigned i, n = 0;

	while ((msg = recv_msg(fz.pbx_fd))) {
		pbx_recv(msg);
		mem_deref(msg);
		++n;
	}

	for (i = 0; i < NPHONES; i++) {
		while ((msg = recv_msg(fz.phonev[i].fd))) {
			phone_recv(i, msg);
			mem_deref(msg);
			++n;
		}
	}

	return n;
}


/* Loop turns until nothing is left to read or to run
   @return Messages the phones and the PBX read */
static unsigned pump(void)
{
	struct pollfd pfd[MAX_FDS];
	struct fdent ent[MAX_FDS];
	unsigned turn, total = 0;

	for (turn = 0; turn < MAX_TURNS; turn++) {
		size_t i, nfd = fdc;
		unsigned n;
		int ready;

		tmr_poll(ptmr_libre_list());

		memcpy(ent, fdv, nfd * sizeof(ent[0]));
		for (i = 0; i < nfd; i++) {
			pfd[i].fd = ent[i].fd;
			pfd[i].events = (ent[i].flags & FD_READ ? POLLIN : 0)
				| (ent[i].flags & FD_WRITE ? POLLOUT : 0);
			pfd[i].revents = 0;
		}

		ready = poll(pfd, nfd, 0);
		for (i = 0; ready > 0 && i < nfd; i++) {
			size_t j;
			int flags = 0;

			if (pfd[i].revents & POLLIN)
				flags |= FD_READ;
			if (pfd[i].revents & POLLOUT)
				flags |= FD_WRITE;
			if (pfd[i].revents & (POLLERR | POLLHUP))
				flags |= FD_EXCEPT;
			if (!flags)
				continue;

			/* a handler before may have closed it */
			for (j = 0; j < fdc; j++) {
				if (fdv[j].fd == ent[i].fd &&
				    fdv[j].fh == ent[i].fh &&
				    fdv[j].arg == ent[i].arg)
					break;
			}
			if (j < fdc)
				ent[i].fh(flags, ent[i].arg);
		}

		/* timers due ran first; what they sent is read by now */
		n = drain();
		total += n;
		if (n == 0 && ready <= 0)
			break;
	}

	return total;
}


static void advance(uint64_t ms)
{
	clock_now += ms;
	(void)pump();
}


static void config_text(char *buf, size_t sz)
{
	(void)re_snprintf(buf, sz,
		"sip_listen\t%J\n"
		"upstream_uri\tsip:any-dn@%J\n"
		"upstream_keepalive\t15\n"
		"upstream_grace\t5\n"
		"orbit_map\t%s/orbits.conf\n"
		"state_db\t%s\n"
		"blf_list\tall-parks\n"
		"subscribe_allow\t127.0.0.1/32,127.0.0.2/32\n"
		"subscribe_max_total\t12\n"
		"subscribe_max_per_source\t6\n"
		"subscribe_min_expires\t30\n"
		"subscribe_max_expires\t3600\n"
		"notify_min_interval\t200\n"
		"notify_phone_rate\t10\n"
		FUZZ_VENDOR_CONF,
		&fz.listen, &fz.pbx_addr, fz.dir, fz.db);
}


/* A free port for sip_listen, and the config naming it */
static void config_make(void)
{
	char text[2048];
	struct sa sa;
	int fd;

	fd = udp_open(&sa, "127.0.0.1");
	fz.listen = sa;
	(void)close(fd);

	config_set_current(NULL);
	fz.cfg = mem_deref(fz.cfg);
	config_text(text, sizeof(text));
	if (config_parse(&fz.cfg, "/etc/parkblf/parkblf.conf",
			 (const uint8_t *)text, strlen(text), NULL))
		abort();
	config_set_current(fz.cfg);
}


static void app_start(void)
{
	unsigned tries = 0;

	fz.up_callid[0] = '\0';
	fz.up_cseq = 0;
	/* on a busy host another socket may take the port while parkblf
	   restarts (EADDRINUSE): another port then */
	while (app_alloc(&fz.app, fz.cfg, fuzz_map)) {
		if (++tries == 5)
			abort();
		config_make();
	}
	/* the upstream SUBSCRIBE, the PBX's answer and first NOTIFY */
	advance(0);
	advance(1500);
	if (!fz.up_callid[0])
		abort();
}


static void app_stop(void)
{
	fz.app = mem_deref(fz.app);
}


static void db_remove(void)
{
	char f[128];

	(void)unlink(fz.db);
	(void)re_snprintf(f, sizeof(f), "%s-wal", fz.db);
	(void)unlink(f);
	(void)re_snprintf(f, sizeof(f), "%s-shm", fz.db);
	(void)unlink(f);
}


static void cleanup_dir(void)
{
	char f[128];

	db_remove();
	(void)re_snprintf(f, sizeof(f), "%s/orbits.conf", fz.dir);
	(void)unlink(f);
	(void)rmdir(fz.dir);
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char f[128];
	FILE *fp;
	(void)argc;
	(void)argv;

	clock_now = 1000000;
	fuzz_init();

	(void)re_snprintf(fz.dir, sizeof(fz.dir), "%s/parkblf-fuzz.XXXXXX",
			  getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(fz.dir))
		abort();
	(void)re_snprintf(fz.db, sizeof(fz.db), "%s/state.db", fz.dir);
	(void)re_snprintf(f, sizeof(f), "%s/orbits.conf", fz.dir);
	fp = fopen(f, "w");
	if (!fp)
		abort();
	(void)fputs(FUZZ_ORBITS, fp);
	(void)fclose(fp);
	(void)atexit(cleanup_dir);

	fz.pbx_fd = udp_open(&fz.pbx_addr, "127.0.0.1");
	fz.phonev[0].fd = udp_open(&fz.phonev[0].addr, "127.0.0.1");
	fz.phonev[1].fd = udp_open(&fz.phonev[1].addr, "127.0.0.2");
	fz.phonev[2].fd = udp_open(&fz.phonev[2].addr, "127.0.0.66");

	config_make();
	log_set_level(LOG_LEVEL_DEBUG);

	db_remove();
	app_start();

	return 0;
}


/* Input reader: missing bytes read as 0 */
struct in {
	const uint8_t *p;
	size_t left;
};

static uint8_t in_u8(struct in *in)
{
	if (!in->left)
		return 0;
	--in->left;
	return *in->p++;
}


static size_t in_bytes(struct in *in, const uint8_t **p, size_t max)
{
	size_t len = in_u8(in);

	len = (len << 8 | in_u8(in)) % (max + 1);
	if (len > in->left)
		len = in->left;
	*p = in->p;
	in->p += len;
	in->left -= len;

	return len;
}


static const char *const targets[] = {
	"park-1", "park-2", "park-3", "ext-100", "id-7001", "all-parks",
	"nosuch", "*00",
};

static const char *const events[] = {
	"dialog", "presence", "dialog;id=7", "message-summary", "dialog",
};

static const char *const accepts[] = {
	"",
	"Accept: application/dialog-info+xml\r\n",
	"Accept: application/pidf+xml\r\n",
	("Accept: application/rlmi+xml, multipart/related, "
	 "application/dialog-info+xml\r\n"),
	"Accept: text/plain\r\n",
};

static const char *const expiresv[] = {
	"", "Expires: 0\r\n", "Expires: 1\r\n", "Expires: 60\r\n",
	"Expires: 3600\r\n", "Expires: 4294967295\r\n", "Expires: x\r\n",
	"Expires: 300\r\n",
};


static void subscribe(struct slot *s, const char *expires, const char *ttag)
{
	const struct phone *ph = &fz.phonev[s->phone];
	char buf[2048];
	int n;

	n = re_snprintf(buf, sizeof(buf),
			"SUBSCRIBE sip:%s@%J SIP/2.0\r\n"
			"Via: SIP/2.0/UDP %J;branch=z9hG4bK-p%u;rport\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:20%u@127.0.0.1>;tag=%s\r\n"
			"To: <sip:%s@127.0.0.1>%s%s\r\n"
			"Call-ID: %s\r\n"
			"CSeq: %u SUBSCRIBE\r\n"
			"Contact: <sip:20%u@%J>\r\n"
			"Event: %s\r\n"
			"Supported: eventlist\r\n"
			"%s"
			"Content-Length: 0\r\n\r\n",
			s->target, &fz.listen, &ph->addr, ++fz.seq, s->phone,
			s->ftag, s->target, ttag[0] ? ";tag=" : "", ttag,
			s->callid, ++s->cseq, s->phone, &ph->addr, s->event,
			expires);
	if (n > 0)
		send_to(ph->fd, &fz.listen, buf, (size_t)n);
}


/* un-SUBSCRIBE a dialog of the slot, keeping track of the answer */
static void unsubscribe(struct slot *s, const char *ttag)
{
	subscribe(s, "Expires: 0\r\n", ttag);

	if (fz.nends == NENDS) {
		fz.dirty = true;
		return;
	}
	str_ncpy(fz.endv[fz.nends].callid, s->callid,
		 sizeof(fz.endv[0].callid));
	fz.endv[fz.nends].cseq = s->cseq;
	fz.endv[fz.nends].scode = 0;
	++fz.nends;
}


/* un-SUBSCRIBE every dialog the slot knows */
static void slot_end(struct slot *s)
{
	size_t j;

	if (!s->used)
		return;

	if (s->ttag[0])
		unsubscribe(s, s->ttag);
	for (j = 0; j < ARRAY_SIZE(s->more); j++) {
		if (s->more[j][0])
			unsubscribe(s, s->more[j]);
	}
}


static void other_request(struct in *in, unsigned phone)
{
	static const char *const methods[] = {
		"REGISTER", "INVITE", "OPTIONS", "MESSAGE",
	};
	const struct phone *ph = &fz.phonev[phone];
	const char *met = methods[in_u8(in) % 4];
	const char *target = targets[in_u8(in) % 8];
	char buf[2048];
	int n;

	++fz.seq;
	n = re_snprintf(buf, sizeof(buf),
			"%s sip:%s@%J SIP/2.0\r\n"
			"Via: SIP/2.0/UDP %J;branch=z9hG4bK-o%u;rport\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:20%u@127.0.0.1>;tag=o%u\r\n"
			"To: <sip:%s@127.0.0.1>\r\n"
			"Call-ID: o%u@fuzz\r\n"
			"CSeq: 1 %s\r\n"
			"Contact: <sip:20%u@%J>\r\n"
			"Expires: %u\r\n"
			"Content-Length: 0\r\n\r\n",
			met, target, &fz.listen, &ph->addr, fz.seq, phone,
			fz.seq, target, fz.seq, met, phone, &ph->addr,
			in_u8(in) * 30);
	if (n > 0)
		send_to(ph->fd, &fz.listen, buf, (size_t)n);
}


static void op_sub(struct in *in)
{
	const uint8_t a = in_u8(in);
	const unsigned phone = (a & 3) % NPHONES;
	struct slot *s = &fz.slotv[(a >> 2) % NSLOTS];

	if ((a >> 5) == 7) {
		other_request(in, phone);
		return;
	}

	/* a slot taken over: its subscriptions end first */
	slot_end(s);
	(void)pump();
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->phone = phone;
	++fz.seq;
	(void)re_snprintf(s->callid, sizeof(s->callid), "s%u@fuzz", fz.seq);
	(void)re_snprintf(s->ftag, sizeof(s->ftag), "f%u", fz.seq);
	str_ncpy(s->target, targets[in_u8(in) % 8], sizeof(s->target));
	s->event = events[in_u8(in) % 5];
	s->cseq = in_u8(in);

	{
		char hdrs[256];
		const uint8_t b = in_u8(in);

		(void)re_snprintf(hdrs, sizeof(hdrs), "%s%s",
				  accepts[b % 5], expiresv[(b >> 3) % 8]);
		subscribe(s, hdrs, "");
	}
}


static void op_refresh(struct in *in, bool end)
{
	const uint8_t a = in_u8(in);
	struct slot *s = &fz.slotv[a % NSLOTS];
	const char *ttag = s->ttag;

	if (!s->used)
		return;

	/* now and then, a wrong tag, or none */
	if (a & 0x40)
		ttag = (a & 0x80) ? "wrong" : "";

	subscribe(s, end ? "Expires: 0\r\n" : expiresv[(a >> 3) % 8], ttag);
}


static void answer(unsigned i, uint16_t scode)
{
	static const uint16_t codes[] = {
		200, 200, 200, 202, 481, 408, 500, 503, 489, 100, 0, 404,
		486, 600, 302, 200,
	};
	uint16_t code = codes[scode % 16];

	if (i >= fz.npend)
		return;

	if (code)
		reply(fz.phonev[fz.pend[i].phone].fd, fz.pend[i].msg, code,
		      NULL, scode & 0x10 ? "Retry-After: 5\r\n" : NULL);

	/* a 100 Trying leaves it pending */
	if (code == 100)
		return;

	mem_deref(fz.pend[i].msg);
	memmove(&fz.pend[i], &fz.pend[i + 1],
		sizeof(fz.pend[0]) * (fz.npend - i - 1));
	--fz.npend;
}


static void op_notify(struct in *in)
{
	static const char *const states[] = {
		"active;expires=3600", "active", "pending",
		"terminated;reason=timeout", "terminated;reason=noresource",
		"terminated;reason=deactivated;retry-after=1", "bogus",
		"active;expires=0",
	};
	static const char *const ctypes[] = {
		"application/dialog-info+xml",
		"application/pidf+xml",
		"application/x-3cx-dn+xml",
		"multipart/related;type=\"application/rlmi+xml\";"
		"boundary=\"b\"",
		"multipart/related;type=\"application/rlmi+xml\";"
		"boundary=\"pidf-b\"",
		"text/plain",
	};
	const uint8_t a = in_u8(in);
	const uint8_t *body;
	size_t len = in_bytes(in, &body, 16384);

	upstream_notify(states[a % 8], ctypes[(a >> 3) % 6], body, len);
}


static void op_raw(struct in *in)
{
	const uint8_t a = in_u8(in);
	const uint8_t *p;
	size_t len = in_bytes(in, &p, 8192);
	const struct phone *ph = &fz.phonev[a % NPHONES];

	fz.dirty = true;
	send_to(ph->fd, &fz.listen, (const char *)p, len);
}


static void op_restart(void)
{
	fz.dirty = true;
	app_stop();
	while (fz.npend)
		answer(0, 10);   /* left unanswered */
	app_start();
}


/* Up to a minute passes, the phones answering every NOTIFY, until
   parkblf keeps no subscription and nothing moves */
static void minute_passes(void)
{
	const struct notifier *nt = app_notifier(fz.app);
	unsigned t;

	for (t = 0; t < 70; t++) {
		unsigned n = pump() + fz.npend;

		while (fz.npend)
			answer(0, 0);
		if (!n && t >= 2 && !notifier_count(nt))
			break;
		clock_now += 1000;
	}
	(void)pump();
}


/* Every subscription ends; a minute passes with the phones answering */
static void input_end(void)
{
	/* the notifier, as app.c holds it (app_notifier is for readers) */
	struct notifier *nt = (struct notifier *)app_notifier(fz.app);
	size_t i;

	for (i = 0; i < NSLOTS; i++)
		slot_end(&fz.slotv[i]);
	minute_passes();

	/* only when every un-SUBSCRIBE got its 2xx is a subscription left
	   a fault (a 481 for one parkblf ended itself is no fault) */
	for (i = 0; i < fz.nends; i++) {
		if (fz.endv[i].scode < 200 || fz.endv[i].scode >= 300)
			fz.dirty = true;
	}

	if (notifier_count(nt) && !fz.dirty) {
		(void)re_fprintf(stderr, "fuzz_stateful: %u subscription(s) "
				 "left after every phone ended its own\n",
				 notifier_count(nt));
		abort();
	}

	/* subscriptions made by raw bytes, or resumed by a restart: parkblf
	   ends them; should any stay, a fresh daemon on an empty state_db
	   takes over, so that inputs stay independent */
	if (notifier_count(nt)) {
		notifier_close_all(nt, SIPEVENT_DEACTIVATED, 0);
		minute_passes();
	}
	if (notifier_count(nt)) {
		app_stop();
		db_remove();
		app_start();
	}

	memset(fz.slotv, 0, sizeof(fz.slotv));
	fz.nends = 0;
	fz.dirty = false;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	bool restarted = false;
	unsigned ops = 0;

	while (in.left && ops++ < MAX_OPS) {
		const uint8_t opb = in_u8(&in);
		enum op op = opb % OP_MAX;

		/* a restart costs as much as hundreds of messages: only the
		   byte OP_RESTART itself, once per input; its other bytes
		   make time pass */
		if (op == OP_RESTART && (opb != OP_RESTART || restarted))
			op = OP_TIME;

		switch (op) {

		case OP_SUB:
			op_sub(&in);
			break;

		case OP_REFRESH:
			op_refresh(&in, false);
			break;

		case OP_UNSUB:
			op_refresh(&in, true);
			break;

		case OP_ANSWER: {
			const uint8_t a = in_u8(&in);

			answer(a >> 4, a & 0x0f);
			break;
		}

		case OP_NOTIFY:
			op_notify(&in);
			break;

		case OP_RAW:
			op_raw(&in);
			break;

		case OP_TIME:
			advance((uint64_t)in_u8(&in) * 250);
			break;

		case OP_RESTART:
			op_restart();
			restarted = true;
			break;

		default:
			break;
		}

		(void)pump();
	}

	input_end();

	return 0;
}

/**
 * @file sippin.c  Requests to phones from the socket they spoke to
 *
 * libre 1.1.0 sends every request of its own (its notifier's NOTIFYs
 * of BLF lists, final NOTIFYs, anything through sip_request) from the
 * first UDP socket of the address family, with that socket's address
 * in the Via (and the notifier's Contact), whichever socket the phone
 * spoke to.  With several sockets (sip_listen lines, sip_listen
 * 0.0.0.0 expanded, tenant_listen) a phone behind a NAT or firewall
 * that lets in only what comes from the address it sent to never gets
 * them.  So a dialog that spoke to another socket has a pin (its
 * Call-ID and that socket's address, sippin_alloc), and libre's first
 * socket gets a send helper: a request with a pinned Call-ID leaves
 * from the pinned socket instead, its top Via and its Contact naming
 * that socket's address.  That first socket may get no request of its
 * own, so sippin_probe makes it read one: an OPTIONS it sends to
 * itself, known by a Call-ID of this process's and dropped
 * (sipsock_tune, sippin_is_probe).  Every other UDP socket gets one
 * from it too (sippin_probe_sock): right after a restart, before any
 * phone has spoken to them, the resumed dialogs' NOTIFYs and the NAT
 * keepalives (natkeep.c) leave from the socket each phone spoke to,
 * not from libre's.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#define _GNU_SOURCE 1  /* memmem */
#include <string.h>
#include <strings.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "natkeep.h"


enum {
	PIN_HASH_SIZE = 256,
	PROBE_WAIT    = 128,           /**< Sockets added before the probe */
	PIN_LINGER_MS = 32000,         /**< 64*T1: libre's retransmissions */
};

/** A dialog whose requests through libre leave from its own socket */
struct sippin {
	struct le he;                  /**< In pins.by_callid             */
	struct le le;                  /**< In pins.lingering, if it is   */
	struct ptmr tmr;               /**< Lingering: until freed        */
	struct sa laddr;               /**< The socket's address          */
	struct pl callid;              /**< Points into cid               */
	char cid[];
};

static struct {
	struct hash *by_callid;
	struct list lingering;         /**< Released, libre may resend    */
	uint32_t n;                    /**< Pins alive                    */
	struct sa pick[2];             /**< libre's sockets, IPv4 and v6  */
	char probe[40];                /**< Call-ID of sippin_probe's     */
	const struct sip *sip;         /**< The stack sippin_probe had    */
	struct {
		const struct sip *sip;
		struct sa laddr;
	} wait[PROBE_WAIT];            /**< sippin_probe_sock's before it */
	unsigned nwait;
} pins;

static bool pin_cmp(struct le *le, void *arg)
{
	const struct sippin *pin = le->data;

	return !pl_cmp(&pin->callid, arg);
}


/* The newest pin of a Call-ID */
static struct sippin *pin_find(const struct pl *callid)
{
	struct sippin *found = NULL;
	struct le *le;

	if (!pins.by_callid)
		return NULL;

	le = list_head(hash_list(pins.by_callid, hash_joaat_pl(callid)));
	for (; le; le = le->next) {
		if (pin_cmp(le, (void *)callid))
			found = le->data;
	}

	return found;
}


/* The value of a header written in full (as libre and parkblf write
   them) in the head of a request */
static bool head_value(struct pl *val, const char *p, size_t hlen,
		       const char *name)
{
	const size_t nlen = strlen(name);
	const char *h = memmem(p, hlen, name, nlen), *e;

	if (!h)
		return false;

	h += nlen;
	e = memchr(h, '\r', hlen - (size_t)(h - p));
	if (!e)
		return false;
	while (h < e && (*h == ' ' || *h == '\t'))
		++h;
	while (e > h && (e[-1] == ' ' || e[-1] == '\t'))
		--e;
	val->p = h;
	val->l = (size_t)(e - h);

	return val->l > 0;
}


static bool one_of(char c, const char *set)
{
	return c && strchr(set, c);
}


/* Copy a head line to mb, with each address text `from` (bounded: not
   part of a longer address) as `to` */
static int line_rewrite(struct mbuf *mb, const char *p, size_t len,
			const struct pl *from, const struct pl *to)
{
	const char *end = p + len;
	int err = 0;

	while (p < end && !err) {
		const char *m = memmem(p, (size_t)(end - p), from->p, from->l);
		const char *a;

		if (!m)
			break;
		a = m + from->l;
		if ((m == p || one_of(m[-1], " @:<")) &&
		    (a == end || !one_of(*a, "0123456789."))) {
			err |= mbuf_write_mem(mb, (const uint8_t *)p,
					      (size_t)(m - p));
			err |= mbuf_write_pl(mb, to);
		}
		else {
			err |= mbuf_write_mem(mb, (const uint8_t *)p,
					      (size_t)(a - p));
		}
		p = a;
	}

	if (!err && p < end)
		err = mbuf_write_mem(mb, (const uint8_t *)p,
				     (size_t)(end - p));

	return err;
}


/* The request as the pinned socket sends it: its address in the top
   Via and in the Contact */
static int request_rewrite(struct mbuf *mb, const char *p, size_t len,
			   size_t hlen, const struct sa *from,
			   const struct sa *to)
{
	char ftext[64], ttext[64];
	struct pl fpl, tpl;
	const char *q = p, *hend = p + hlen;
	bool via = false;
	int err = 0;

	if (re_snprintf(ftext, sizeof(ftext), "%J", from) < 0 ||
	    re_snprintf(ttext, sizeof(ttext), "%J", to) < 0)
		return ENOMEM;
	pl_set_str(&fpl, ftext);
	pl_set_str(&tpl, ttext);

	while (q < hend && !err) {
		const char *e = memmem(q, (size_t)(hend - q), "\r\n", 2);
		size_t l = e ? (size_t)(e + 2 - q) : (size_t)(hend - q);
		bool mine = false;

		if (!via && !strncasecmp(q, "Via:", 4)) {
			via = mine = true;
		}
		else if (!strncasecmp(q, "Contact:", 8)) {
			mine = true;
		}

		if (mine)
			err = line_rewrite(mb, q, l, &fpl, &tpl);
		else
			err = mbuf_write_mem(mb, (const uint8_t *)q, l);
		q += l;
	}

	if (!err)
		err = mbuf_write_mem(mb, (const uint8_t *)hend, len - hlen);

	return err;
}


/* The pin that moves a datagram a UDP socket at laddr is about to send
   (libre's own request, not parkblf's with its branch, nor an
   answer, of a pinned dialog), or NULL; *hlenp: its head's length */
static struct sippin *pin_moving(const struct sa *laddr,
				 const struct sa *dst, const char *p,
				 size_t len, size_t *hlenp)
{
	struct sippin *pin;
	const char *h;
	struct pl v;

	if (!pins.n || len < 8 || !memcmp(p, "SIP/2.0 ", 8))
		return NULL;

	h = memmem(p, len, "\r\n\r\n", 4);
	if (!h || !head_value(&v, p, (size_t)(h + 2 - p), "\r\nCall-ID:"))
		return NULL;

	pin = pin_find(&v);
	if (!pin || sa_cmp(&pin->laddr, laddr, SA_ALL))
		return NULL;

	if (head_value(&v, p, (size_t)(h + 2 - p), "\r\nVia:") &&
	    memmem(v.p, v.l, "branch=" NATKEEP_BRANCH_PREFIX,
		   strlen("branch=" NATKEEP_BRANCH_PREFIX)))
		return NULL;

	if (sipsock_fd(&pin->laddr) < 0 || sa_af(&pin->laddr) != sa_af(dst))
		return NULL;

	*hlenp = (size_t)(h + 4 - p);

	return pin;
}


/**
 * Whether sippin_send moves a datagram (the wire dump then records
 * what it sends instead, wiredump.c)
 *
 * @param laddr The sending socket's local address
 * @param dst   Where it goes
 * @param p     The datagram
 * @param len   Its length
 *
 * @return true if it leaves from another socket, rewritten
 */
bool sippin_moves(const struct sa *laddr, const struct sa *dst,
		  const uint8_t *p, size_t len)
{
	size_t hlen;

	return laddr && dst && p &&
		pin_moving(laddr, dst, (const char *)p, len, &hlen) != NULL;
}


/**
 * A datagram a UDP socket is about to send: libre's own request (not
 * parkblf's, with its branch, nor an answer) of a pinned dialog leaves
 * from the pinned socket instead, and is what the wire dump records
 *
 * @param err   Where to store how that went
 * @param laddr The sending socket's local address
 * @param dst   Where it goes
 * @param mb    The datagram
 *
 * @return true if sent here (err says how), false to send it as it is
 */
bool sippin_send(int *err, const struct sa *laddr, const struct sa *dst,
		 struct mbuf *mb)
{
	const char *p = (const char *)mbuf_buf(mb);
	const size_t len = mbuf_get_left(mb);
	struct sippin *pin;
	struct mbuf *out;
	size_t hlen;

	pin = pin_moving(laddr, dst, p, len, &hlen);
	if (!pin)
		return false;

	out = mbuf_alloc(len + 64);
	if (!out) {
		*err = ENOMEM;
		return true;
	}

	*err = request_rewrite(out, p, len, hlen, laddr, &pin->laddr);
	if (!*err) {
		out->pos = 0;
		wiredump_tx(out);
		if (sendto(sipsock_fd(&pin->laddr), out->buf, out->end, 0,
			   &dst->u.sa, dst->len) < 0)
			*err = errno;
	}
	mem_deref(out);

	return true;
}


/**
 * Whether a request is sippin_probe's OPTIONS: from a socket to itself,
 * with this process's Call-ID
 *
 * @param msg Request
 *
 * @return true if so (it is dropped)
 */
bool sippin_is_probe(const struct sip_msg *msg)
{
	const struct sa *pick = &pins.pick[sa_af(&msg->src) == AF_INET6];

	return pins.probe[0] && (sa_cmp(&msg->src, &msg->dst, SA_ALL) ||
				 sa_cmp(&msg->src, pick, SA_ALL)) &&
		!pl_strcmp(&msg->callid, pins.probe);
}


/* The probe OPTIONS to a socket of the stack, from libre's */
static void probe_send(struct sip *sip, const struct sa *la)
{
	struct mbuf *mb = mbuf_alloc(512);

	if (!mb)
		return;

	if (!mbuf_printf(mb, "OPTIONS sip:probe@%J SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP %J;branch=z9hG4bK%016llx\r\n"
			 "Max-Forwards: 70\r\n"
			 "To: <sip:probe@%J>\r\n"
			 "From: <sip:probe@%J>;tag=%08x\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: 1 OPTIONS\r\n"
			 "Content-Length: 0\r\n\r\n",
			 la, &pins.pick[sa_af(la) == AF_INET6],
			 (unsigned long long)randbuf_u64(), la, la,
			 randbuf_u32(), pins.probe)) {
		mb->pos = 0;
		if (sip_send(sip, NULL, SIP_TRANSP_UDP, la, mb))
			log_warn("sip: %J: no probe sent", la);
	}
	mem_deref(mb);
}


/**
 * Make the UDP socket libre sends its requests from (the first of each
 * address family) known to parkblf now, by an OPTIONS from it to
 * itself that sipsock_tune takes (sippin_is_probe): the send helper
 * that moves pinned dialogs' requests to their sockets is on it before
 * any request of theirs.  Once per stack, after its transports are
 * added.
 *
 * @param sip The phones' SIP stack
 */
void sippin_probe(struct sip *sip)
{
	static const int afv[] = {AF_INET, AF_INET6};
	unsigned i;

	if (!sip)
		return;

	if (!pins.probe[0])
		(void)re_snprintf(pins.probe, sizeof(pins.probe),
				  "parkblf-probe-%016llx",
				  (unsigned long long)randbuf_u64());

	for (i = 0; i < ARRAY_SIZE(afv); i++) {
		struct sa any, la;

		sa_init(&any, afv[i]);
		if (sip_transp_laddr(sip, &la, SIP_TRANSP_UDP, &any))
			continue;
		pins.pick[i] = la;
		if (!sipsock_find(&la))
			probe_send(sip, &la);
	}

	pins.sip = sip;
	for (i = 0; i < pins.nwait; i++) {
		if (pins.wait[i].sip == sip)
			sippin_probe_sock(sip, &pins.wait[i].laddr);
	}
	pins.nwait = 0;
}


/**
 * Make a UDP socket of the phones' stack known to parkblf at once
 * (tapped, sipsock_tune), by a probe OPTIONS from libre's socket: the
 * dialogs and NAT bindings resumed from state_db on it then send from
 * it before any phone has spoken to it.  A socket added before
 * sippin_probe is probed by it (if of its stack); one of another stack
 * is not.
 *
 * @param sip   Its SIP stack
 * @param laddr The socket's local address
 */
void sippin_probe_sock(struct sip *sip, const struct sa *laddr)
{
	const struct sa *pick;

	if (!sip || !laddr)
		return;

	if (!pins.sip) {
		if (pins.nwait < PROBE_WAIT) {
			pins.wait[pins.nwait].sip = sip;
			pins.wait[pins.nwait++].laddr = *laddr;
		}
		return;
	}

	pick = &pins.pick[sa_af(laddr) == AF_INET6];
	if (sip != pins.sip || !sa_isset(pick, SA_ALL) ||
	    sa_cmp(pick, laddr, SA_ALL) || sipsock_find(laddr))
		return;

	probe_send(sip, laddr);
}


static void pin_destructor(void *arg)
{
	struct sippin *pin = arg;

	hash_unlink(&pin->he);
	list_unlink(&pin->le);
	ptmr_cancel(&pin->tmr);
	--pins.n;
}


/**
 * Pin a dialog's requests through libre to the UDP socket the phone
 * spoke to, where that is not the one libre sends from
 *
 * @param pinp   Where to store the pin; NULL if none is needed (or
 *               parkblf does not know the socket)
 * @param callid The dialog's Call-ID
 * @param laddr  The socket's local address (msg->dst)
 *
 * @return 0 if success, otherwise errorcode
 */
int sippin_alloc(struct sippin **pinp, const struct pl *callid,
		const struct sa *laddr)
{
	struct sippin *pin;
	const struct sa *pick;

	if (!pinp || !pl_isset(callid) || !laddr)
		return EINVAL;

	*pinp = NULL;
	if (!sa_isset(laddr, SA_ALL) || sa_is_any(laddr))
		return 0;

	/* no probe (one stack's, sippin_probe), or libre's own socket */
	pick = &pins.pick[sa_af(laddr) == AF_INET6];
	if (!sa_isset(pick, SA_ALL) || sa_cmp(pick, laddr, SA_ALL))
		return 0;

	if (!sipsock_find(laddr) || !sipsock_find(pick)) {
		log_debug("sip: %r: %J or %J not tapped: its requests through "
			  "libre leave from %J", callid, laddr, pick, pick);
		return 0;
	}

	if (!pins.by_callid &&
	    hash_alloc(&pins.by_callid, PIN_HASH_SIZE))
		return ENOMEM;

	pin = mem_zalloc(sizeof(*pin) + callid->l + 1, pin_destructor);
	if (!pin)
		return ENOMEM;

	ptmr_init(&pin->tmr);
	pin->laddr = *laddr;
	memcpy(pin->cid, callid->p, callid->l);
	pin->callid.p = pin->cid;
	pin->callid.l = callid->l;
	hash_append(pins.by_callid, hash_joaat_pl(callid), &pin->he, pin);
	++pins.n;

	*pinp = pin;

	return 0;
}


static void linger_end(void *arg)
{
	mem_deref(arg);
}


/**
 * Let go of a pin, which stays while libre may still retransmit a
 * request of its dialog (64*T1)
 *
 * @param pin The pin (its reference is taken), or NULL
 */
void sippin_linger(struct sippin *pin)
{
	if (!pin)
		return;

	if (pin->le.list) {
		mem_deref(pin);  /* lingering already */
		return;
	}

	list_append(&pins.lingering, &pin->le, pin);
	ptmr_start(&pin->tmr, PIN_LINGER_MS, linger_end, pin);
}


/**
 * Forget the pins let go of, and the sockets libre sends from (before
 * the SIP stack is freed)
 */
void sippin_reset(void)
{
	list_flush(&pins.lingering);
	if (!pins.n)
		pins.by_callid = mem_deref(pins.by_callid);
	memset(pins.pick, 0, sizeof(pins.pick));
	pins.sip = NULL;
	pins.nwait = 0;
}

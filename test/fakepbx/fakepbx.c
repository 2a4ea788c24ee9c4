/**
 * @file fakepbx.c  Fake PBX for the parkblf integration tests and demo
 *
 * A scriptable SIP notifier: it accepts SUBSCRIBEs to one aggregate
 * resource (sip:any-dn@HOST, Event: dialog) and sends the state of
 * every parking DN it knows in NOTIFYs, driven by commands.
 *
 * Usage:
 *
 *   fakepbx -l ADDR:PORT [-u USER -p PASSWORD] [-r REALM] [-c ADDR:PORT]
 *           [-P PORTFILE] [-s SCRIPT] [-f dialog|rlmi|pidf] [-d DNLIST]
 *           [-e EVENTS] [-n RESOURCE] [-v]
 *
 *   -l  SIP listen address, UDP and TCP on the same port ("127.0.0.1:0",
 *       "[::1]:0"; port 0 = the OS picks one free for both)
 *   -u  digest user required of subscribers (with -p); without -u no
 *       authentication.  Wrong credentials get 401 again.
 *   -r  digest realm (default "fakepbx")
 *   -c  control listen address, TCP (default 127.0.0.1:0)
 *   -P  once listening, write "sip=PORT control=PORT\n" to this file
 *       (via FILE.tmp + rename); the same line always goes to stdout
 *   -s  command script run from start-up (see below)
 *   -f  body format: dialog (RFC 4235, one NOTIFY per DN), rlmi
 *       (RFC 4662 multipart/related, one NOTIFY for all DNs) or pidf
 *       (RFC 3863, one NOTIFY per DN); default dialog
 *   -d  comma list of known DNs
 *       (default *00,*01,*02,*03,*04,*05,*06,*07,*08,*09,100,101,102)
 *   -e  comma list of accepted event packages (default dialog)
 *   -n  accepted Request-URI user (default any-dn; others get 404);
 *       a Request-URI parameter ;dns=LO-HI limits that subscription to
 *       the numeric DNs LO..HI (one fake PBX as many tenants' PBXs)
 *   -v  also dump every SIP message sent and received to stderr
 *
 * SIP: an initial SUBSCRIBE is checked in this order: refuse mode
 * (the refusal code), Event (400 if missing, 489 + Allow-Events if not
 * accepted), credentials (401), R-URI user (404).  Then 200 OK with
 * Expires (requested, at most 3600, 600 if absent) and Contact, and at
 * once the initial burst: the full state of every known DN, in DN
 * order (-d order, then DNs made known by park), one NOTIFY per DN or
 * one RLMI NOTIFY for all.  A refresh
 * gets 200 and the burst again; Expires: 0 gets 200 and a NOTIFY
 * "terminated;reason=timeout"; expiry sends the same.  A refresh while
 * refusing gets the refusal code and the subscription is dropped.
 * NOTIFYs of one subscription are queued and sent one at a time, the
 * next after the previous got its final response, so a burst arrives
 * complete and in order.  A NOTIFY answered 481 or timing out (32 s)
 * removes the subscription; other failures are logged only.  NOTIFYs
 * ending a subscription carry no body.  dialog-info versions count
 * from 0 per DN and subscription; the RLMI list version from 0 per
 * subscription.  The URIs in bodies use the host of the SUBSCRIBE's
 * Request-URI.
 *
 * Commands (control socket: TCP, one per line, exactly one reply line
 * "ok[ ...]" or "error <why>" each; scripts: same commands, '#' comment
 * lines, plus "sleep MS" and "loop"):
 *
 *   park DN CALLID NUMBER [NAME...]  park a call (DN becomes known)
 *   retrieve DN [CALLID]             remove the oldest / given call
 *   clear                            all DNs idle
 *   format dialog|rlmi|pidf          body format from now on
 *   partial on|off                   changes as partial dialog-info
 *                                    (initial and refresh bursts stay
 *                                    full)
 *   refuse CODE [RETRY_AFTER]        answer SUBSCRIBEs with CODE
 *                                    (300-699; 489 adds Allow-Events,
 *                                    401 a challenge, Retry-After if
 *                                    given)
 *   accept                           stop refusing
 *   terminate REASON [RETRY_AFTER]   final NOTIFY on every subscription
 *   silent on|off                    ignore all requests, send nothing
 *                                    (queued NOTIFYs go out on "off")
 *   forget                           drop subscriptions silently
 *   unsubscribe-notify on|off        off: an un-SUBSCRIBE gets 200 and
 *                                    no final NOTIFY (some PBXs)
 *   garbage KIND [DN]                one broken NOTIFY per subscription:
 *                                    badxml xxe bomb huge wrongtype
 *                                    wrongns (DN default: first DN);
 *                                    always a single dialog-info
 *                                    document, whatever the format, and
 *                                    it uses up that DN's next version
 *   raw CONTENT-TYPE PATH            the file as NOTIFY body to all
 *   state    -> "ok DN=CALLID,CALLID;DN=CALLID" (occupied DNs in DN
 *               order, calls oldest first; just "ok" if all idle)
 *   subs     -> "ok N" active subscriptions (not counting ones whose
 *               final NOTIFY is still in flight)
 *   notifies -> "ok N" NOTIFYs answered 2xx so far
 *   quit                             terminate;reason=deactivated to
 *                                    every subscription, wait for the
 *                                    answers (at most 2 s), exit 0
 *
 * SIGINT/SIGTERM do what quit does; a second one exits at once.
 *
 * Notes: DNs and Call-IDs must not contain '=', ',' or ';' if tests
 * parse "state".  "garbage huge" (2 MiB) cannot go over UDP (logged as
 * "could not send", skipped) and over TCP libre refuses to queue more
 * than 512 KiB, so it may fail the same way; a libre receiver also drops
 * a TCP connection carrying a message over 64 KiB, after which that
 * NOTIFY times out and the subscription is removed.
 *
 * Copyright (C) 2024 parkblf authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <re.h>
#include "fakepbx.h"


enum {
	PORT_TRIES     = 32,
	QUIT_POLL_MS   = 20,
	QUIT_WAIT_MS   = 2000,
};

static const char default_dns[] =
	"*00,*01,*02,*03,*04,*05,*06,*07,*08,*09,100,101,102";


/**
 * Log one line to stderr
 *
 * @param fmt Format string (libre conversions)
 */
void fakepbx_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)re_fprintf(stderr, "fakepbx: %v\n", fmt, &ap);
	va_end(ap);
}


static void str_destructor(void *arg)
{
	struct pbx_str *s = arg;

	list_unlink(&s->le);
	mem_deref(s->s);
}


/**
 * Append the items of a comma list to a list of struct pbx_str
 *
 * @param l   List
 * @param csv Comma separated items (empty items are skipped)
 *
 * @return 0 if success, otherwise errorcode
 */
int fakepbx_strlist(struct list *l, const char *csv)
{
	struct pl rest, item;

	if (!l || !csv)
		return EINVAL;

	pl_set_str(&rest, csv);

	while (rest.l) {
		const char *comma = pl_strchr(&rest, ',');
		struct pbx_str *s;
		int err;

		item.p = rest.p;
		item.l = comma ? (size_t)(comma - rest.p) : rest.l;
		pl_advance(&rest, item.l + (comma ? 1 : 0));

		if (!item.l)
			continue;

		s = mem_zalloc(sizeof(*s), str_destructor);
		if (!s)
			return ENOMEM;

		err = pl_strdup(&s->s, &item);
		if (err) {
			mem_deref(s);
			return err;
		}

		list_append(l, &s->le, s);
	}

	return 0;
}


/**
 * Check if a list of struct pbx_str holds a string (case-insensitive)
 *
 * @param l  List
 * @param pl String
 *
 * @return true if found
 */
bool fakepbx_strlist_has(const struct list *l, const struct pl *pl)
{
	struct le *le;

	LIST_FOREACH(l, le) {
		const struct pbx_str *s = le->data;

		if (!pl_strcasecmp(pl, s->s))
			return true;
	}

	return false;
}


/**
 * Name of a body format
 *
 * @param fmt Body format
 *
 * @return Name
 */
const char *fakepbx_fmt_name(enum pbx_fmt fmt)
{
	switch (fmt) {

	case PBX_FMT_RLMI: return "rlmi";
	case PBX_FMT_PIDF: return "pidf";
	default:           return "dialog";
	}
}


/**
 * Decode a body format name
 *
 * @param fmt Returns the format
 * @param pl  Name
 *
 * @return 0 if success, EINVAL for an unknown name
 */
int fakepbx_fmt_decode(enum pbx_fmt *fmt, const struct pl *pl)
{
	if (!fmt || !pl)
		return EINVAL;

	if (!pl_strcasecmp(pl, "dialog"))
		*fmt = PBX_FMT_DIALOG;
	else if (!pl_strcasecmp(pl, "rlmi"))
		*fmt = PBX_FMT_RLMI;
	else if (!pl_strcasecmp(pl, "pidf"))
		*fmt = PBX_FMT_PIDF;
	else
		return EINVAL;

	return 0;
}


static void quit_poll(void *arg)
{
	struct pbx *pbx = arg;

	if (!subs_pending(pbx) || tmr_jiffies() >= pbx->quit_deadline) {
		re_cancel();
		return;
	}

	tmr_start(&pbx->tmr_quit, QUIT_POLL_MS, quit_poll, pbx);
}


/**
 * Shut down: terminate the subscriptions (deactivated), wait for the
 * answers (at most 2 s), leave the main loop.  A second call leaves the
 * main loop at once.
 *
 * @param pbx Fake PBX
 */
void fakepbx_quit(struct pbx *pbx)
{
	if (pbx->closing) {
		re_cancel();
		return;
	}

	fakepbx_log("shutting down");

	pbx->closing = true;
	pbx->quit_deadline = tmr_jiffies() + QUIT_WAIT_MS;

	subs_terminate(pbx, "deactivated", 0);

	tmr_start(&pbx->tmr_quit, 0, quit_poll, pbx);
}


static struct pbx *the_pbx;  /* for the signal handler only */


static void signal_handler(int sig)
{
	fakepbx_log("caught signal %d", sig);

	if (the_pbx)
		fakepbx_quit(the_pbx);
	else
		re_cancel();
}


static void trace_handler(bool tx, enum sip_transp tp, const struct sa *src,
			  const struct sa *dst, const uint8_t *pkt,
			  size_t len, void *arg)
{
	(void)arg;

	(void)re_fprintf(stderr, "fakepbx: ---- %s %s %J -> %J (%zu bytes)"
			 "\n%b\n", tx ? "sent" : "received",
			 sip_transp_name(tp), src, dst, len,
			 pkt, len > 8192 ? (size_t)8192 : len);
}


static int sip_setup(struct pbx *pbx)
{
	struct sa laddr;
	unsigned i;
	int err;

	err = sip_alloc(&pbx->sip, NULL, 32, 32, 32, "fakepbx",
			NULL, NULL);
	if (err)
		return err;

	if (pbx->verbose)
		sip_set_trace_handler(pbx->sip, trace_handler);

	/* port 0: take the UDP port the OS picked for TCP too */
	for (i = 0; i < PORT_TRIES; i++) {

		err = sip_transp_add(pbx->sip, SIP_TRANSP_UDP, &pbx->laddr);
		if (err)
			return err;

		err = sip_transp_laddr(pbx->sip, &laddr, SIP_TRANSP_UDP,
				       NULL);
		if (err)
			return err;

		err = sip_transp_add(pbx->sip, SIP_TRANSP_TCP, &laddr);
		if (!err)
			break;

		if (sa_port(&pbx->laddr))
			return err;

		sip_transp_flush(pbx->sip);
	}

	if (err)
		return err;

	pbx->laddr = laddr;

	return subs_init(pbx);
}


static int write_portfile(const struct pbx *pbx)
{
	char *tmp = NULL;
	FILE *f;
	int err;

	(void)re_printf("sip=%u control=%u\n", sa_port(&pbx->laddr),
			ctrl_port(pbx->ctrl));
	(void)fflush(stdout);

	if (!pbx->portfile)
		return 0;

	err = re_sdprintf(&tmp, "%s.tmp", pbx->portfile);
	if (err)
		return err;

	f = fopen(tmp, "w");
	if (!f) {
		err = errno;
		goto out;
	}

	(void)re_fprintf(f, "sip=%u control=%u\n", sa_port(&pbx->laddr),
			 ctrl_port(pbx->ctrl));

	if (fclose(f)) {
		err = errno;
		goto out;
	}

	if (rename(tmp, pbx->portfile))
		err = errno;

 out:
	mem_deref(tmp);

	return err;
}


static void usage(void)
{
	(void)re_fprintf(stderr,
			 "usage: fakepbx -l ADDR:PORT [-u USER -p PASSWORD]"
			 " [-r REALM] [-c ADDR:PORT]\n"
			 "               [-P PORTFILE] [-s SCRIPT]"
			 " [-f dialog|rlmi|pidf] [-d DNLIST]\n"
			 "               [-e EVENTS] [-n RESOURCE] [-v]\n"
			 "(see test/fakepbx/fakepbx.c for commands)\n");
}


static int decode_addr(struct sa *sa, const char *str)
{
	int err;

	err = sa_decode(sa, str, strlen(str));
	if (err)
		(void)re_fprintf(stderr, "fakepbx: bad address '%s' "
				 "(want ADDR:PORT or [V6ADDR]:PORT)\n", str);

	return err;
}


static int parse_args(struct pbx *pbx, int argc, char *argv[])
{
	const char *dns = default_dns, *events = "dialog";
	bool have_l = false;
	struct le *le;
	int c, err;

	pbx->realm    = "fakepbx";
	pbx->resource = "any-dn";
	(void)sa_set_str(&pbx->caddr, "127.0.0.1", 0);

	while ((c = getopt(argc, argv, "l:u:p:r:c:P:s:f:d:e:n:vh")) != -1) {
		struct pl pl;

		switch (c) {

		case 'l':
			err = decode_addr(&pbx->laddr, optarg);
			if (err)
				return err;
			have_l = true;
			break;

		case 'c':
			err = decode_addr(&pbx->caddr, optarg);
			if (err)
				return err;
			break;

		case 'u': pbx->user     = optarg; break;
		case 'p': pbx->pass     = optarg; break;
		case 'r': pbx->realm    = optarg; break;
		case 'P': pbx->portfile = optarg; break;
		case 's': pbx->scriptf  = optarg; break;
		case 'd': dns           = optarg; break;
		case 'e': events        = optarg; break;
		case 'n': pbx->resource = optarg; break;
		case 'v': pbx->verbose  = true;   break;

		case 'f':
			pl_set_str(&pl, optarg);
			if (fakepbx_fmt_decode(&pbx->fmt, &pl)) {
				usage();
				return EINVAL;
			}
			break;

		default:
			usage();
			return EINVAL;
		}
	}

	if (optind != argc || !have_l || (pbx->user && !pbx->pass) ||
	    (!pbx->user && pbx->pass) || !str_isset(pbx->resource)) {
		usage();
		return EINVAL;
	}

	err = fakepbx_strlist(&pbx->eventl, events);
	if (err)
		return err;

	if (list_isempty(&pbx->eventl)) {
		usage();
		return EINVAL;
	}

	{
		struct list dnl = LIST_INIT;

		err = fakepbx_strlist(&dnl, dns);

		LIST_FOREACH(&dnl, le) {
			const struct pbx_str *s = le->data;
			struct pl pl;

			pl_set_str(&pl, s->s);
			if (!err)
				err = dnstore_add(NULL, pbx, &pl);
		}

		list_flush(&dnl);
	}

	return err;
}


int main(int argc, char *argv[])
{
	struct pbx pbx;
	int err;

	memset(&pbx, 0, sizeof(pbx));
	tmr_init(&pbx.tmr_quit);

	err = libre_init();
	if (err) {
		(void)re_fprintf(stderr, "fakepbx: libre_init: %m\n", err);
		return 1;
	}

	/* one write per line: the tests start two fake PBXs appending
	 * to one log, and an unbuffered stderr writes each piece of a
	 * line on its own, so their lines were interleaved mid-line */
	(void)setvbuf(stderr, NULL, _IOLBF, 0);

	(void)signal(SIGPIPE, SIG_IGN);

	err = parse_args(&pbx, argc, argv);
	if (err)
		goto out;

	err = sip_setup(&pbx);
	if (err) {
		fakepbx_log("SIP listen on %J: %m", &pbx.laddr, err);
		goto out;
	}

	err = ctrl_alloc(&pbx.ctrl, &pbx, &pbx.caddr);
	if (err) {
		fakepbx_log("control listen on %J: %m", &pbx.caddr, err);
		goto out;
	}

	if (pbx.scriptf) {
		err = script_alloc(&pbx.script, &pbx, pbx.scriptf);
		if (err) {
			fakepbx_log("script %s: %m", pbx.scriptf, err);
			goto out;
		}
	}

	fakepbx_log("SIP on %J (udp, tcp), control on %j port %u, "
		    "format %s, auth %s", &pbx.laddr, &pbx.caddr,
		    ctrl_port(pbx.ctrl),
		    fakepbx_fmt_name(pbx.fmt), pbx.user ? "on" : "off");

	err = write_portfile(&pbx);
	if (err) {
		fakepbx_log("port file %s: %m", pbx.portfile, err);
		goto out;
	}

	the_pbx = &pbx;

	err = re_main(signal_handler);

	the_pbx = NULL;

	fakepbx_log("exit (%u subscriptions left, %llu NOTIFYs delivered)",
		    subs_pending(&pbx), (unsigned long long)pbx.notifies);

 out:
	tmr_cancel(&pbx.tmr_quit);
	pbx.script = mem_deref(pbx.script);
	pbx.ctrl   = mem_deref(pbx.ctrl);
	subs_close(&pbx);

	if (pbx.sip) {
		sip_close(pbx.sip, true);
		pbx.sip = mem_deref(pbx.sip);
	}

	list_flush(&pbx.dnl);
	list_flush(&pbx.eventl);

	libre_close();

	tmr_debug();
	mem_debug();

	return err ? 1 : 0;
}

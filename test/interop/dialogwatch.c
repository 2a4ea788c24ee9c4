/**
 * @file dialogwatch.c  A BLF key made of liblinphone: an Event: dialog
 *                      watcher over liblinphone's event API (belle-sip)
 *
 * Subscribes to URI with Event: dialog (Accept: dialog-info+xml) for
 * SECONDS or until SIGTERM, then un-subscribes and waits for the end.
 * Prints one line per thing a phone would show, flushed at once:
 *
 *   SUBSTATE <state>          liblinphone's subscription state
 *   STATE <uri> <lamp>        idle, or the first <state> of a <dialog>
 *                             that is not terminated
 *   CALLER <number> <name>    the remote identity of that dialog
 *   BODY <body on one line>
 *
 * Usage: dialogwatch RCFILE URI SECONDS
 * RCFILE is a linphonerc (sip_port, contact, use_ipv6); HOME should be
 * a scratch directory (liblinphone keeps a database there).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linphone/core.h>
#include <linphone/logging.h>


static int ended;
static volatile sig_atomic_t stop;


static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}


/* The text between <tag> and </tag> after p, or NULL; at most n bytes */
static const char *elem(const char *p, const char *tag, char *out, size_t n)
{
	char open[32], close[32];
	const char *s, *e;

	snprintf(open, sizeof(open), "<%s", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	s = strstr(p, open);
	if (!s)
		return NULL;
	s = strchr(s, '>');
	if (!s)
		return NULL;
	++s;
	e = strstr(s, close);
	if (!e || (size_t)(e - s) >= n)
		return NULL;
	memcpy(out, s, e - s);
	out[e - s] = '\0';

	return e;
}


/* The lamp and caller a BLF key shows for a dialog-info body: the first
   <dialog> that is not terminated lights it */
static void show(const char *uri, const char *body)
{
	const char *d = body;
	char state[32], ident[256], name[128];

	while ((d = strstr(d, "<dialog ")) != NULL) {
		const char *end = strstr(d, "</dialog>");
		const char *r;

		if (!end)
			break;
		if (!elem(d, "state", state, sizeof(state)) ||
		    !strcmp(state, "terminated")) {
			d = end;
			continue;
		}
		printf("STATE %s %s\n", uri, state);

		r = strstr(d, "<remote>");
		name[0] = '\0';
		if (r && r < end && elem(r, "identity", ident,
					 sizeof(ident))) {
			const char *dn = strstr(r, "display=\"");
			const char *at = strchr(ident, '@');
			const char *num = strncmp(ident, "sip:", 4) ?
				ident : ident + 4;

			if (dn && dn < end) {
				dn += 9;
				snprintf(name, sizeof(name), "%.*s",
					 (int)strcspn(dn, "\""), dn);
			}
			printf("CALLER %.*s %s\n",
			       at ? (int)(at - num) : (int)strlen(num), num,
			       name);
		}
		return;
	}

	printf("STATE %s idle\n", uri);
}


static void notify_received(LinphoneCore *lc, LinphoneEvent *ev,
			    const char *event, const LinphoneContent *body)
{
	const char *text = body ? linphone_content_get_utf8_text(body) : NULL;
	char *uri;
	(void)lc;
	(void)event;

	uri = linphone_address_as_string_uri_only(
		linphone_event_get_resource(ev));
	if (text && *text) {
		char *one = strdup(text), *c;

		for (c = one; c && *c; c++)
			if (*c == '\r' || *c == '\n')
				*c = ' ';
		printf("BODY %s\n", one ? one : "");
		free(one);
		show(uri, text);
	}
	fflush(stdout);
	ortp_free(uri);
}


static void substate_changed(LinphoneCore *lc, LinphoneEvent *ev,
			     LinphoneSubscriptionState st)
{
	const char *name = linphone_subscription_state_to_string(st);
	(void)lc;
	(void)ev;

	/* "LinphoneSubscriptionActive" -> "Active" */
	if (name && !strncmp(name, "LinphoneSubscription", 20))
		name += 20;
	printf("SUBSTATE %s\n", name ? name : "?");
	fflush(stdout);
	if (st == LinphoneSubscriptionTerminated ||
	    st == LinphoneSubscriptionError)
		ended = 1;
}


static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);

	return ts.tv_sec + ts.tv_nsec / 1e9;
}


/* Let liblinphone work for at most secs, or until the subscription
   ended when stop_at_end */
static void run(LinphoneCore *lc, double secs, int stop_at_end)
{
	const double end = now() + secs;
	const struct timespec tick = {0, 20 * 1000 * 1000};

	while (now() < end && !(stop_at_end && (ended || stop))) {
		linphone_core_iterate(lc);
		nanosleep(&tick, NULL);
	}
}


int main(int argc, char *argv[])
{
	LinphoneFactory *f;
	LinphoneCoreCbs *cbs;
	LinphoneCore *lc;
	LinphoneAddress *addr;
	LinphoneEvent *ev;

	if (argc != 4) {
		fprintf(stderr, "usage: dialogwatch RCFILE URI SECONDS\n");
		return 2;
	}

	linphone_logging_service_set_log_level(linphone_logging_service_get(),
					       LinphoneLogLevelWarning);
	f = linphone_factory_get();
	cbs = linphone_factory_create_core_cbs(f);
	linphone_core_cbs_set_notify_received(cbs, notify_received);
	linphone_core_cbs_set_subscription_state_changed(cbs,
							 substate_changed);
	lc = linphone_factory_create_core_3(f, argv[1], NULL, NULL);
	linphone_core_add_callbacks(lc, cbs);
	linphone_core_cbs_unref(cbs);
	if (linphone_core_start(lc)) {
		fprintf(stderr, "dialogwatch: the core did not start\n");
		return 1;
	}

	addr = linphone_factory_create_address(f, argv[2]);
	if (!addr) {
		fprintf(stderr, "dialogwatch: bad URI %s\n", argv[2]);
		return 2;
	}
	ev = linphone_core_create_subscribe(lc, addr, "dialog", 600);
	linphone_address_unref(addr);
	linphone_event_add_custom_header(ev, "Accept",
					 "application/dialog-info+xml");
	linphone_event_send_subscribe(ev, NULL);

	(void)signal(SIGTERM, on_signal);
	(void)signal(SIGINT, on_signal);
	run(lc, atof(argv[3]), 1);
	if (!ended) {
		stop = 0;
		linphone_event_terminate(ev);
		run(lc, 3, 1);
	}
	linphone_event_unref(ev);
	linphone_core_stop(lc);
	linphone_core_unref(lc);

	return 0;
}

/**
 * @file capture.c  Writes every upstream NOTIFY to a file, as received
 *
 * So that an admin can send in what the PBX really says, and test
 * fixtures come from real traffic.  Config key: upstream_capture.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <errno.h>
#include <time.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


struct capture {
	FILE *f;
	char *path;
};


static void destructor(void *arg)
{
	struct capture *cap = arg;

	if (cap->f)
		(void)fclose(cap->f);
	mem_deref(cap->path);
}


/**
 * Open a capture file for appending
 *
 * @param capp Where to store the capture
 * @param path File path
 *
 * @return 0 if success, otherwise errorcode
 */
int capture_open(struct capture **capp, const char *path)
{
	struct capture *cap;
	int err;

	if (!capp || !path)
		return EINVAL;

	cap = mem_zalloc(sizeof(*cap), destructor);
	if (!cap)
		return ENOMEM;

	err = str_dup(&cap->path, path);
	if (err)
		goto out;

	cap->f = fopen(path, "a");
	if (!cap->f) {
		err = errno;
		goto out;
	}

 out:
	if (err)
		mem_deref(cap);
	else
		*capp = cap;

	return err;
}


/**
 * Append one message: a separator line with time and source, the start
 * line, every header as received, a blank line and the raw body
 *
 * @param cap Capture, NULL does nothing
 * @param msg SIP message
 */
void capture_write(struct capture *cap, const struct sip_msg *msg)
{
	char stamp[32];
	struct le *le;
	time_t now;
	struct tm tm;

	if (!cap || !msg)
		return;

	now = time(NULL);
	(void)gmtime_r(&now, &tm);
	(void)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);

	(void)re_fprintf(cap->f, "=== parkblf capture %s from %J (%s)\n",
			 stamp, &msg->src, sip_transp_name(msg->tp));
	(void)re_fprintf(cap->f, "%r %r %r\r\n", &msg->met, &msg->ruri,
			 &msg->ver);

	for (le = list_head(&msg->hdrl); le; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		(void)re_fprintf(cap->f, "%r: %r\r\n", &hdr->name,
				 &hdr->val);
	}

	(void)re_fprintf(cap->f, "\r\n%b\n", mbuf_buf(msg->mb),
			 mbuf_get_left(msg->mb));
	(void)fflush(cap->f);
}

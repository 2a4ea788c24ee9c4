/**
 * @file capture.c  Writes every upstream NOTIFY to a file, as received
 *
 * So that an admin can send in what the PBX really says, and test
 * fixtures come from real traffic.  The file holds callers' names and
 * numbers: it is created 0600 (an existing one is made 0600), and once
 * the next message would take it past the size cap it moves to FILE.1
 * (replacing the one before) and a new FILE starts, so at most about
 * twice the cap is ever on disk.  Config keys: upstream_capture,
 * upstream_capture_max_bytes.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


struct capture {
	FILE *f;
	char *path;
	char *old;          /**< FILE.1, the previous file              */
	uint64_t size;      /**< Bytes in FILE                          */
	uint64_t max;       /**< Rotate before FILE grows past this     */
};


static void destructor(void *arg)
{
	struct capture *cap = arg;

	if (cap->f)
		(void)fclose(cap->f);
	mem_deref(cap->path);
	mem_deref(cap->old);
}


static int open_file(struct capture *cap, int flags)
{
	struct stat st;
	int fd, err;

	fd = open(cap->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		  flags, 0600);
	if (fd < 0)
		return errno;

	/* an older parkblf (or someone) may have left it 0644 */
	if (fstat(fd, &st) || ((st.st_mode & 077) && fchmod(fd, 0600))) {
		err = errno;
		(void)close(fd);
		return err;
	}

	cap->f = fdopen(fd, "a");
	if (!cap->f) {
		err = errno;
		(void)close(fd);
		return err;
	}

	cap->size = (uint64_t)st.st_size;

	return 0;
}


/* FILE -> FILE.1, then a new FILE */
static void rotate(struct capture *cap)
{
	int err, flags = 0;

	(void)fclose(cap->f);
	cap->f = NULL;

	if (rename(cap->path, cap->old)) {
		log_warn("capture: cannot move %s to %s: %m; starting it "
			 "afresh", cap->path, cap->old, errno);
		flags = O_TRUNC;
	}

	err = open_file(cap, flags);
	if (err)
		log_error("capture: cannot reopen %s: %m; capture stops",
			  cap->path, err);
}


/**
 * Open a capture file for appending
 *
 * @param capp Where to store the capture
 * @param path File path
 * @param max  Size cap in bytes (rotation to FILE.1), 0 for none
 *
 * @return 0 if success, otherwise errorcode
 */
int capture_open(struct capture **capp, const char *path, uint64_t max)
{
	struct capture *cap;
	int err;

	if (!capp || !path)
		return EINVAL;

	cap = mem_zalloc(sizeof(*cap), destructor);
	if (!cap)
		return ENOMEM;

	cap->max = max;
	err  = str_dup(&cap->path, path);
	err |= re_sdprintf(&cap->old, "%s.1", path);
	if (err)
		goto out;

	err = open_file(cap, 0);

 out:
	if (err)
		mem_deref(cap);
	else
		*capp = cap;

	return err;
}


static int print_msg(struct mbuf *mb, const struct sip_msg *msg)
{
	char stamp[32];
	struct le *le;
	time_t now;
	struct tm tm;
	int err;

	now = time(NULL);
	(void)gmtime_r(&now, &tm);
	(void)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);

	err  = mbuf_printf(mb, "=== parkblf capture %s from %J (%s)\n",
			   stamp, &msg->src, sip_transp_name(msg->tp));
	err |= mbuf_printf(mb, "%r %r %r\r\n", &msg->met, &msg->ruri,
			   &msg->ver);

	for (le = list_head(&msg->hdrl); le; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		err |= mbuf_printf(mb, "%r: %r\r\n", &hdr->name, &hdr->val);
	}

	err |= mbuf_printf(mb, "\r\n%b\n", mbuf_buf(msg->mb),
			   mbuf_get_left(msg->mb));

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
	struct mbuf *mb;

	if (!cap || !msg)
		return;

	mb = mbuf_alloc(1024 + mbuf_get_left(msg->mb));
	if (!mb || print_msg(mb, msg))
		goto out;

	if (cap->f && cap->max && cap->size &&
	    cap->size + mb->end > cap->max)
		rotate(cap);
	if (!cap->f)
		goto out;

	if (fwrite(mb->buf, 1, mb->end, cap->f) != mb->end ||
	    fflush(cap->f))
		log_warn("capture: %s: %m", cap->path, errno);
	cap->size += mb->end;

 out:
	mem_deref(mb);
}

/**
 * @file wiredump.c  Every SIP message parkblf sends, one file each
 *
 * With PARKBLF_WIRE_DUMP=DIR in the environment, each SIP message
 * parkblf puts on the wire is also written to DIR/PID-N.sip (N counts
 * from 1 in sending order): what libre sends, seen through its trace
 * handler (every request, response and retransmission, on every
 * transport, before TLS), and the NOTIFYs of the fast path (subdlg.c),
 * which bypass libre.  A request that sippin.c moves to the socket its
 * phone spoke to is recorded as it left, with that socket's address in
 * its Via and Contact.  The tests feed each file to a strict parser
 * nobody here wrote (test/wirecheck).  A debugging aid, not for
 * production: one file per message, never rotated.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


static struct {
	char *dir;          /**< NULL: off                               */
	unsigned long n;    /**< Messages written                        */
	bool failed;        /**< A write failed (said once)              */
} dump;


static void dump_write(const uint8_t *p, size_t len)
{
	char path[512];
	ssize_t w = 0;
	int fd;

	if (!dump.dir || dump.failed)
		return;

	(void)re_snprintf(path, sizeof(path), "%s/%d-%lu.sip", dump.dir,
			  (int)getpid(), ++dump.n);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		w = write(fd, p, len);
		(void)close(fd);
	}
	if (fd < 0 || w != (ssize_t)len) {
		log_warn("wiredump: %s: %m (no more messages dumped)", path,
			 fd < 0 || w < 0 ? errno : EIO);
		dump.failed = true;
	}
}


static void trace_handler(bool tx, enum sip_transp tp, const struct sa *src,
			  const struct sa *dst, const uint8_t *pkt,
			  size_t len, void *arg)
{
	(void)arg;

	/* one that sippin moves to another socket is recorded there, as
	   rewritten (its Via and Contact) */
	if (tx && !(tp == SIP_TRANSP_UDP && sippin_moves(src, dst, pkt, len)))
		dump_write(pkt, len);
}


/**
 * Dump what a SIP stack sends, if PARKBLF_WIRE_DUMP names a directory
 *
 * @param sip SIP stack
 *
 * @return 0 if success, otherwise errorcode
 */
int wiredump_attach(struct sip *sip)
{
	const char *dir = getenv("PARKBLF_WIRE_DUMP");
	int err;

	if (!sip)
		return EINVAL;

	if (!dir || !*dir)
		return 0;

	if (!dump.dir) {
		err = str_dup(&dump.dir, dir);
		if (err)
			return err;
		log_info("wiredump: every SIP message sent goes to %s/",
			 dump.dir);
	}

	sip_set_trace_handler(sip, trace_handler);

	return 0;
}


/**
 * Dump a message sent without libre
 *
 * @param mb The message, from its position to its end
 */
void wiredump_tx(const struct mbuf *mb)
{
	if (dump.dir && mb)
		dump_write(mbuf_buf(mb), mbuf_get_left(mb));
}


/** @return true while messages are dumped */
bool wiredump_on(void)
{
	return dump.dir != NULL;
}


/**
 * Stop dumping and free the directory name
 */
void wiredump_close(void)
{
	dump.dir = mem_deref(dump.dir);
	dump.n = 0;
	dump.failed = false;
}

/**
 * @file log.c  Logging to stderr with levels
 *
 * Under the systemd journal each line starts with its sd-daemon(3)
 * priority and the journal adds the time; anywhere else (a terminal, a
 * file, another supervisor) each line starts with an ISO 8601 UTC
 * time stamp.  Problems found in a file (FILE:LINE: message) are plain
 * lines for `parkblf -t` and log lines (level error) for the daemon.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <re.h>
#define DEBUG_MODULE "log"
#define DEBUG_LEVEL 0
#include <re_dbg.h>
#include "parkblf.h"
#include "core.h"
#include "metrics.h"


enum {
	LIMIT_WINDOW_MS = 10000,   /**< log_limited's window           */
	LIMIT_LINES     = 10,      /**< ... and lines printed in one   */
};

static const char *prefix[] = {"debug", "info", "warning", "error"};
static enum log_level min_level = LOG_LEVEL_INFO;
static bool file_errors_logged;   /**< The daemon: FILE:LINE as errors */


/**
 * Set the lowest level that is printed
 *
 * @param level Log level
 */
void log_set_level(enum log_level level)
{
	min_level = level;
}


/**
 * Tell whether a level is printed, to skip work for lines that are not
 *
 * @param level Log level
 *
 * @return true if printed
 */
bool log_enabled(enum log_level level)
{
	return level >= min_level;
}


/*
 * systemd sets JOURNAL_STREAM=DEV:INODE of the stream it connects to
 * stderr.  Children inherit the variable even when their stderr goes
 * elsewhere (a script in a unit redirecting to a file): only a stderr
 * that is that very stream is the journal.
 */
static bool stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!v || sscanf(v, "%llu:%llu", &dev, &ino) != 2)
		return false;

	if (fstat(STDERR_FILENO, &st))
		return false;

	return (unsigned long long)st.st_dev == dev &&
		(unsigned long long)st.st_ino == ino;
}


static bool journal(void)
{
	static int is = -1;

	if (is < 0)
		is = stderr_is_journal();

	return is;
}


/* "<3>" under the journal, else "2026-12-04T19:42:47.123Z " */
static int line_start(struct re_printf *pf, void *arg)
{
	/* sd-daemon(3) levels, for the journal: debug, info, warning, err */
	static const char *sd_prefix[] = {"<7>", "<6>", "<4>", "<3>"};
	const enum log_level *level = arg;
	struct timespec ts;
	struct tm tm;
	char buf[32];

	if (journal())
		return re_hprintf(pf, "%s", sd_prefix[*level]);

	if (clock_gettime(CLOCK_REALTIME, &ts) || !gmtime_r(&ts.tv_sec, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;

	return re_hprintf(pf, "%s.%03ldZ ", buf, ts.tv_nsec / 1000000);
}


/**
 * Print one log line
 *
 * @param level Log level
 * @param fmt   re_printf format of the message, without newline
 */
void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;

	va_start(ap, fmt);
	(void)re_fprintf(stderr, "%Hparkblf: %s: %v\n", line_start, &level,
			 prefix[level], fmt, &ap);
	va_end(ap);
}


/**
 * Print a log line of a kind a stranger can cause with every request
 * (a refused request): at most LIMIT_LINES of the kind per
 * LIMIT_WINDOW_MS, so that a flood cannot fill the disk.  The first
 * line of a window says how many the window before left out; all left
 * out are counted (metrics.log_suppressed).
 *
 * @param ll    The kind's limit (static, zeroed at first)
 * @param level Log level
 * @param fmt   re_printf format of the message, without newline
 */
void log_limited(struct log_limit *ll, enum log_level level,
		 const char *fmt, ...)
{
	const uint64_t now = tmr_jiffies();
	uint32_t dropped = 0;
	va_list ap;

	if (!ll || !log_enabled(level))
		return;

	if (!ll->start || now - ll->start >= LIMIT_WINDOW_MS) {
		dropped = ll->dropped;
		ll->start = now ? now : 1;
		ll->lines = 0;
		ll->dropped = 0;
	}

	if (ll->lines >= LIMIT_LINES) {
		++ll->dropped;
		++metrics.log_suppressed;
		return;
	}
	++ll->lines;

	va_start(ap, fmt);
	if (dropped)
		(void)re_fprintf(stderr, "%Hparkblf: %s: %v (and %u more "
				 "like it not logged before)\n", line_start,
				 &level, prefix[level], fmt, &ap, dropped);
	else
		(void)re_fprintf(stderr, "%Hparkblf: %s: %v\n", line_start,
				 &level, prefix[level], fmt, &ap);
	va_end(ap);
}


/**
 * Say how problems found in a file reach stderr: as plain FILE:LINE
 * lines (a check, the default) or as error log lines (the daemon, so
 * that the journal files them as errors)
 *
 * @param logged true for log lines
 */
void log_set_file_errors(bool logged)
{
	file_errors_logged = logged;
}


/**
 * Report one problem in a file on stderr
 *
 * @param file File name
 * @param pos  Where in it: ":LINE", or "" for the whole file
 * @param fmt  Message format
 * @param ap   Its arguments
 */
void log_file_error(const char *file, const char *pos, const char *fmt,
		    va_list *ap)
{
	if (file_errors_logged) {
		log_printf(LOG_LEVEL_ERROR, "%s%s: %v", file, pos, fmt, ap);
		return;
	}

	(void)re_fprintf(stderr, "%s%s%s: %v\n", journal() ? "<3>" : "",
			 file, pos, fmt, ap);
}


static void libre_dbg_handler(int level, const char *p, size_t len,
			      void *arg)
{
	(void)arg;

	while (len > 0 && (p[len-1] == '\n' || p[len-1] == '\r'))
		--len;
	if (len == 0)
		return;

	log_printf(level <= DBG_ERR ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN,
		   "libre: %b", p, len);
}


/**
 * Route libre's own warnings into our log
 */
void log_init_libre(void)
{
	dbg_init(DBG_WARNING, DBG_NONE);
	dbg_handler_set(libre_dbg_handler, NULL);
}

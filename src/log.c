/**
 * @file log.c  Logging to stderr with levels (the journal adds the time)
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <re.h>
#define DEBUG_MODULE "log"
#define DEBUG_LEVEL 0
#include <re_dbg.h>
#include "parkblf.h"
#include "core.h"


static enum log_level min_level = LOG_LEVEL_INFO;


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
 * Print one log line
 *
 * @param level Log level
 * @param fmt   re_printf format of the message, without newline
 */
void log_printf(enum log_level level, const char *fmt, ...)
{
	static const char *prefix[] = {"debug", "info", "warning", "error"};
	/* sd-daemon(3) levels, for the journal: debug, info, warning, err */
	static const char *sd_prefix[] = {"<7>", "<6>", "<4>", "<3>"};
	static int journal = -1;
	va_list ap;

	if (level < min_level)
		return;

	/* systemd sets JOURNAL_STREAM when stderr is the journal */
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;

	va_start(ap, fmt);
	(void)re_fprintf(stderr, "%sparkblf: %s: %v\n",
			 journal ? sd_prefix[level] : "", prefix[level], fmt,
			 &ap);
	va_end(ap);
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

/**
 * @file file.c  Reading config files and resolving paths
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"


/**
 * Read a whole file into a new mbuf
 *
 * @param mbp    Where to store the buffer (pos 0, end = size)
 * @param path   File path
 * @param maxlen Refuse files larger than this (EFBIG)
 *
 * @return 0 if success, otherwise errorcode
 */
int file_read(struct mbuf **mbp, const char *path, size_t maxlen)
{
	struct mbuf *mb;
	uint8_t buf[4096];
	FILE *f;
	int err = 0;

	if (!mbp || !path)
		return EINVAL;

	f = fopen(path, "rb");
	if (!f)
		return errno;

	mb = mbuf_alloc(sizeof(buf));
	if (!mb) {
		err = ENOMEM;
		goto out;
	}

	for (;;) {
		size_t n = fread(buf, 1, sizeof(buf), f);

		if (n == 0)
			break;
		if (mb->end + n > maxlen) {
			err = EFBIG;
			goto out;
		}
		err = mbuf_write_mem(mb, buf, n);
		if (err)
			goto out;
	}

	if (ferror(f)) {
		err = EIO;
		goto out;
	}

	mb->pos = 0;

 out:
	(void)fclose(f);
	if (err)
		mem_deref(mb);
	else
		*mbp = mb;

	return err;
}


/**
 * Resolve a path against the directory of another file
 *
 * @param pathp Where to store the result (mem string)
 * @param base  File whose directory relative paths start from
 * @param path  Absolute or relative path
 *
 * @return 0 if success, otherwise errorcode
 */
int file_path_relative(char **pathp, const char *base, const char *path)
{
	const char *slash;

	if (!pathp || !base || !path)
		return EINVAL;

	slash = strrchr(base, '/');
	if (path[0] == '/' || !slash)
		return str_dup(pathp, path);

	return re_sdprintf(pathp, "%b/%s", base, (size_t)(slash - base),
			   path);
}


/**
 * Call a handler for every line that is not blank or a # comment
 *
 * @param buf  Text
 * @param len  Length of text
 * @param lineh Line handler, gets the line without EOL and leading blanks
 * @param arg  Handler argument
 *
 * @return Number of lines in the text
 */
unsigned file_lines(const uint8_t *buf, size_t len, file_line_h *lineh,
		void *arg)
{
	const char *p = (const char *)buf, *end = p + len;
	unsigned lineno = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);
		struct pl line;

		if (!eol)
			eol = end;
		++lineno;

		line.p = p;
		line.l = eol - p;
		while (line.l && (line.p[line.l-1] == '\r' ||
				  line.p[line.l-1] == ' ' ||
				  line.p[line.l-1] == '\t'))
			--line.l;
		while (line.l && (line.p[0] == ' ' || line.p[0] == '\t')) {
			++line.p;
			--line.l;
		}

		if (line.l && line.p[0] != '#')
			lineh(&line, lineno, arg);

		p = eol + 1;
	}

	return lineno;
}


/**
 * Print a file's permission bits as ls and chmod write them ("640")
 *
 * @param pf  Print handler
 * @param arg const mode_t *, the st_mode of a struct stat
 *
 * @return 0 if success, otherwise errorcode
 */
int file_mode_print(struct re_printf *pf, void *arg)
{
	const mode_t *mode = arg;

	if (!mode)
		return 0;

	return re_hprintf(pf, "%u%u%u", (unsigned)(*mode >> 6) & 7,
			  (unsigned)(*mode >> 3) & 7, (unsigned)*mode & 7);
}

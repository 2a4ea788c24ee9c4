/**
 * @file reload.c  Orbit map reload: on SIGHUP and when the file changes
 *
 * SIGHUP reaches the loop through a self-pipe; the file is also checked
 * every RELOAD_CHECK_MS (modification time, size, inode), which is
 * cheap and works where inotify does not (network file systems, editors
 * that replace the file).  A map with problems is reported line by line
 * and the map in force stays.  Several files may be watched (one orbit
 * map per tenant, the tenants' directory): SIGHUP runs the handlers of
 * those watched with reload_alloc, in the order they were made.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "reload.h"


enum { RELOAD_CHECK_MS = 1000 };

struct reload {
	struct le le;              /**< In hups: runs on SIGHUP          */
	struct le le_all;          /**< In watches                       */
	char *path;
	struct stat st;            /**< The file as last loaded          */
	reload_h *h;
	void *arg;
	bool due;                  /**< Changed: its handler runs next   */
};

static int hup_pipe[2] = {-1, -1};
static struct list hups;       /**< struct reload run on SIGHUP      */
/* Every watch; one timer checks them all (200 tenants watch 400
   files: 400 timers a second cost 2 % of a core idle, one does not) */
static struct list watches;
static struct ptmr tmr_check;


static void destructor(void *arg)
{
	struct reload *rl = arg;

	list_unlink(&rl->le);
	list_unlink(&rl->le_all);
	if (list_isempty(&watches))
		ptmr_cancel(&tmr_check);
	if (hup_pipe[0] >= 0 && list_isempty(&hups)) {
		fd_close(hup_pipe[0]);
		(void)signal(SIGHUP, SIG_DFL);
		(void)close(hup_pipe[0]);
		(void)close(hup_pipe[1]);
		hup_pipe[0] = hup_pipe[1] = -1;
	}
	mem_deref(rl->path);
}


/* Signal context: only write a byte */
static void sighup(int sig)
{
	const char b = 'h';
	int saved = errno;
	ssize_t n;
	(void)sig;

	/* a full pipe holds a reload already: a lost byte loses nothing
	 * (glibc's warn_unused_result, under _FORTIFY_SOURCE, refuses a
	 * (void) cast) */
	n = write(hup_pipe[1], &b, 1);
	(void)n;
	errno = saved;
}


static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
		a->st_size == b->st_size &&
		a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
		a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}


static void run(struct reload *rl, const char *why)
{
	struct stat st;

	if (stat(rl->path, &st))
		memset(&st, 0, sizeof(st));

	rl->st = st;
	log_info("reload: %s: %s", rl->path, why);
	rl->h(rl->arg);
}


static void hup_handler(int flags, void *arg)
{
	struct le *le = list_head(&hups);
	char buf[64];
	(void)flags;
	(void)arg;

	while (read(hup_pipe[0], buf, sizeof(buf)) > 0)
		;

	/* a handler may end watches made after it (a tenant's map) */
	while (le) {
		struct reload *rl = le->data;

		le = le->next;
		run(rl, "SIGHUP");
	}
}


static void check_handler(void *arg)
{
	struct le *le;
	(void)arg;

	ptmr_start(&tmr_check, RELOAD_CHECK_MS, check_handler, NULL);

	for (le = list_head(&watches); le; le = le->next) {
		struct reload *rl = le->data;
		struct stat st;

		/* being replaced: look again next time */
		if (!stat(rl->path, &st) && !same_file(&st, &rl->st))
			rl->due = true;
	}

	/* a handler may end any watch (tenants going): from the head
	   again after each */
	for (le = list_head(&watches); le; ) {
		struct reload *rl = le->data;

		if (!rl->due) {
			le = le->next;
			continue;
		}
		rl->due = false;
		run(rl, "the file changed");
		le = list_head(&watches);
	}
}


static int watch(struct reload **rlp, const char *path, reload_h *h,
		 void *arg, bool hup)
{
	struct reload *rl;
	int err;

	if (!rlp || !path || !h)
		return EINVAL;

	rl = mem_zalloc(sizeof(*rl), destructor);
	if (!rl)
		return ENOMEM;

	rl->h = h;
	rl->arg = arg;

	err = str_dup(&rl->path, path);
	if (err)
		goto out;

	if (stat(path, &rl->st))
		memset(&rl->st, 0, sizeof(rl->st));

	if (hup && hup_pipe[0] < 0) {
		if (pipe(hup_pipe)) {
			err = errno;
			goto out;
		}
		(void)fcntl(hup_pipe[0], F_SETFL, O_NONBLOCK);
		(void)fcntl(hup_pipe[1], F_SETFL, O_NONBLOCK);

		err = fd_listen(hup_pipe[0], FD_READ, hup_handler, NULL);
		if (err) {
			(void)close(hup_pipe[0]);
			(void)close(hup_pipe[1]);
			hup_pipe[0] = hup_pipe[1] = -1;
			goto out;
		}

		(void)signal(SIGHUP, sighup);
	}
	if (hup)
		list_append(&hups, &rl->le, rl);
	if (list_isempty(&watches))
		ptmr_start(&tmr_check, RELOAD_CHECK_MS, check_handler, NULL);
	list_append(&watches, &rl->le_all, rl);

 out:
	if (err)
		mem_deref(rl);
	else
		*rlp = rl;

	return err;
}


/**
 * Watch a file: call a handler on SIGHUP and when the file changes
 *
 * @param rlp  Where to store the watch
 * @param path File to watch
 * @param h    Reload handler
 * @param arg  Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int reload_alloc(struct reload **rlp, const char *path, reload_h *h,
		 void *arg)
{
	return watch(rlp, path, h, arg, true);
}


/**
 * Watch a file: call a handler when it changes (not on SIGHUP: the
 * owner reloads on its own SIGHUP, e.g. the tenants' directory reloads
 * each tenant's orbit map)
 *
 * @param rlp  Where to store the watch
 * @param path File (or directory) to watch
 * @param h    Reload handler
 * @param arg  Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int reload_watch(struct reload **rlp, const char *path, reload_h *h,
		 void *arg)
{
	return watch(rlp, path, h, arg, false);
}

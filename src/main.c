/**
 * @file main.c  parkblf: BLF keys for PBX park orbits
 *
 * Usage: parkblf [-t] -f FILE
 *        parkblf provision VENDOR -f FILE [-a ADDRESS[:PORT]]
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <getopt.h>
#include <sys/resource.h>
#include <re.h>
#include <libxml/parser.h>
#include "parkblf.h"
#include "core.h"
#include "app.h"
#include "subauth.h"
#include "provision.h"
#include "tenant.h"


static struct app *the_app;


static void usage(void)
{
	(void)re_fprintf(stderr,
			 "usage: parkblf [-t] [-v] -f FILE\n"
			 "       parkblf provision VENDOR -f FILE "
			 "[-a ADDRESS[:PORT]] [-k FIRST]\n"
			 "  -f FILE  configuration file\n"
			 "  -t       check the configuration and the orbit "
			 "map, then exit\n"
			 "  -v       verbose (log level debug)\n"
			 "  -h       this help\n");
}


static void signal_handler(int sig)
{
	static bool once;

	if (once || !the_app) {
		log_warn("main: signal %d again: stopping now", sig);
		re_cancel();
		return;
	}

	once = true;
	log_info("main: signal %d: stopping", sig);
	app_shutdown(the_app);
}


/* Open files: the soft limit raised to the hard one, at most FD_MAX.
   systemd starts services with a soft limit of 1,024 (for programs
   that use select()); libre polls with epoll, and a stranger's ~1,000
   TCP connections (libre keeps each 15 minutes after a request) would
   otherwise take every descriptor: no phone's connection, no
   database, and libre's listening socket, whose accept fails, keeps
   the loop busy.  libre's tables take ~30 bytes per descriptor of the
   limit (2 MB at 65,536). */
static void fd_limit(bool say)
{
	enum { FD_MAX = 65536 };
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		(void)fd_setsize(4096);
		return;
	}

	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FD_MAX ?
		FD_MAX : rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		const rlim_t was = rl.rlim_cur;

		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			rl.rlim_cur = was;
		else if (say)
			log_info("main: open files: limit raised from %llu to "
				 "%llu", (unsigned long long)was,
				 (unsigned long long)want);
	}

	(void)fd_setsize(rl.rlim_cur == RLIM_INFINITY ||
			 rl.rlim_cur > FD_MAX ? FD_MAX : (int)rl.rlim_cur);
}


/* The config, its secrets, the map, and what a start would refuse or
 * silently degrade (cfgcheck): every problem reported at once */
static int load(struct config **cfgp, struct orbitmap **mapp,
		const char *file, bool test_only)
{
	uint32_t tenants = 0;
	int err, serr, merr, cerr, terr;

	err = config_load(cfgp, file, NULL);
	if (err == EINVAL || err == ERANGE || err == E2BIG)
		return EINVAL;
	if (err)
		return err;

	serr = config_read_secrets(*cfgp, NULL);
	/* tenants_dir alone: parkblf.conf names no PBX of its own */
	merr = (*cfgp)->orbit_map ?
		orbitmap_load(mapp, (*cfgp)->orbit_map, NULL) : 0;
	cerr = cfgcheck_run(*cfgp, *mapp, test_only, NULL);
	/* -t checks every tenant file; a start reports a bad one and
	   serves the others (tenants_load) */
	terr = test_only ? tenants_check(*cfgp, true, NULL, &tenants) : 0;
	if (test_only && !terr && (*cfgp)->tenants_dir)
		(void)re_printf("%s: %u tenant(s)\n", (*cfgp)->tenants_dir,
				tenants);
	if (serr || merr || cerr || terr) {
		*cfgp = mem_deref(*cfgp);
		*mapp = mem_deref(*mapp);
		return serr ? serr : merr ? merr : cerr ? cerr : terr;
	}

	return 0;
}


static int modules_init(void)
{
	size_t i;
	int err;

	for (i = 0; mod_table[i]; i++) {
		struct mod *m;

		err = mod_add(&m, mod_table[i]);
		if (err) {
			log_error("main: module %s: %m", mod_table[i]->name,
				  err);
			return err;
		}
	}

	return 0;
}


int main(int argc, char *argv[])
{
	struct config *cfg = NULL;
	struct orbitmap *map = NULL;
	const char *file = NULL;
	bool test_only = false, verbose = false;
	uint32_t rules;
	int c, err, ret = 1;

	/* one write per log line, so that the lines of instances
	 * appending to one file (or one pipe) are never interleaved */
	(void)setvbuf(stderr, NULL, _IOLBF, 0);

	if (argc > 1 && !strcmp(argv[1], "provision"))
		return provision_main(argc - 1, argv + 1);

	while ((c = getopt(argc, argv, "f:tvh")) != -1) {
		switch (c) {

		case 'f':
			file = optarg;
			break;

		case 't':
			test_only = true;
			break;

		case 'v':
			verbose = true;
			break;

		case 'h':
			usage();
			return 0;

		default:
			usage();
			return 2;
		}
	}

	if (!file || optind != argc) {
		usage();
		return 2;
	}

	err = libre_init();
	if (err) {
		(void)re_fprintf(stderr, "parkblf: libre_init: %m\n", err);
		return 1;
	}

	/* libre takes the fd table size from its first use */
	fd_limit(!test_only);

	/* libre's random numbers (OpenSSL's) from parkblf's buffer */
	if (randbuf_openssl())
		(void)re_fprintf(stderr, "parkblf: OpenSSL keeps its own "
				 "random numbers (slower)\n");

	log_init_libre();
	/* the daemon's problems with its files are errors in its log */
	log_set_file_errors(!test_only);
	xmlInitParser();

	err = load(&cfg, &map, file, test_only);
	if (err)
		goto out;

	/* modules read their own keys at init */
	config_set_current(cfg);

	err = modules_init();
	if (err)
		goto out;

	if (test_only) {
		/* the daemon loads the users files itself; check them */
		if (cfg->subscribe_users) {
			struct subauth *sa = NULL;

			err = subauth_load(&sa, cfg->subscribe_users,
					   cfg->subscribe_realm, NULL);
			mem_deref(sa);
			if (err)
				goto out;
		}
		if (cfg->http_users) {
			struct subauth *sa = NULL;

			err = subauth_load(&sa, cfg->http_users, "parkblf",
					   NULL);
			mem_deref(sa);
			if (err)
				goto out;
		}

		rules = map ? list_count(&map->rules) : 0;
		if (!map)
			(void)re_printf("%s: OK (no PBX of its own: "
					"tenants_dir only)\n", file);
		else if (rules)
			(void)re_printf("%s: OK (%u orbits and %u discover "
					"line%s from %s)\n", file,
					orbitmap_count(map), rules,
					rules == 1 ? "" : "s", map->file);
		else
			(void)re_printf("%s: OK (%u orbits from %s)\n", file,
					orbitmap_count(map), map->file);
		ret = 0;
		goto out;
	}

	log_set_level(verbose ? LOG_LEVEL_DEBUG : cfg->log_level);
	(void)signal(SIGPIPE, SIG_IGN);

	err = app_alloc(&the_app, cfg, map);
	if (err) {
		log_error("main: cannot start: %m", err);
		goto out;
	}

	err = re_main(signal_handler);
	if (err)
		log_error("main: main loop: %m", err);
	else
		ret = 0;

 out:
	the_app = mem_deref(the_app);
	mem_deref(map);
	config_set_current(NULL);
	mem_deref(cfg);
	mod_close();
	xmlCleanupParser();
	libre_close();

	return ret;
}

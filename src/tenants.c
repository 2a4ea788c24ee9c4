/**
 * @file tenants.c  The tenants of tenants_dir, and which one a request is for
 *
 * One file per tenant, tenants_dir/NAME.conf (NAME: letters, digits,
 * '.', '_', '-'), with the keys of one PBX (config_parse_tenant).  On
 * SIGHUP and when the directory or a file changes, files are read again:
 * a tenant whose file is unchanged is left alone (its orbit map is
 * reloaded on SIGHUP, as parkblf.conf's is); a new file starts a tenant,
 * a changed one replaces its tenant (its phones' subscriptions end with
 * reason=deactivated and come back to the new one), a file gone ends its
 * tenant's subscriptions (reason=noresource) and its upstream link, and
 * state_db forgets the tenant.  A file with problems is reported as
 * FILE:LINE and the tenant in force, if any, stays.
 *
 * A request is for the tenant that listens on the address it came to
 * (tenant_listen); else for the tenant serving the Request-URI's host
 * (tenant_domain, default the host of its upstream_uri); else, if that
 * host is the address the request came to (a proxy in front, e.g.
 * Kamailio's dispatcher with ds_select_domain), for the tenant serving
 * the To host; else for the default tenant (parkblf.conf's own
 * upstream_uri and orbit_map), if there is one.  Otherwise it is
 * answered 404 (app.c).
 *
 * Config keys: tenants_dir; in tenant files tenant_domain,
 * tenant_listen and http_users (checked here, loaded by tenant.c).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <stdlib.h>
#include <dirent.h>
#include <re.h>
#include "parkblf.h"
#include "core.h"
#include "reload.h"
#include "tenant.h"
#include "subauth.h"


enum {
	DOMAIN_HASH_SIZE = 256,
	RETIRE_MS        = 5000,   /**< Final NOTIFYs of a tenant gone   */
	MAX_TENANTS      = 10000,
	MAX_FILE         = 1024 * 1024,
};

/** One tenant of tenants_dir */
struct entry {
	struct le le;              /**< In tenants.entries, name order   */
	struct le le_listen;       /**< In tenants.listens               */
	struct tenants *ts;
	char *name;
	struct mbuf *text;         /**< Its file as loaded               */
	struct tenant *t;
	struct list domains;       /**< struct tdomain                   */
	struct reload *watch;      /**< Its file                         */
	bool seen;                 /**< In the directory at this scan    */
};

/** A domain a tenant serves */
struct tdomain {
	struct le he;              /**< In tenants.by_domain             */
	struct le le;              /**< In entry.domains                 */
	char *name;
	struct entry *e;
};

struct tenants {
	const struct config *cfg;  /**< parkblf.conf's                   */
	struct tenant_env env;
	tenants_prepare_h *preph;
	tenants_release_h *releaseh;
	void *arg;
	struct list entries;
	struct list listens;       /**< Entries with tenant_listen       */
	struct list retired;       /**< Tenants gone, final NOTIFYs out  */
	struct hash *by_domain;
	struct tenant *dflt;       /**< parkblf.conf's, or NULL          */
	tenants_orbit_h *orbith;   /**< A tenant's orbit changed         */
	tenants_changed_h *changedh; /**< A tenant's map, or the tenant  */
	void *harg;
	struct reload *watch;      /**< The directory, and SIGHUP        */
	struct ptmr tmr_rescan;
	struct ptmr tmr_retire;
};

/** The state of one check or load of tenants_dir */
struct scan {
	const struct config *cfg;
	struct mbuf *errmb;
	struct hash *domains;      /**< For -t: struct tdomain           */
	bool test_only;
	unsigned errors;
	uint32_t count;
};


static void domain_destructor(void *arg)
{
	struct tdomain *d = arg;

	hash_unlink(&d->he);
	list_unlink(&d->le);
	mem_deref(d->name);
}


static void entry_destructor(void *arg)
{
	struct entry *e = arg;

	list_unlink(&e->le);
	list_unlink(&e->le_listen);
	list_flush(&e->domains);
	mem_deref(e->watch);
	mem_deref(e->t);
	mem_deref(e->text);
	mem_deref(e->name);
}


static void destructor(void *arg)
{
	struct tenants *ts = arg;

	ptmr_cancel(&ts->tmr_rescan);
	ptmr_cancel(&ts->tmr_retire);
	ts->watch = mem_deref(ts->watch);
	list_flush(&ts->entries);
	list_flush(&ts->retired);
	mem_deref(ts->by_domain);
}


static bool domain_cmp(struct le *le, void *arg)
{
	const struct tdomain *d = le->data;

	return 0 == pl_strcasecmp(arg, d->name);
}


static struct tdomain *domain_find(struct hash *h, const struct pl *name)
{
	return list_ledata(hash_lookup(h, hash_joaat_ci(name->p, name->l),
				       domain_cmp, (void *)name));
}


/* NAME of NAME.conf: a label in /metrics and a word in the logs */
static bool name_ok(const char *name, size_t len)
{
	size_t i;

	if (!len || name[0] == '.' || name[0] == '-')
		return false;

	for (i = 0; i < len; i++) {
		const char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}

	return true;
}


/* The domains of a tenant's file: tenant_domain, else its PBX's host */
static int domains_of(struct list *out, const struct config *cfg)
{
	struct pl list, d;
	struct uri uri;
	int err = 0;

	if (cfg->tenant_domain) {
		pl_set_str(&list, cfg->tenant_domain);
	}
	else {
		pl_set_str(&d, cfg->upstream_uri);
		if (uri_decode(&uri, &d))
			return EINVAL;
		list = uri.host;
	}

	while (list.l && !err) {
		struct tdomain *td;
		const char *comma = pl_strchr(&list, ',');

		d.p = list.p;
		d.l = comma ? (size_t)(comma - list.p) : list.l;
		pl_advance(&list, comma ? d.l + 1 : d.l);
		if (!d.l)
			continue;

		td = mem_zalloc(sizeof(*td), domain_destructor);
		if (!td)
			return ENOMEM;
		err = pl_strdup(&td->name, &d);
		list_append(out, &td->le, td);
	}

	return err;
}


/* Domains served by another tenant: FILE:LINE for each */
static unsigned domain_clashes(struct scan *sc, struct hash *h,
			       const struct list *doms,
			       const struct config *cfg, const char *name)
{
	unsigned clashes = 0;
	struct le *le;

	for (le = list_head(doms); le; le = le->next) {
		const struct tdomain *d = le->data, *other;
		struct pl pl;

		pl_set_str(&pl, d->name);
		other = domain_find(h, &pl);
		if (!other || !strcmp(other->e->name, name))
			continue;

		config_error(sc->errmb, cfg->file,
			     config_line(cfg, "tenant_domain") ?
			     config_line(cfg, "tenant_domain") :
			     config_line(cfg, "upstream_uri"),
			     "tenant_domain: %s is already served by tenant "
			     "'%s'", d->name, other->e->name);
		++clashes;
	}

	return clashes;
}


static void domains_link(struct hash *h, struct entry *e)
{
	struct le *le;

	for (le = list_head(&e->domains); le; le = le->next) {
		struct tdomain *d = le->data;

		d->e = e;
		hash_append(h, hash_joaat_ci(d->name, strlen(d->name)),
			    &d->he, d);
	}
}


/* One tenant file: its configuration, secrets and orbit map, checked */
static int tenant_file(struct config **cfgp, struct orbitmap **mapp,
		       struct mbuf **textp, struct scan *sc,
		       const char *path)
{
	struct config *cfg = NULL;
	struct orbitmap *map = NULL;
	struct mbuf *mb = NULL;
	int err;

	err = file_read(&mb, path, MAX_FILE);
	if (err) {
		config_error(sc->errmb, path, 0, "cannot read: %m", err);
		return err;
	}

	err = config_parse_tenant(&cfg, sc->cfg, path, mb->buf, mb->end,
				  sc->errmb);
	if (!err) {
		int serr = config_read_secrets(cfg, sc->errmb);
		int merr = orbitmap_load(&map, cfg->orbit_map, sc->errmb);
		int cerr = cfgcheck_run(cfg, map, sc->test_only, sc->errmb);
		int uerr = 0;

		/* its own pages' users (tenant_alloc loads them again) */
		if (cfg->http_users) {
			struct subauth *users = NULL;

			uerr = subauth_load(&users, cfg->http_users,
					    TENANT_HTTP_REALM, sc->errmb);
			mem_deref(users);
		}

		err = serr ? serr : merr ? merr : cerr ? cerr : uerr;
	}

	if (err) {
		mem_deref(cfg);
		mem_deref(map);
		mem_deref(mb);
		return err;
	}

	*cfgp = cfg;
	*mapp = map;
	*textp = mb;

	return 0;
}


static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}


static void names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mem_deref(names[i]);
	mem_deref(names);
}


/* The NAMEs of tenants_dir's NAME.conf files, sorted */
static int dir_names(char ***namesp, size_t *np, struct scan *sc)
{
	const char *dir = sc->cfg->tenants_dir;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(dir);
	if (!d) {
		err = errno;
		config_error(sc->errmb, sc->cfg->file,
			     config_line(sc->cfg, "tenants_dir"),
			     "tenants_dir: cannot read %s: %m", dir, err);
		return err;
	}

	names = mem_zalloc(MAX_TENANTS * sizeof(*names), NULL);
	if (!names)
		err = ENOMEM;

	while (!err && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *path;

		if (len < 6 || strcmp(de->d_name + len - 5, ".conf"))
			continue;   /* editors' backups, READMEs */
		len -= 5;

		err = re_sdprintf(&path, "%s/%s", dir, de->d_name);
		if (err)
			break;
		if (!name_ok(de->d_name, len) ||
		    (len == 7 && !strncmp(de->d_name, "default", 7))) {
			config_error(sc->errmb, path, 0, "a tenant's name is "
				     "letters, digits, '.', '_' and '-' (not "
				     "'default', parkblf.conf's own tenant): "
				     "file ignored");
			++sc->errors;
			mem_deref(path);
			continue;
		}
		mem_deref(path);

		if (n == MAX_TENANTS) {
			config_error(sc->errmb, dir, 0, "more than %u "
				     "tenants: the rest ignored",
				     MAX_TENANTS);
			++sc->errors;
			break;
		}
		err = re_sdprintf(&names[n], "%b", de->d_name, len);
		if (!err)
			++n;
	}

	(void)closedir(d);
	if (err) {
		names_free(names, n);
		return err;
	}

	qsort(names, n, sizeof(*names), name_cmp);
	*namesp = names;
	*np = n;

	return 0;
}


/**
 * Check every tenant file of tenants_dir (parkblf -t, and a start):
 * each problem as FILE:LINE
 *
 * @param cfg       parkblf.conf's configuration
 * @param test_only As cfgcheck_run's
 * @param errmb     Collects FILE:LINE messages, NULL reports them
 * @param countp    The number of good tenant files, or NULL
 *
 * @return 0 if every file is good, otherwise errorcode
 */
int tenants_check(const struct config *cfg, bool test_only,
		  struct mbuf *errmb, uint32_t *countp)
{
	struct list checked = LIST_INIT;
	struct scan sc;
	char **names = NULL;
	size_t n = 0, i;
	int err;

	if (!cfg)
		return EINVAL;
	if (!cfg->tenants_dir)
		return 0;

	memset(&sc, 0, sizeof(sc));
	sc.cfg = cfg;
	sc.errmb = errmb;
	sc.test_only = test_only;

	err = hash_alloc(&sc.domains, DOMAIN_HASH_SIZE);
	if (!err)
		err = dir_names(&names, &n, &sc);
	if (err)
		goto out;

	for (i = 0; i < n; i++) {
		struct config *tcfg = NULL;
		struct orbitmap *map = NULL;
		struct mbuf *text = NULL;
		struct entry *e;
		char *path;

		err = re_sdprintf(&path, "%s/%s.conf", cfg->tenants_dir,
				  names[i]);
		if (err)
			goto out;

		if (tenant_file(&tcfg, &map, &text, &sc, path)) {
			++sc.errors;
			mem_deref(path);
			continue;
		}

		/* an entry without a tenant: names the domains' owner */
		e = mem_zalloc(sizeof(*e), entry_destructor);
		if (e) {
			list_append(&checked, &e->le, e);
			e->name = mem_ref(names[i]);
			err = domains_of(&e->domains, tcfg);
		}
		else {
			err = ENOMEM;
		}

		if (!err && domain_clashes(&sc, sc.domains, &e->domains,
					   tcfg, names[i])) {
			++sc.errors;
		}
		else if (!err) {
			domains_link(sc.domains, e);
			++sc.count;
			if (test_only)
				(void)re_printf("%s: OK (%u orbits from %s)\n",
						path, orbitmap_count(map),
						map->file);
		}

		mem_deref(tcfg);
		mem_deref(map);
		mem_deref(text);
		mem_deref(path);
		if (err)
			goto out;
	}

 out:
	list_flush(&checked);
	mem_deref(sc.domains);
	names_free(names, n);
	if (countp)
		*countp = sc.count;
	if (!err && sc.errors)
		err = EINVAL;

	return err;
}


/** A tenant gone, until its final NOTIFYs had their time */
struct retiree {
	struct le le;              /**< In tenants.retired               */
	struct tenant *t;
};


static void retiree_destructor(void *arg)
{
	struct retiree *r = arg;

	list_unlink(&r->le);
	mem_deref(r->t);
}


static void retire_handler(void *arg)
{
	struct tenants *ts = arg;

	list_flush(&ts->retired);

	/* their tenant_listen addresses may be nobody's now */
	if (ts->releaseh)
		ts->releaseh(ts->arg);
}


/* A tenant replaced or gone: its phones are told (reason), its link
   ends; it goes once its final NOTIFYs had their time.  Takes over
   the reference. */
static void retire(struct tenants *ts, struct tenant *t,
		   enum sipevent_reason reason)
{
	struct retiree *r;

	if (!t)
		return;

	/* its alerts and final changes are nobody's business now */
	tenant_set_hooks(t, NULL, NULL, NULL, NULL);
	tenant_stop(t);
	tenant_close(t, reason, 0);

	r = mem_zalloc(sizeof(*r), retiree_destructor);
	if (!r) {
		mem_deref(t);
		return;
	}
	r->t = t;
	list_append(&ts->retired, &r->le, r);
	ptmr_start(&ts->tmr_retire, RETIRE_MS, retire_handler, ts);
}


static void rescan_handler(void *arg)
{
	(void)tenants_load(arg);
}


/* A tenant's file changed: read the directory again, from the loop
   (the watch that saw it may go with its tenant) */
static void file_changed(void *arg)
{
	struct entry *e = arg;

	ptmr_start(&e->ts->tmr_rescan, 0, rescan_handler, e->ts);
}


static struct entry *entry_find(const struct tenants *ts, const char *name)
{
	struct le *le;

	for (le = list_head(&ts->entries); le; le = le->next) {
		struct entry *e = le->data;

		if (!strcmp(e->name, name))
			return e;
	}

	return NULL;
}


static bool same_text(const struct entry *e, const struct mbuf *mb)
{
	return e && e->text && e->text->end == mb->end &&
		!memcmp(e->text->buf, mb->buf, mb->end);
}


/* Insert in name order (the order of /status and /metrics) */
static void entry_insert(struct tenants *ts, struct entry *e)
{
	struct le *le;

	for (le = list_head(&ts->entries); le; le = le->next) {
		const struct entry *x = le->data;

		if (strcmp(x->name, e->name) > 0) {
			list_insert_before(&ts->entries, le, &e->le, e);
			return;
		}
	}

	list_append(&ts->entries, &e->le, e);
}


static void entry_orbit_changed(const char *name, void *arg)
{
	struct entry *e = arg;

	if (e->ts->orbith)
		e->ts->orbith(e->t, name, e->ts->harg);
}


static void entry_map_changed(void *arg)
{
	struct entry *e = arg;

	if (e->ts->changedh)
		e->ts->changedh(e->name, e->ts->harg);
}


/* Start a tenant from its checked file; old: the entry it replaces */
static int entry_start(struct tenants *ts, struct scan *sc, const char *name,
		       const char *path, struct config *cfg,
		       struct orbitmap *map, struct mbuf *text,
		       struct entry *old)
{
	struct entry *e;
	struct le *le;
	int err;

	e = mem_zalloc(sizeof(*e), entry_destructor);
	if (!e)
		return ENOMEM;

	e->ts = ts;
	e->text = mem_ref(text);
	err = str_dup(&e->name, name);
	if (!err)
		err = domains_of(&e->domains, cfg);
	if (err)
		goto out;

	if (domain_clashes(sc, ts->by_domain, &e->domains, cfg, name)) {
		err = EINVAL;
		goto out;
	}

	for (le = list_head(&ts->listens); le; le = le->next) {
		const struct entry *x = le->data;

		if (x == old || !sa_cmp(&tenant_config(x->t)->tenant_listen,
					&cfg->tenant_listen, SA_ALL))
			continue;
		config_error(sc->errmb, path, config_line(cfg,
							  "tenant_listen"),
			     "tenant_listen: %J is tenant '%s''s",
			     &cfg->tenant_listen, x->name);
		err = EADDRINUSE;
		goto out;
	}

	err = ts->preph ? ts->preph(cfg, ts->arg) : 0;
	if (err)
		goto out;
	err = tenant_alloc(&e->t, name, cfg, map, &ts->env);
	if (!err)
		err = tenant_watch_map(e->t);
	if (!err)
		err = reload_watch(&e->watch, path, file_changed, e);
	if (!err)
		tenant_set_hooks(e->t, entry_orbit_changed, entry_map_changed,
				 NULL, e);
	if (err) {
		/* the address preph opened for it may be nobody's */
		e = mem_deref(e);
		if (ts->releaseh)
			ts->releaseh(ts->arg);
		return err;
	}

	/* the new one takes over: the old one's phones come back to it */
	if (old) {
		retire(ts, old->t, SIPEVENT_DEACTIVATED);
		old->t = NULL;
		mem_deref(old);
	}

	entry_insert(ts, e);
	domains_link(ts->by_domain, e);
	if (sa_isset(&cfg->tenant_listen, SA_ADDR))
		list_append(&ts->listens, &e->le_listen, e);
	e->seen = true;

	/* its boards (a replaced tenant's too) show the new one */
	if (ts->changedh)
		ts->changedh(e->name, ts->harg);

	err = tenant_start(e->t);
	if (err)
		log_error("tenants: %s: cannot subscribe upstream: %m", name,
			  err);
	return 0;

 out:
	mem_deref(e);
	return err;
}


/**
 * Read tenants_dir: start new tenants, replace changed ones, end those
 * whose file is gone; a file with problems leaves its tenant in force
 *
 * @param ts The tenants
 *
 * @return 0 if every file is good, otherwise errorcode (all reported)
 */
int tenants_load(struct tenants *ts)
{
	struct scan sc;
	char **names = NULL;
	size_t n = 0, i;
	unsigned added = 0, changed = 0, removed = 0, kept = 0;
	struct le *le;
	int err;

	if (!ts)
		return EINVAL;
	if (!ts->cfg->tenants_dir)
		return 0;

	memset(&sc, 0, sizeof(sc));
	sc.cfg = ts->cfg;

	err = dir_names(&names, &n, &sc);
	if (err)
		return err;   /* the directory went away: tenants stay */

	for (le = list_head(&ts->entries); le; le = le->next) {
		struct entry *e = le->data;

		e->seen = bsearch(&e->name, names, n, sizeof(*names),
				  name_cmp) != NULL;
	}

	/* first the files gone: their domains may have moved */
	le = list_head(&ts->entries);
	while (le) {
		struct entry *e = le->data;

		le = le->next;
		if (e->seen)
			continue;
		log_info("tenants: %s: its file is gone: its phones' "
			 "subscriptions end (noresource)", e->name);
		tenant_forget(e->t);
		retire(ts, e->t, SIPEVENT_NORESOURCE);
		e->t = NULL;
		if (ts->changedh)
			ts->changedh(e->name, ts->harg);
		mem_deref(e);
		++removed;
	}

	for (i = 0; i < n; i++) {
		struct entry *old = entry_find(ts, names[i]);
		struct config *cfg = NULL;
		struct orbitmap *map = NULL;
		struct mbuf *text = NULL;
		char *path = NULL;
		int ferr;

		err = re_sdprintf(&path, "%s/%s.conf", ts->cfg->tenants_dir,
				  names[i]);
		if (err)
			break;

		ferr = file_read(&text, path, MAX_FILE);
		if (!ferr && same_text(old, text)) {
			++kept;
			mem_deref(text);
			mem_deref(path);
			continue;
		}
		text = mem_deref(text);

		ferr = tenant_file(&cfg, &map, &text, &sc, path);
		if (!ferr)
			ferr = entry_start(ts, &sc, names[i], path, cfg, map,
					   text, old);
		if (ferr) {
			++sc.errors;
			if (old)
				log_error("tenants: %s not loaded; tenant "
					  "'%s' stays as it was", path,
					  names[i]);
			else
				log_error("tenants: %s not loaded", path);
		}
		else if (old) {
			log_info("tenants: %s: changed: its phones' "
				 "subscriptions end (deactivated) and come "
				 "back", names[i]);
			++changed;
		}
		else {
			++added;
		}

		mem_deref(cfg);
		mem_deref(map);
		mem_deref(text);
		mem_deref(path);
	}

	names_free(names, n);
	log_info("tenants: %u from %s (%u added, %u removed, %u changed, "
		 "%u unchanged%s)", list_count(&ts->entries),
		 ts->cfg->tenants_dir, added, removed, changed, kept,
		 sc.errors ? "; see the errors above" : "");

	if (!err && sc.errors)
		err = EINVAL;

	return err;
}


/* SIGHUP or the directory changed: its files, then the unchanged
   tenants' orbit maps (as parkblf.conf's map on SIGHUP) */
static void dir_changed(void *arg)
{
	struct tenants *ts = arg;
	struct le *le;

	(void)tenants_load(ts);

	for (le = list_head(&ts->entries); le; le = le->next) {
		const struct entry *e = le->data;

		tenant_map_reload(e->t);
	}
}


/**
 * Reload on SIGHUP and when tenants_dir changes
 *
 * @param ts The tenants
 *
 * @return 0 if success, otherwise errorcode
 */
int tenants_watch(struct tenants *ts)
{
	if (!ts)
		return EINVAL;
	if (!ts->cfg->tenants_dir)
		return 0;

	return reload_alloc(&ts->watch, ts->cfg->tenants_dir, dir_changed,
			    ts);
}


/**
 * Make the set of tenants (none yet: tenants_load reads them)
 *
 * @param tsp   Where to store the set
 * @param cfg   parkblf.conf's configuration (must outlive the set)
 * @param env   The daemon's SIP stacks
 * @param preph Called with each tenant's configuration before it starts
 *              (its tenant_listen address, TLS upstream), or NULL
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int tenants_alloc(struct tenants **tsp, const struct config *cfg,
		  const struct tenant_env *env, tenants_prepare_h *preph,
		  void *arg)
{
	struct tenants *ts;
	int err;

	if (!tsp || !cfg || !env)
		return EINVAL;

	ts = mem_zalloc(sizeof(*ts), destructor);
	if (!ts)
		return ENOMEM;

	ts->cfg = cfg;
	ts->env = *env;
	ts->preph = preph;
	ts->arg = arg;
	ptmr_init(&ts->tmr_rescan);
	ptmr_init(&ts->tmr_retire);

	err = hash_alloc(&ts->by_domain, DOMAIN_HASH_SIZE);
	if (err)
		mem_deref(ts);
	else
		*tsp = ts;

	return err;
}


/**
 * Set the default tenant (parkblf.conf's upstream_uri and orbit_map):
 * it takes requests no other tenant is chosen for
 *
 * @param ts The tenants
 * @param t  The default tenant (not referenced), or NULL
 */
void tenants_set_default(struct tenants *ts, struct tenant *t)
{
	if (ts)
		ts->dflt = t;
}


/**
 * Set what is called when tenants went for good (their final NOTIFYs
 * sent), so that addresses only they listened on may be closed
 *
 * @param ts       The tenants
 * @param releaseh Handler (with tenants_alloc's argument), or NULL
 */
void tenants_set_release(struct tenants *ts, tenants_release_h *releaseh)
{
	if (ts)
		ts->releaseh = releaseh;
}


static bool listens_on(const struct tenant *t, const struct sa *la)
{
	return t && sa_cmp(&tenant_config(t)->tenant_listen, la, SA_ALL);
}


/**
 * Whether a tenant, in force or still sending its final NOTIFYs,
 * listens on an address (tenant_listen)
 *
 * @param ts The tenants
 * @param la Address
 *
 * @return true if one does
 */
bool tenants_listen_used(const struct tenants *ts, const struct sa *la)
{
	struct le *le;

	if (!ts || !la)
		return false;

	for (le = list_head(&ts->entries); le; le = le->next) {
		const struct entry *e = le->data;

		if (listens_on(e->t, la))
			return true;
	}

	for (le = list_head(&ts->retired); le; le = le->next) {
		const struct retiree *r = le->data;

		if (listens_on(r->t, la))
			return true;
	}

	return false;
}


/**
 * Tell the owner of changes: an orbit's keys, and a tenant's orbit
 * map or the tenant itself (added, replaced or removed)
 *
 * @param ts       The tenants
 * @param orbith   An orbit of a tenant changed, or NULL
 * @param changedh A tenant's map or the tenant changed, or NULL
 * @param arg      Handler argument
 */
void tenants_set_hooks(struct tenants *ts, tenants_orbit_h *orbith,
		       tenants_changed_h *changedh, void *arg)
{
	if (!ts)
		return;

	ts->orbith = orbith;
	ts->changedh = changedh;
	ts->harg = arg;
}


/**
 * Find a tenant of tenants_dir by its name
 *
 * @param ts   The tenants
 * @param name NAME of tenants_dir/NAME.conf
 *
 * @return The tenant, or NULL if there is none of that name
 */
const struct tenant *tenants_find(const struct tenants *ts,
				  const struct pl *name)
{
	struct le *le;

	if (!ts || !pl_isset(name))
		return NULL;

	for (le = list_head(&ts->entries); le; le = le->next) {
		const struct entry *e = le->data;

		if (!pl_strcmp(name, e->name))
			return e->t;
	}

	return NULL;
}


static struct tenant *by_domain(const struct tenants *ts,
				const struct pl *host)
{
	const struct tdomain *d;

	if (!pl_isset(host))
		return NULL;

	d = domain_find(ts->by_domain, host);

	return d ? d->e->t : NULL;
}


/* Whether a URI's host is the address the request came to */
static bool host_is_dst(const struct pl *host, const struct sa *dst)
{
	struct sa sa;

	return !sa_set(&sa, host, 0) && sa_cmp(&sa, dst, SA_ADDR);
}


/**
 * Choose the tenant a phone's request is for (see the file's banner)
 *
 * @param ts  The tenants
 * @param msg Request
 *
 * @return The tenant, or NULL if none serves it
 */
struct tenant *tenants_choose(const struct tenants *ts,
			      const struct sip_msg *msg)
{
	struct tenant *t;
	struct le *le;

	if (!ts || !msg)
		return NULL;

	for (le = list_head(&ts->listens); le; le = le->next) {
		const struct entry *e = le->data;

		if (sa_cmp(&tenant_config(e->t)->tenant_listen, &msg->dst,
			   SA_ALL))
			return e->t;
	}

	t = by_domain(ts, &msg->uri.host);
	if (t)
		return t;

	if (host_is_dst(&msg->uri.host, &msg->dst)) {
		t = by_domain(ts, &msg->to.uri.host);
		if (t)
			return t;
	}

	return ts->dflt;
}


/**
 * Find a tenant by its name in state_db (tenant_dbkey)
 *
 * @param ts  The tenants
 * @param key NAME of tenants_dir/NAME.conf, or "" for the default tenant
 *
 * @return The tenant, or NULL if none runs under that name
 */
struct tenant *tenants_find_dbkey(const struct tenants *ts, const char *key)
{
	const struct entry *e;

	if (!ts || !key)
		return NULL;

	if (!key[0])
		return ts->dflt;

	e = entry_find(ts, key);

	return e ? e->t : NULL;
}


/**
 * Call a handler for each tenant of tenants_dir, in name order (the
 * default tenant is not one of them)
 *
 * @param ts  The tenants
 * @param h   Handler
 * @param arg Handler argument
 */
void tenants_apply(const struct tenants *ts, tenant_apply_h *h, void *arg)
{
	struct le *le;

	if (!ts || !h)
		return;

	for (le = list_head(&ts->entries); le; le = le->next) {
		const struct entry *e = le->data;

		h(e->t, arg);
	}
}


/** @return The number of tenants of tenants_dir */
uint32_t tenants_count(const struct tenants *ts)
{
	return ts ? list_count(&ts->entries) : 0;
}


/**
 * Stop every tenant's upstream link, and reloading
 *
 * @param ts The tenants
 */
void tenants_stop(struct tenants *ts)
{
	struct le *le;

	if (!ts)
		return;

	ts->watch = mem_deref(ts->watch);
	ptmr_cancel(&ts->tmr_rescan);
	for (le = list_head(&ts->entries); le; le = le->next) {
		struct entry *e = le->data;

		e->watch = mem_deref(e->watch);
		tenant_stop(e->t);
	}
}


/**
 * End the phone subscriptions of every tenant of tenants_dir
 *
 * @param ts          The tenants
 * @param reason      Subscription-State reason
 * @param retry_after retry-after told, 0 for none
 */
void tenants_close(struct tenants *ts, enum sipevent_reason reason,
		   uint32_t retry_after)
{
	struct le *le;

	if (!ts)
		return;

	for (le = list_head(&ts->entries); le; le = le->next) {
		struct entry *e = le->data;

		tenant_close(e->t, reason, retry_after);
	}
}

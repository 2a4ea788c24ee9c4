/**
 * @file core.h  Internal interfaces of the parkblf core
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_CORE_H
#define PARKBLF_CORE_H

struct sip;
struct sipevent_sock;


/* modules: the table generated from MODULES in the Makefile */

extern const struct mod_export *mod_table[];


/* ptmr: parkblf's timers, in one heap driven by one libre timer */

typedef void (ptmr_h)(void *arg);

/** A timer of parkblf's (libre's struct tmr holds a list element) */
struct ptmr {
	uint64_t jfs;               /**< Expiry, ms of tmr_jiffies()      */
	ptmr_h *th;                 /**< Handler, NULL when not running   */
	void *arg;                  /**< Handler argument                 */
	size_t idx;                 /**< Heap index while running         */
};

void     ptmr_init(struct ptmr *tmr);
void     ptmr_start(struct ptmr *tmr, uint64_t delay, ptmr_h *th,
		    void *arg);
void     ptmr_cancel(struct ptmr *tmr);
uint64_t ptmr_get_expire(const struct ptmr *tmr);
void     ptmr_poll(void);
uint64_t ptmr_next_timeout(void);
size_t   ptmr_count(void);
size_t   ptmr_expire_all(size_t max);
struct list *ptmr_libre_list(void);


/**
 * Check if a timer is running
 *
 * @param tmr Timer
 *
 * @return true if running
 */
static inline bool ptmr_isrunning(const struct ptmr *tmr)
{
	return tmr && tmr->th;
}


/* tfifo: timers of a few fixed intervals, one FIFO list per interval */

typedef void (tfifo_h)(void *arg);

/** An entry of a tfifo (zeroed: not running) */
struct tfent {
	struct le le;               /**< First: in its interval's list    */
	uint64_t due;               /**< Expiry, ms of tmr_jiffies()      */
};

struct tfifo;

int      tfifo_alloc(struct tfifo **tfp, tfifo_h *h);
int      tfifo_start(struct tfifo *tf, struct tfent *e, uint32_t ms,
		     void *arg);
void     tfifo_cancel(struct tfent *e);
uint64_t tfifo_get_expire(const struct tfent *e);
uint32_t tfifo_count(const struct tfifo *tf);


/**
 * Check if a tfifo entry is running
 *
 * @param e Entry
 *
 * @return true if running
 */
static inline bool tfifo_isrunning(const struct tfent *e)
{
	return e && e->le.list;
}


/* randbuf: parkblf's random numbers, from a getrandom(2) buffer */

void     randbuf_bytes(uint8_t *p, size_t size);
uint16_t randbuf_u16(void);
uint32_t randbuf_u32(void);
uint64_t randbuf_u64(void);
uint64_t randbuf_drawn(void);
int      randbuf_openssl(void);


/* sipsock */

bool sipsock_tune(const struct sip_msg *msg);
int  sipsock_fd(const struct sa *laddr);
bool sipsock_congested(void);
unsigned sipsock_room(unsigned max);
void sipsock_reset(void);
typedef bool (sipsock_recv_h)(const struct sa *src, struct mbuf *mb,
			      void *arg);
typedef void (sipsock_new_h)(void *sock, const struct sa *laddr, void *arg);
void sipsock_tap(sipsock_recv_h *h, sipsock_new_h *newh, void *arg);
void *sipsock_find(const struct sa *laddr);
bool sipsock_tapped(const void *sock);
void sipsock_forget(const struct sa *laddr);

/* sockclose */
int  sockclose_addr(const struct sa *laddr, unsigned *np);
void sipsock_drain_stats(uint64_t *calls, uint64_t *drained);
typedef bool (sipsock_bulk_h)(void *sock, const struct sa *laddr,
			      const struct sa *src, struct mbuf *mb,
			      void *arg);
typedef unsigned (sipsock_budget_h)(void *arg);
void sipsock_bulk(sipsock_bulk_h *h, sipsock_budget_h *budgeth, void *arg);
uint64_t sipsock_bulk_taken(void);


/* strec: SUBSCRIBEs libre may hold a server transaction for */

void     strec_add(const struct sip_msg *msg);
bool     strec_has(const struct sip_msg *msg);
uint32_t strec_count(void);
bool     strec_full(void);
uint32_t strec_max(void);
void     strec_set_now(uint64_t ms);
void     strec_reset(void);


/* sippin: libre's requests to phones from the socket they spoke to */

struct sippin;
void sippin_probe(struct sip *sip);
void sippin_probe_sock(struct sip *sip, const struct sa *laddr);
bool sippin_is_probe(const struct sip_msg *msg);
int  sippin_alloc(struct sippin **pinp, const struct pl *callid,
		  const struct sa *laddr);
void sippin_linger(struct sippin *pin);
bool sippin_moves(const struct sa *laddr, const struct sa *dst,
		  const uint8_t *p, size_t len);
bool sippin_send(int *err, const struct sa *laddr, const struct sa *dst,
		 struct mbuf *mb);
void sippin_reset(void);


/* txq: datagrams of the fast path, many per sendmmsg */

char    *txq_reserve(size_t max);
void     txq_commit(int fd, const struct sa *dst, size_t len);
void     txq_flush(void);
unsigned txq_count(void);
uint64_t txq_calls(void);
uint64_t txq_refits(void);


/* wiredump: every message sent, one file each (PARKBLF_WIRE_DUMP) */

int  wiredump_attach(struct sip *sip);
void wiredump_tx(const struct mbuf *mb);
bool wiredump_on(void);
void wiredump_close(void);


/* memtrim */

struct memtrim;
int memtrim_alloc(struct memtrim **mtp);


/* log */

void log_init_libre(void);
void log_set_file_errors(bool logged);
void log_file_error(const char *file, const char *pos, const char *fmt,
		    va_list *ap);


/* file */

int file_read(struct mbuf **mbp, const char *path, size_t maxlen);
int file_path_relative(char **pathp, const char *base, const char *path);
int file_mode_print(struct re_printf *pf, void *arg);
typedef void (file_line_h)(const struct pl *line, unsigned lineno,
			   void *arg);
unsigned file_lines(const uint8_t *buf, size_t len, file_line_h *lineh,
		    void *arg);


/* config */

enum { CONFIG_MAX_LISTEN = 8 };

/** nat_mode: which phones get their requests at their source address */
enum nat_mode {
	NAT_AUTO = 0,   /**< Those whose Contact or Via is not their source */
	NAT_ALWAYS,     /**< Every phone not behind a proxy               */
	NAT_NEVER,      /**< None: the Contact, as RFC 3261 says           */
};

/** The main configuration (see conf/parkblf.conf for every key) */
struct config {
	char *file;                   /**< Path it was read from          */
	struct sa listenv[CONFIG_MAX_LISTEN]; /**< sip_listen addresses   */
	size_t listenc;
	unsigned listen_line[CONFIG_MAX_LISTEN]; /**< Line of each        */
	char *upstream_uri;
	char *upstream_user;          /**< From user (the extension)      */
	char *upstream_auth_user;     /**< Digest user, NULL: upstream_user*/
	char *upstream_password;      /**< Given, or read from the file   */
	char *upstream_password_file;
	char *upstream_event;
	char *upstream_accept;
	char *upstream_capture;
	uint32_t upstream_capture_max;/**< Bytes before FILE.1 rotation   */
	uint32_t upstream_expires;
	uint32_t upstream_retry_min;  /**< Backoff bounds, seconds        */
	uint32_t upstream_retry_max;
	uint32_t upstream_grace;      /**< s down before phones are told  */
	uint32_t upstream_keepalive;  /**< s between OPTIONS pings, 0 off */
	uint32_t unknown_retry_after; /**< retry-after told then, s       */
	char *orbit_map;              /**< Resolved against the conf dir  */
	char *state_db;               /**< SQLite file, or NULL           */
	struct sa http_listen;
	uint32_t http_max_connections;  /**< Open at once, at most        */
	struct sa upstream_listen;    /**< The upstream link's address    */
	uint32_t subscribe_min_expires;
	uint32_t subscribe_max_expires;
	uint32_t subscribe_default_expires;
	uint32_t subscribe_max_total;     /**< Subscriptions in all      */
	uint32_t subscribe_max_per_source;/**< ... from one IP address   */
	bool dialog_all_calls;
	enum lamp_style dialog_lamp;
	uint32_t park_alert_after;    /**< s a call waits before its key
					   asks for attention, 0 off     */
	uint32_t history_max;         /**< Calls /status?history= keeps   */
	char *subscribe_allow;        /**< Networks that may use parkblf  */
	char *trusted_proxies;        /**< Proxies whose Vias are believed */
	bool stop_handover;           /**< SIGTERM: phones re-subscribe at
					   once (to another instance)    */
	char *http_allow;             /**< Networks that may use HTTP     */
	char *http_users;             /**< Basic credentials for /board and
					   /status, or NULL                */
	char *subscribe_users;        /**< Digest users file, or NULL     */
	char *subscribe_realm;        /**< Digest realm for phones        */
	struct sa tls_listen;         /**< SIP over TLS for phones        */
	char *tls_cert;               /**< PEM: certificate and key       */
	bool privacy;                 /**< Hide callers on every orbit    */
	uint32_t notify_min_interval; /**< ms between NOTIFYs per sub     */
	uint32_t notify_phone_rate;   /**< NOTIFYs/s per phone address    */
	char *blf_list;               /**< RFC 4662 list name, or NULL    */
	char *vendor_xml_ctype;       /**< Vendor decoder (modules read   */
	char *vendor_xml_ns;          /**< these through config_module_str)*/
	char *vendor_xml_dn;
	char *vendor_xml_call;
	char *vendor_xml_call_id;
	char *vendor_xml_number;
	char *vendor_xml_name;
	enum log_level log_level;
	enum nat_mode nat_mode;       /**< Phones behind NAT (natkeep.c)  */
	uint32_t nat_keepalive;       /**< s between keepalives, 0 off    */
	uint32_t nat_keepalive_grace; /**< s unanswered: the phone is gone */
	char *tenants_dir;            /**< One NAME.conf per tenant, or NULL */
	char *tenant_domain;          /**< Domains a tenant serves (commas) */
	struct sa tenant_listen;      /**< A tenant's own address, or unset */
	bool tenant;                  /**< Parsed from a tenant file      */
	unsigned *lines;              /**< Line each key was set on       */
};

int config_parse(struct config **cfgp, const char *file,
		 const uint8_t *buf, size_t len, struct mbuf *errmb);
int config_load(struct config **cfgp, const char *file,
		struct mbuf *errmb);
int config_parse_tenant(struct config **cfgp, const struct config *base,
			const char *file, const uint8_t *buf, size_t len,
			struct mbuf *errmb);
int config_read_secrets(struct config *cfg, struct mbuf *errmb);
void config_set_current(const struct config *cfg);
unsigned config_line(const struct config *cfg, const char *key);
const char *config_auth_user(const struct config *cfg);
void config_error(struct mbuf *errmb, const char *file, unsigned line,
		  const char *fmt, ...);


/* cfgcheck: will the configuration work at run time */

struct orbitmap;
int cfgcheck_run(const struct config *cfg, const struct orbitmap *map,
		 bool test_only, struct mbuf *errmb);


/* orbit map */

/** Where an orbit comes from */
enum orbit_origin {
	ORBIT_LINE = 0,      /**< A line of its own                       */
	ORBIT_RANGE,         /**< A range line: park-{1..20} *{00..19}    */
	ORBIT_DISCOVERED,    /**< A discover rule, when the PBX named it  */
};

/** One orbit of the orbit map */
struct orbit {
	struct le le;        /**< In orbitmap.orbits, file order          */
	struct le he_name;   /**< In orbitmap.by_name                     */
	struct le he_dn;     /**< In orbitmap.by_dn                       */
	char *name;          /**< What phones subscribe to: "park-1"      */
	char *dn;            /**< How the PBX names it: "*00"             */
	char *retrieve;      /**< What a key press dials: "*10"           */
	char *park;          /**< What a transfer to the key dials        */
	char *label;         /**< Shown on the key, may be NULL           */
	int privacy;         /**< -1 as configured, 0 show, 1 hide caller */
	int32_t alert_after; /**< alert_after= seconds, -1 as configured  */
	unsigned line;       /**< Line in the map file (of its rule)      */
	enum orbit_origin origin;
};

struct orbitmap {
	char *file;
	struct list orbits;
	struct list rules;   /**< struct orbitdisc: discover lines        */
	struct hash *by_name;
	struct hash *by_dn;
};

int orbitmap_parse(struct orbitmap **mapp, const char *file,
		   const uint8_t *buf, size_t len, struct mbuf *errmb);
int orbitmap_load(struct orbitmap **mapp, const char *file,
		  struct mbuf *errmb);
struct orbit *orbitmap_find(const struct orbitmap *map,
			    const struct pl *name);
bool orbitmap_has_dn(const struct orbitmap *map, const char *dn);
struct orbit *orbitmap_find_dialled(const struct orbitmap *map,
				    const struct pl *user, bool *park);
typedef void (orbit_apply_h)(struct orbit *orbit, void *arg);
void orbitmap_apply_dn(const struct orbitmap *map, const char *dn,
		       orbit_apply_h *h, void *arg);
uint32_t orbitmap_count(const struct orbitmap *map);
struct orbit *orbitmap_discover(struct orbitmap *map, const char *dn);
struct orbit *orbitmap_discover_preview(const struct orbitmap *map,
					const struct pl *name);
struct orbit *orbitmap_dialled_preview(const struct orbitmap *map,
				       const struct pl *user);
struct orbit *orbitmap_discover_name(struct orbitmap *map,
				     const struct pl *name);
void orbitmap_inherit(struct orbitmap *map, const struct orbitmap *old);


/* store: parked calls per DN */

/** A call parked in an orbit, as the store keeps it */
struct parked_call {
	struct le le;
	char *id;
	char *number;
	char *name;
	uint64_t parked_at;  /**< ms since the epoch                      */
};

struct store;
typedef void (store_change_h)(const char *dn, void *arg);
/** A call left a DN (retrieved, or the caller hung up) */
typedef void (store_end_h)(const char *dn, const struct parked_call *pc,
			   uint64_t now_ms, void *arg);

int  store_alloc(struct store **storep, store_change_h *changeh,
		 void *arg);
int  store_apply(struct store *store, const struct orbitmap *map,
		 const struct dn_update *upd, uint64_t now_ms);
const struct list *store_calls(const struct store *store, const char *dn);
bool store_occupied(const struct store *store, const char *dn);
bool store_known(const struct store *store, const char *dn);
void store_set_endh(struct store *store, store_end_h *endh, void *arg);
void store_new_session(struct store *store);
void store_session_sweep(struct store *store);
void store_clear_unmapped(struct store *store, const struct orbitmap *map);
uint64_t store_now_ms(void);


/* capture */

struct capture;
int  capture_open(struct capture **capp, const char *path,
		   uint64_t max);
void capture_write(struct capture *cap, const struct sip_msg *msg);

#endif

/**
 * @file fakepbx.h  Fake PBX -- internal interfaces
 *
 * Copyright (C) 2024 parkblf authors
 */
#ifndef FAKEPBX_H
#define FAKEPBX_H

struct ctrl;
struct script;

/** NOTIFY body format */
enum pbx_fmt {
	PBX_FMT_DIALOG = 0,
	PBX_FMT_RLMI,
	PBX_FMT_PIDF,
};

/** A string in a list (-e list) */
struct pbx_str {
	struct le le;
	char *s;
};

/** One parked call */
struct pbx_call {
	struct le le;       /**< In pbx_dn.calls, park order          */
	char *callid;       /**< Call-ID, also the dialog id          */
	char *number;       /**< Caller number                        */
	char *name;         /**< Caller display name or NULL          */
	uint64_t parked;    /**< tmr_jiffies() at park time           */
};

/** One parking DN known to the PBX */
struct pbx_dn {
	struct le le;       /**< In pbx.dnl, in -d order then new ones */
	char *dn;           /**< DN (user part)                       */
	struct list calls;  /**< struct pbx_call, oldest first        */
};

/** Description of what changed on one DN */
struct pbx_change {
	const struct pbx_dn *dn;        /**< The DN                       */
	const struct pbx_call **callv;  /**< Changed calls                */
	size_t callc;                   /**< Number of changed calls      */
	bool removed;                   /**< Calls were removed           */
};

/** The whole fake PBX */
struct pbx {
	/* command line */
	struct sa laddr;       /**< SIP listen address (-l)            */
	struct sa caddr;       /**< Control listen address (-c)        */
	const char *user;      /**< Digest user (-u) or NULL           */
	const char *pass;      /**< Digest password (-p)               */
	const char *realm;     /**< Digest realm (-r)                  */
	const char *portfile;  /**< Port file (-P) or NULL             */
	const char *scriptf;   /**< Script file (-s) or NULL           */
	const char *resource;  /**< Accepted R-URI user (-n)           */
	struct list eventl;    /**< Accepted event packages (-e), str  */
	bool verbose;          /**< -v: trace SIP messages             */

	/* behaviour, changed by commands */
	enum pbx_fmt fmt;      /**< Body format                        */
	bool partial;          /**< Partial dialog-info on changes     */
	uint16_t refuse;       /**< Refuse SUBSCRIBEs with this code   */
	uint32_t refuse_ra;    /**< Retry-After for refusals, 0 = none */
	bool silent;           /**< Ignore requests, send nothing      */
	bool unsub_quiet;      /**< Un-SUBSCRIBE: 200, no final NOTIFY */

	/* state */
	struct list dnl;       /**< struct pbx_dn                      */
	struct list subl;      /**< struct sub (subs.c)                */
	uint64_t notifies;     /**< NOTIFYs answered with 2xx          */

	/* run time */
	struct sip *sip;
	struct sip_lsnr *lsnr;
	struct ctrl *ctrl;
	struct script *script;
	struct tmr tmr_quit;   /**< Shutdown poll / deadline           */
	uint64_t quit_deadline;
	bool closing;
};


/* fakepbx.c */
void fakepbx_log(const char *fmt, ...);
void fakepbx_quit(struct pbx *pbx);
int  fakepbx_strlist(struct list *l, const char *csv);
bool fakepbx_strlist_has(const struct list *l, const struct pl *pl);
const char *fakepbx_fmt_name(enum pbx_fmt fmt);
int  fakepbx_fmt_decode(enum pbx_fmt *fmt, const struct pl *pl);

/* dnstore.c */
struct pbx_dn *dnstore_find(const struct pbx *pbx, const struct pl *dn);
int  dnstore_add(struct pbx_dn **dnp, struct pbx *pbx, const struct pl *dn);
int  dnstore_park(struct pbx *pbx, const struct pl *dn,
		  const struct pl *callid, const struct pl *number,
		  const struct pl *name);
int  dnstore_retrieve(struct pbx *pbx, const struct pl *dn,
		      const struct pl *callid);
void dnstore_clear(struct pbx *pbx);
int  dnstore_print(struct re_printf *pf, const struct pbx *pbx);

/* body.c */
int body_dialog(struct mbuf *mb, const char *host, const struct pbx_dn *dn,
		uint32_t version, const struct pbx_change *chg);
int body_pidf(struct mbuf *mb, const char *host, const struct pbx_dn *dn);
int body_rlmi(struct mbuf *mb, char **ctypep, const char *host,
	      const char *resource, uint32_t version, bool full,
	      const struct pbx_change *chgv, const uint32_t *verv,
	      size_t chgc, bool partial);
int body_garbage(struct mbuf *mb, char **ctypep, const char *kind,
		 const char *host, const struct pbx_dn *dn,
		 uint32_t version);
const char *body_ctype(enum pbx_fmt fmt);

/* subs.c */
int  subs_init(struct pbx *pbx);
void subs_close(struct pbx *pbx);
void subs_notify(struct pbx *pbx, const struct pbx_change *chgv,
		 size_t chgc);
int  subs_garbage(struct pbx *pbx, const char *kind, const struct pl *dn);
int  subs_raw(struct pbx *pbx, const char *ctype, struct mbuf *body);
void subs_terminate(struct pbx *pbx, const char *reason,
		    uint32_t retry_after);
void subs_forget(struct pbx *pbx);
void subs_kick(struct pbx *pbx);
uint32_t subs_count(const struct pbx *pbx);
uint32_t subs_pending(const struct pbx *pbx);

/* cmd.c */
int  cmd_exec(struct pbx *pbx, struct mbuf *reply, const struct pl *line);

/* ctrl.c */
int  ctrl_alloc(struct ctrl **ctrlp, struct pbx *pbx,
		const struct sa *laddr);
uint16_t ctrl_port(const struct ctrl *ctrl);

/* script.c */
int  script_alloc(struct script **scriptp, struct pbx *pbx,
		  const char *path);

#endif

/**
 * @file persist.h  Phone subscriptions kept in SQLite across restarts
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_PERSIST_H
#define PARKBLF_PERSIST_H

struct persist;

/** One stored phone subscription: what a NOTIFY on its dialog needs */
struct persist_sub {
	const char *tenant;    /**< NAME of tenants_dir/NAME.conf, "" (or
				    NULL when saving): parkblf.conf's PBX */
	const char *callid;
	const char *ltag;      /**< Our tag                              */
	const char *rtag;      /**< The phone's tag                      */
	const char *local;     /**< Our URI (the To of the SUBSCRIBE)     */
	const char *remote;    /**< The phone's From, without tag        */
	const char *target;    /**< The phone's Contact URI              */
	const char *orbit;     /**< Orbit name (a list: the list's name) */
	const char *event;     /**< Event package                        */
	const char *entity;    /**< The URI subscribed to                */
	uint64_t expires_at;   /**< ms since the epoch                   */
	uint32_t cseq;         /**< Last CSeq used, 0: a first run (<65536) */
	uint32_t version;      /**< Next document version                */
	int tp;                /**< enum sip_transp                      */
	struct sa nat;         /**< Behind NAT: where it is, else unset  */
	struct sa laddr;       /**< Our address it spoke to, or unset    */
	struct sa phone;       /**< Where limits count it (a trusted
				    proxy's Via), or unset: as nat/target */
	bool list;             /**< A BLF list subscription (RFC 4662)   */
};

typedef void (persist_load_h)(const struct persist_sub *s, void *arg);

int  persist_open(struct persist **pp, const char *path);
int  persist_save(struct persist *p, const struct persist_sub *s);
int  persist_delete(struct persist *p, const char *callid,
		    const char *rtag, const char *ltag);
int  persist_update(struct persist *p, const char *callid,
		    const char *rtag, const char *ltag, uint32_t version,
		    uint32_t cseq, uint64_t expires_at);
int  persist_load(struct persist *p, persist_load_h *h, void *arg);
int  persist_begin(struct persist *p);
int  persist_commit(struct persist *p);

#endif

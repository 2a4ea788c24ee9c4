/**
 * @file parkblf.h  Interface between the parkblf core and its modules
 *
 * The core knows decoders (upstream bodies, by Content-Type) and encoders
 * (downstream bodies, by event package) only through the handler structs
 * declared here.  Modules register them from their init function.
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_H
#define PARKBLF_H

struct mbuf;
struct pl;
struct msg_ctype;
struct re_printf;


/* modules */

/** Name of a module's export struct, as the static module table uses it */
#define DECL_EXPORTS(name) exports_ ##name


/* config: string keys of the configuration in force */

const char *config_module_str(const char *name);


/* log */

enum log_level {
	LOG_LEVEL_DEBUG = 0,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
void log_printf(enum log_level level, const char *fmt, ...);
#define log_debug(...) log_printf(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_printf(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_printf(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_printf(LOG_LEVEL_ERROR, __VA_ARGS__)

/** One kind of log line a stranger can cause with every request: a
    few per window are printed, the rest counted (one static per kind) */
struct log_limit {
	uint64_t start;      /**< The window began, tmr_jiffies() ms  */
	uint32_t lines;      /**< Printed in it                       */
	uint32_t dropped;    /**< Not printed in it                   */
};

void log_limited(struct log_limit *ll, enum log_level level,
		 const char *fmt, ...);


/* dn report: what a decoder makes of an upstream body */

/** One call the PBX reports on a DN */
struct dn_call {
	struct le le;
	char *id;            /**< Dialog id, stable while the call lasts   */
	char *number;        /**< Caller number (user part), may be NULL   */
	char *name;          /**< Caller display name, may be NULL         */
	bool terminated;     /**< Reported as gone (partial state)         */
	bool has_duration;   /**< duration is set                          */
	uint32_t duration;   /**< Seconds the call has existed             */
};

/** The state of one DN as reported in one document */
struct dn_report {
	struct le le;
	char *dn;            /**< The DN (user part of the entity)         */
	bool partial;        /**< Only changed calls are listed            */
	bool pending;        /**< State unknown (a resource list names the
				  DN without its state): keep what is known */
	bool unknown;        /**< State unknown for good (a resource list
				  ended its subscription to the DN): no
				  lamp may show it until a report does */
	bool has_version;    /**< version is set                           */
	uint32_t version;    /**< Document version, per DN                 */
	bool occupied;       /**< Busy without call details (presence)     */
	struct list calls;   /**< struct dn_call, in document order        */
};

/** Everything one upstream body reported */
struct dn_update {
	struct list reports; /**< struct dn_report                         */
	bool fullstate;      /**< Reports cover every DN: others are idle  */
};

int dn_update_alloc(struct dn_update **updp);
int dn_report_add(struct dn_report **repp, struct dn_update *upd,
		  const char *dn, size_t dn_len);
int dn_call_add(struct dn_call **callp, struct dn_report *rep,
		const char *id);


/* decoder: upstream body -> dn_update */

/**
 * Decode one body into reports appended to upd.
 *
 * @param upd    Update to append reports to
 * @param ctype  The body's Content-Type (with parameters)
 * @param buf    Body
 * @param len    Body length
 *
 * @return 0 if success, otherwise errorcode (EBADMSG for a malformed body)
 */
typedef int (decode_h)(struct dn_update *upd, const struct msg_ctype *ctype,
		       const uint8_t *buf, size_t len);

struct decoder {
	struct le le;
	const char *type;     /**< e.g. "application"                      */
	const char *subtype;  /**< e.g. "dialog-info+xml"                  */
	const char *accept;   /**< Accept entry if not type/subtype, or NULL */
	decode_h *decodeh;
};

void decoder_register(struct decoder *dec);
void decoder_unregister(struct decoder *dec);
int  decoder_decode(struct dn_update *upd, const struct msg_ctype *ctype,
		    const uint8_t *buf, size_t len);
int  decoder_accept_print(struct re_printf *pf, void *unused);
int  uri_user_dup(char **userp, const char *uri);


/* safe XML parsing for decoders (libxml2) */

struct _xmlDoc;
int  xmlsafe_parse(struct _xmlDoc **docp, const uint8_t *buf, size_t len);
void xmlsafe_free(struct _xmlDoc *doc);
/** Largest upstream body or body part accepted, in bytes */
enum { XMLSAFE_MAX_BODY = 1024 * 1024 };


/* encoder: orbit state -> downstream body */

/** One parked call as an encoder sees it */
struct orbit_call {
	const char *id;      /**< Stable id for the downstream <dialog>   */
	const char *number;  /**< May be NULL                             */
	const char *name;    /**< May be NULL                             */
	uint32_t duration;   /**< Seconds parked                          */
};

enum lamp_style {
	LAMP_CONFIRMED = 0,  /**< Solid lamp while occupied               */
	LAMP_EARLY,          /**< Flashing lamp while occupied            */
};

/** Everything an encoder needs for one document */
struct orbit_view {
	const char *entity;        /**< URI the watcher subscribed to      */
	const char *name;          /**< Orbit name, e.g. "park-1"          */
	const char *label;         /**< May be NULL                        */
	const char *retrieve_uri;  /**< Where a key press should dial      */
	const char *domain;        /**< PBX host[:port], for caller URIs   */
	uint32_t version;          /**< Per-subscription document version  */
	const struct orbit_call *callv;  /**< Oldest first                 */
	size_t callc;
	bool occupied;             /**< Busy even with callc == 0          */
	bool all_calls;            /**< One <dialog> per call              */
	bool privacy;              /**< Leave the callers out              */
	enum lamp_style lamp;
	uint32_t overdue_s;        /**< The oldest call has waited past
					this alert time (seconds): the
					key asks for attention; 0 not  */
};

typedef int (encode_h)(struct mbuf *mb, const struct orbit_view *view);

struct encoder {
	struct le le;
	const char *event;   /**< Event package, e.g. "dialog"            */
	const char *ctype;   /**< e.g. "application/dialog-info+xml"      */
	encode_h *encodeh;
	bool splice;         /**< Prints the view's entity only through
				  xml_escape_print and its version only
				  as %u: one rendering of a change serves
				  every watcher (src/doctpl.c checks it) */
};

void encoder_register(struct encoder *enc);
void encoder_unregister(struct encoder *enc);
const struct encoder *encoder_find(const struct pl *event);
int  encoder_events_print(struct re_printf *pf, void *unused);

/** Print XML-escaped text (invalid UTF-8 becomes U+FFFD) */
int  xml_escape_print(struct re_printf *pf, const char *str);
size_t utf8_char_len(const uint8_t *p, size_t n);

#endif

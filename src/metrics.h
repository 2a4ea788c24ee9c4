/**
 * @file metrics.h  Counters for /metrics and /status
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_METRICS_H
#define PARKBLF_METRICS_H

/** Monotonic counters since start-up; one process, one set */
struct metrics {
	uint64_t subscribes_accepted;  /**< Phone SUBSCRIBEs taken         */
	uint64_t subscribes_refused;   /**< ... answered 4xx/5xx           */
	uint64_t notifies_sent;        /**< Documents handed to libre      */
	uint64_t notifies_failed;      /**< Subscriptions ended by a NOTIFY
					    failure (481, timeout, ...)    */
	uint64_t upstream_attempts;    /**< SUBSCRIBEs sent upstream       */
	uint64_t upstream_reconnects;  /**< Link up again after down       */
	uint64_t upstream_notifies;    /**< NOTIFYs received upstream      */
	uint64_t upstream_notify_retransmissions; /**< ... answered again */
	uint64_t decode_errors;        /**< Upstream bodies refused        */
	uint64_t orbit_changes;        /**< Orbit state changes fanned out */
	uint64_t fanout_waits;         /**< Batches held: answers unread   */
	uint64_t nat_keepalives_sent;  /**< To phones behind NAT           */
	uint64_t nat_keepalives_answered;
	uint64_t nat_phones_lost;      /**< Phones gone silent behind NAT  */
	uint64_t unverified_withheld;  /**< Datagrams over the 3x budget   */
	uint64_t http_refused;         /**< Over http_max_connections      */
	uint64_t alerts;               /**< Orbits gone overdue by timer   */
	uint64_t orbits_discovered;    /**< Made by discover lines         */
	uint64_t discover_refused;     /**< ... not made: max= reached     */
	uint64_t requests_refused;     /**< Other requests answered 4xx/5xx:
					    not allowed, no dialog, method */
	uint64_t log_suppressed;       /**< Lines of refusals not logged   */
};

extern struct metrics metrics;

#endif

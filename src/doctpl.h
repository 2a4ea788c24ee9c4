/**
 * @file doctpl.h  One rendered document, spliced per watcher
 *
 * Copyright (C) 2026 The parkblf authors
 */
#ifndef PARKBLF_DOCTPL_H
#define PARKBLF_DOCTPL_H

struct doctpl;

/**
 * Render a document
 *
 * @param mb      Buffer to append to
 * @param entity  The URI it is about
 * @param version Its version
 * @param arg     Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
typedef int (doctpl_render_h)(struct mbuf *mb, const char *entity,
			      uint32_t version, void *arg);

enum { DOCTPL_ENTITY_MAX = 512 };  /**< Escaped, spliced; longer: literal */

int  doctpl_build(struct doctpl **tp, doctpl_render_h *rh, void *arg);
int  doctpl_literal(struct doctpl **tp, doctpl_render_h *rh, void *arg,
		    const char *entity, uint32_t version);
bool doctpl_spliced(const struct doctpl *t);
bool doctpl_plain(const char *entity);
const char *doctpl_entity(char *buf, size_t sz, const char *entity,
			  size_t *lenp);
size_t doctpl_len(const struct doctpl *t, size_t elen, uint32_t version);
void doctpl_write(const struct doctpl *t, char *dst, const char *ent,
		  size_t elen, uint32_t version);
int  doctpl_print(struct mbuf *mb, const struct doctpl *t,
		  const char *entity, uint32_t version);

#endif

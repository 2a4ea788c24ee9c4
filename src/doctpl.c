/**
 * @file doctpl.c  One rendered document, spliced per watcher
 *
 * The documents of one orbit change differ from watcher to watcher
 * only in the entity (the URI the phone subscribed to) and the version
 * (per subscription).  So the encoder renders the change once, with a
 * marker entity and version, and each NOTIFY copies that text with the
 * watcher's entity and version written in at the markers (splice
 * points) instead of running the encoder, the XML escaping and the
 * printf engine a thousand times (docs/BENCHMARKS.md).
 *
 * A template is only used if it is provably right for this state: the
 * encoder renders a second time with another entity and version (of
 * other lengths), and the template spliced with those must give that
 * rendering byte for byte.  A marker that the content happened to
 * contain too (a caller's number equal to the marker version), or an
 * entity the encoder transforms, fails that check, and the caller
 * renders per watcher as before (doctpl_literal).
 *
 * Copyright (C) 2026 The parkblf authors
 */
#include <string.h>
#include <re.h>
#include "parkblf.h"
#include "doctpl.h"


enum {
	MAX_SPLICES = 16,
	VERSION_A   = 3735928559u,     /**< Marker version; 10 digits    */
	VERSION_B   = 7,               /**< Check version; 1 digit       */
};

static const char entity_a[] = "sip:doctpl-marker-5f3a9c@splice.invalid";
static const char entity_b[] = "sip:b@c";

enum splice_kind {
	SPLICE_ENTITY = 0,
	SPLICE_VERSION,
};

struct doctpl {
	char *text;                   /**< Without what is spliced in     */
	size_t len;
	uint32_t off[MAX_SPLICES];    /**< Where, in text                 */
	uint8_t kind[MAX_SPLICES];
	unsigned n;
	unsigned nent;                /**< Entity splices                 */
	bool literal;                 /**< One watcher's, nothing spliced */
};


static void destructor(void *arg)
{
	struct doctpl *t = arg;

	mem_deref(t->text);
}


static size_t u32_len(uint32_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		++n;
	}

	return n;
}


static char *u32_write(char *p, uint32_t v, size_t n)
{
	char *end = p + n;

	do {
		p[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (n);

	return end;
}


/* The template of rendering a: the markers cut out as splice points */
static int cut(struct doctpl *t, const struct mbuf *a)
{
	const char *p = (const char *)a->buf, *end = p + a->end;
	const size_t ea = sizeof(entity_a) - 1;
	char va[16];
	size_t vlen;
	char *q;

	vlen = u32_len(VERSION_A);
	(void)u32_write(va, VERSION_A, vlen);

	t->text = mem_alloc(a->end + 1, NULL);
	if (!t->text)
		return ENOMEM;

	q = t->text;
	while (p < end) {
		enum splice_kind k;
		size_t skip;

		if ((size_t)(end - p) >= ea && !memcmp(p, entity_a, ea)) {
			k = SPLICE_ENTITY;
			skip = ea;
		}
		else if ((size_t)(end - p) >= vlen && !memcmp(p, va, vlen)) {
			k = SPLICE_VERSION;
			skip = vlen;
		}
		else {
			*q++ = *p++;
			continue;
		}

		if (t->n == MAX_SPLICES)
			return ENOTSUP;

		t->off[t->n] = (uint32_t)(q - t->text);
		t->kind[t->n++] = (uint8_t)k;
		if (k == SPLICE_ENTITY)
			++t->nent;
		p += skip;
	}

	t->len = (size_t)(q - t->text);
	*q = '\0';

	return 0;
}


/**
 * Render a document once for every watcher: the template of the state
 * the renderer shows now
 *
 * @param tp  Where to store the template
 * @param rh  Renderer (called twice)
 * @param arg Renderer argument
 *
 * @return 0 if success, ENOTSUP if the rendering cannot be spliced
 *         (render per watcher: doctpl_literal), otherwise errorcode
 */
int doctpl_build(struct doctpl **tp, doctpl_render_h *rh, void *arg)
{
	struct mbuf *a, *b;
	struct doctpl *t;
	int err;

	if (!tp || !rh)
		return EINVAL;

	t = mem_zalloc(sizeof(*t), destructor);
	a = mbuf_alloc(1024);
	b = mbuf_alloc(1024);
	if (!t || !a || !b) {
		err = ENOMEM;
		goto out;
	}

	err  = rh(a, entity_a, VERSION_A, arg);
	err |= rh(b, entity_b, VERSION_B, arg);
	if (err)
		goto out;

	err = cut(t, a);
	if (err)
		goto out;

	/* spliced with the other entity and version, it must give what
	   the encoder gave for them */
	if (b->end != doctpl_len(t, sizeof(entity_b) - 1, VERSION_B)) {
		err = ENOTSUP;
		goto out;
	}
	mbuf_rewind(a);
	err = doctpl_print(a, t, entity_b, VERSION_B);
	if (err)
		goto out;
	if (a->end != b->end || memcmp(a->buf, b->buf, b->end))
		err = ENOTSUP;

 out:
	mem_deref(a);
	mem_deref(b);
	if (err)
		mem_deref(t);
	else
		*tp = t;

	return err;
}


/**
 * Render a document for one watcher (nothing spliced)
 *
 * @param tp      Where to store it
 * @param rh      Renderer
 * @param arg     Renderer argument
 * @param entity  The watcher's entity
 * @param version Its version
 *
 * @return 0 if success, otherwise errorcode
 */
int doctpl_literal(struct doctpl **tp, doctpl_render_h *rh, void *arg,
		   const char *entity, uint32_t version)
{
	struct doctpl *t;
	struct mbuf *mb;
	int err;

	if (!tp || !rh || !entity)
		return EINVAL;

	t = mem_zalloc(sizeof(*t), destructor);
	mb = mbuf_alloc(1024);
	if (!t || !mb) {
		err = ENOMEM;
		goto out;
	}

	err = rh(mb, entity, version, arg);
	if (err)
		goto out;

	t->text = mem_alloc(mb->end + 1, NULL);
	if (!t->text) {
		err = ENOMEM;
		goto out;
	}
	memcpy(t->text, mb->buf, mb->end);
	t->text[mb->end] = '\0';
	t->len = mb->end;
	t->literal = true;

 out:
	mem_deref(mb);
	if (err)
		mem_deref(t);
	else
		*tp = t;

	return err;
}


/** @return true if the document serves every watcher (spliced) */
bool doctpl_spliced(const struct doctpl *t)
{
	return t && !t->literal;
}


/**
 * Whether an entity prints as itself (xml_escape_print changes nothing)
 *
 * @param entity The entity
 *
 * @return true if so
 */
bool doctpl_plain(const char *entity)
{
	const char *p;

	if (!entity)
		return false;

	for (p = entity; *p; p++) {
		const uint8_t c = (uint8_t)*p;

		if (c < 0x20 || c > 0x7e || c == '&' || c == '<' ||
		    c == '>' || c == '"' || c == '\'')
			return false;
	}

	return true;
}


/**
 * An entity as the encoders print it (XML-escaped), for doctpl_write
 *
 * @param buf    Buffer for the escaped form
 * @param sz     Its size
 * @param entity The entity
 * @param lenp   Where to store the escaped length
 *
 * @return The escaped entity (entity itself when nothing needs
 *         escaping), or NULL if it does not fit
 */
const char *doctpl_entity(char *buf, size_t sz, const char *entity,
			  size_t *lenp)
{
	int n;

	if (!entity || !lenp)
		return NULL;

	if (doctpl_plain(entity)) {
		*lenp = strlen(entity);
		return entity;
	}

	if (!buf || !sz)
		return NULL;

	n = re_snprintf(buf, sz, "%H", xml_escape_print, entity);
	if (n < 0 || (size_t)n + 1 >= sz)
		return NULL;
	*lenp = (size_t)n;

	return buf;
}


/**
 * Length of a document
 *
 * @param t       Template
 * @param elen    Length of the escaped entity
 * @param version Version
 *
 * @return Bytes doctpl_write writes
 */
size_t doctpl_len(const struct doctpl *t, size_t elen, uint32_t version)
{
	size_t vn;

	if (!t)
		return 0;

	vn = t->n - t->nent;

	return t->len + t->nent * elen + vn * u32_len(version);
}


/**
 * Write a document: the template with entity and version spliced in
 *
 * @param t       Template
 * @param dst     Where (doctpl_len bytes)
 * @param ent     Escaped entity (doctpl_entity)
 * @param elen    Its length
 * @param version Version
 */
void doctpl_write(const struct doctpl *t, char *dst, const char *ent,
		  size_t elen, uint32_t version)
{
	const size_t vlen = u32_len(version);
	size_t from = 0;
	unsigned i;

	if (!t || !dst)
		return;

	for (i = 0; i < t->n; i++) {
		memcpy(dst, t->text + from, t->off[i] - from);
		dst += t->off[i] - from;
		from = t->off[i];
		if (t->kind[i] == SPLICE_ENTITY) {
			memcpy(dst, ent, elen);
			dst += elen;
		}
		else {
			dst = u32_write(dst, version, vlen);
		}
	}
	memcpy(dst, t->text + from, t->len - from);
}


/**
 * Append a document to a buffer
 *
 * @param mb      Buffer
 * @param t       Template
 * @param entity  Entity (not escaped)
 * @param version Version
 *
 * @return 0 if success, otherwise errorcode
 */
int doctpl_print(struct mbuf *mb, const struct doctpl *t,
		 const char *entity, uint32_t version)
{
	char buf[DOCTPL_ENTITY_MAX];
	const char *ent = "";
	size_t elen = 0, len;
	int err;

	if (!mb || !t)
		return EINVAL;

	if (t->nent) {
		ent = doctpl_entity(buf, sizeof(buf), entity, &elen);
		if (!ent)
			return EOVERFLOW;
	}

	len = doctpl_len(t, elen, version);
	if (mb->pos + len > mb->size) {
		err = mbuf_resize(mb, mb->pos + len);
		if (err)
			return err;
	}

	doctpl_write(t, (char *)mb->buf + mb->pos, ent, elen, version);
	mb->pos += len;
	mb->end = mb->pos > mb->end ? mb->pos : mb->end;

	return 0;
}

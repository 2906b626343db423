/*
 * message.c - the received message, its header index and the edit list.
 *
 * The data is in Python smtpd's form: lines joined by LF, no LF after the
 * last line.  The header block is the run of header fields from the top;
 * the "rest" is every line after it (normally an empty line, then the
 * body).  The view is: the fields joined by LF, then LF and the rest (or
 * the empty line and the replaced body).
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message.h"

void
message_init(struct message *m, const char *spool_dir, size_t limit)
{
	memset(m, 0, sizeof(*m));
	spool_init(&m->orig, spool_dir, limit);
	spool_init(&m->body, spool_dir, limit);
	spool_init(&m->view, spool_dir, limit);
}

void
message_place(struct message *m, const char *spool_dir, size_t limit)
{
	spool_place(&m->orig, spool_dir, limit);
	spool_place(&m->body, spool_dir, limit);
	spool_place(&m->view, spool_dir, limit);
}

/* message_drop_fields - the field list, and what new fields own. */
static void
message_drop_fields(struct message *m)
{
	for (size_t i = 0; i < m->nf; i++)
		free(m->f[i].owned);
	free(m->f);
	m->f = NULL;
	m->nf = m->capf = 0;
}

void
message_reset(struct message *m)
{
	message_drop_fields(m);
	spool_reset(&m->orig);
	spool_reset(&m->body);
	spool_reset(&m->view);
	m->data = m->vdata = NULL;
	m->len = m->vlen = 0;
	m->ended = m->indexed = m->had_headers = m->has_rest = false;
	m->body_new = m->edited = m->dirty = false;
	m->rest = 0;
}

void
message_free(struct message *m)
{
	message_reset(m);
	spool_free(&m->orig);
	spool_free(&m->body);
	spool_free(&m->view);
}

char *
message_room(struct message *m, size_t n)
{
	return spool_room(&m->orig, n);
}

int
message_commit(struct message *m, size_t n)
{
	return spool_commit(&m->orig, n);
}

int
message_end(struct message *m)
{
	m->data = spool_finish(&m->orig, &m->len);
	m->ended = m->data != NULL;
	return m->ended ? 0 : -1;
}

size_t
message_size(const struct message *m)
{
	return m->orig.total;
}

bool
message_spooled(const struct message *m)
{
	return spool_spilled(&m->orig);
}

bool
message_valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > MESSAGE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] < '!' || name[i] > '~' || name[i] == ':')
			return false;
	return true;
}

bool
message_valid_value(const char *value)
{
	size_t n = strlen(value);

	if (n > MESSAGE_FIELD_MAX || (n > 0 && value[n - 1] == '\n'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (value[i] == '\r')
			return false;
		if (value[i] == '\n' && value[i + 1] != ' ' &&
		    value[i + 1] != '\t')
			return false;
	}
	return true;
}

/* message_field_name_len - the length of the field name at p (a run of
 * ftext, optional blanks, then ':'), 0 when the line is no field. */
static size_t
message_field_name_len(const char *p, size_t n)
{
	size_t i = 0, name;

	while (i < n && p[i] >= '!' && p[i] <= '~' && p[i] != ':')
		i++;
	name = i;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return name > 0 && i < n && p[i] == ':' ? name : 0;
}

/* message_push_field - append a field to the list. */
static int
message_push_field(struct message *m, const char *text, size_t len,
    char *owned)
{
	if (m->nf == m->capf) {
		size_t cap = m->capf ? m->capf * 2 : 16;
		struct message_field *f = realloc(m->f, cap * sizeof(*f));
		if (f == NULL)
			return -1;
		m->f = f;
		m->capf = cap;
	}
	m->f[m->nf++] = (struct message_field){ text, len, owned };
	return 0;
}

/* message_line_end - the end of the line starting at p (its LF or the
 * end of the data). */
static size_t
message_line_end(const struct message *m, size_t p)
{
	const char *nl = memchr(m->data + p, '\n', m->len - p);

	return nl != NULL ? (size_t)(nl - m->data) : m->len;
}

/* message_index - the header fields of the original, once. */
static int
message_index(struct message *m)
{
	size_t p = 0, start = 0;
	bool open = false;

	if (m->indexed)
		return 0;
	if (!m->ended)
		return -1;
	for (;;) {
		size_t e = message_line_end(m, p);
		bool cont = open && e > p && (m->data[p] == ' ' ||
		    m->data[p] == '\t');
		if (!cont && open && message_push_field(m, m->data + start,
		    p - 1 - start, NULL) != 0)
			return -1;
		if (!cont && message_field_name_len(m->data + p, e - p) == 0) {
			m->has_rest = true;
			m->rest = p;
			break;
		}
		if (!cont)
			start = p;
		open = true;
		if (e == m->len) {
			if (message_push_field(m, m->data + start, e - start,
			    NULL) != 0)
				return -1;
			break;
		}
		p = e + 1;
	}
	m->had_headers = m->nf > 0;
	m->indexed = true;
	return 0;
}

/* message_field_is - the field's name is `name` (any case). */
static bool
message_field_is(const struct message_field *f, const char *name)
{
	size_t n = message_field_name_len(f->text, f->len);

	return n == strlen(name) && strncasecmp(f->text, name, n) == 0;
}

/* message_find - the position in the list of the i-th field named name
 * (NULL: the i-th field); m->nf when there is none. */
static size_t
message_find(const struct message *m, const char *name, size_t i)
{
	for (size_t k = 0; k < m->nf; k++)
		if (name == NULL || message_field_is(&m->f[k], name)) {
			if (i == 0)
				return k;
			i--;
		}
	return m->nf;
}

size_t
message_header_count(struct message *m, const char *name)
{
	size_t n = 0;

	if (message_index(m) != 0)
		return 0;
	for (size_t k = 0; k < m->nf; k++)
		n += name == NULL || message_field_is(&m->f[k], name);
	return n;
}

const char *
message_header_get(struct message *m, const char *name, size_t i,
    size_t *len)
{
	size_t k;

	if (message_index(m) != 0 || (k = message_find(m, name, i)) == m->nf)
		return NULL;
	if (len != NULL)
		*len = m->f[k].len;
	return m->f[k].text;
}

/* message_edited - the view must be built again. */
static int
message_edited(struct message *m)
{
	m->edited = m->dirty = true;
	return 0;
}

/* message_new_field - "name: value" in a new allocation. */
static char *
message_new_field(const char *name, size_t namelen, const char *value,
    size_t *len)
{
	size_t vlen = strlen(value);
	char *t = malloc(namelen + vlen + 3);

	if (t == NULL)
		return NULL;
	memcpy(t, name, namelen);
	memcpy(t + namelen, ": ", 2);
	memcpy(t + namelen + 2, value, vlen + 1);
	*len = namelen + 2 + vlen;
	return t;
}

int
message_header_add(struct message *m, size_t at, const char *name,
    const char *value)
{
	size_t len;
	char *t;

	if (!message_valid_name(name) || !message_valid_value(value) ||
	    message_index(m) != 0)
		return -1;
	if (at > m->nf)
		at = m->nf;
	if ((t = message_new_field(name, strlen(name), value, &len)) == NULL ||
	    message_push_field(m, t, len, t) != 0) {
		free(t);
		return -1;
	}
	struct message_field f = m->f[m->nf - 1];
	memmove(&m->f[at + 1], &m->f[at], (m->nf - 1 - at) * sizeof(f));
	m->f[at] = f;
	return message_edited(m);
}

/* message_remove_at - drop field k from the list. */
static void
message_remove_at(struct message *m, size_t k)
{
	free(m->f[k].owned);
	memmove(&m->f[k], &m->f[k + 1], (m->nf - k - 1) * sizeof(m->f[0]));
	m->nf--;
}

int
message_header_remove(struct message *m, const char *name, size_t i)
{
	size_t k;

	if (name == NULL || !message_valid_name(name) || message_index(m) != 0)
		return -1;
	if (i == (size_t)-1) {
		while ((k = message_find(m, name, 0)) < m->nf)
			message_remove_at(m, k);
		return message_edited(m);
	}
	if ((k = message_find(m, name, i)) == m->nf)
		return -1;
	message_remove_at(m, k);
	return message_edited(m);
}

int
message_header_replace(struct message *m, const char *name, size_t i,
    const char *value)
{
	size_t k, len;
	char *t;

	if (name == NULL || !message_valid_name(name) ||
	    !message_valid_value(value) || message_index(m) != 0 ||
	    (k = message_find(m, name, i)) == m->nf)
		return -1;
	t = message_new_field(m->f[k].text, message_field_name_len(m->f[k].text,
	    m->f[k].len), value, &len);
	if (t == NULL)
		return -1;
	free(m->f[k].owned);
	m->f[k] = (struct message_field){ t, len, t };
	return message_edited(m);
}

int
message_body_replace(struct message *m, const char *p, size_t n)
{
	if (message_index(m) != 0)
		return -1;
	spool_reset(&m->body);
	m->body_new = true;
	message_edited(m);
	return spool_append(&m->body, p, n);
}

int
message_body_append(struct message *m, const char *p, size_t n)
{
	if (!m->body_new)
		return -1;
	if (m->body.map != NULL)
		return -1;	/* read already: replace it again instead */
	message_edited(m);
	return spool_append(&m->body, p, n);
}

/* message_tail - what follows the fields when the body is not replaced:
 * the original's rest, and whether an empty line must come first (the
 * original had no header block and now has fields). */
static const char *
message_tail(const struct message *m, size_t *len, bool *blank)
{
	*len = m->has_rest ? m->len - m->rest : 0;
	*blank = !m->had_headers && m->nf > 0 && m->has_rest &&
	    (*len == 0 || m->data[m->rest] != '\n');
	return m->data + m->rest;
}

/* message_write_view - the fields, the separators and the body, into the
 * view spool. */
static int
message_write_view(struct message *m)
{
	struct spool *v = &m->view;
	size_t tlen, blen;
	bool blank;
	const char *tail = message_tail(m, &tlen, &blank);
	int r = 0;

	for (size_t k = 0; k < m->nf && r == 0; k++)
		r = spool_append(v, k ? "\n" : "", k ? 1 : 0) |
		    spool_append(v, m->f[k].text, m->f[k].len);
	if (m->body_new) {
		const char *b = spool_finish(&m->body, &blen);
		if (b == NULL)
			return -1;
		return r | spool_append(v, m->nf ? "\n\n" : "\n",
		    m->nf ? 2 : 1) | spool_append(v, b, blen);
	}
	if (!m->has_rest)
		return r;
	if (m->nf > 0)
		r |= spool_append(v, blank ? "\n\n" : "\n", blank ? 2 : 1);
	return r | spool_append(v, tail, tlen);
}

const char *
message_data(struct message *m, size_t *len)
{
	if (!m->ended) {
		*len = 0;
		return "";
	}
	if (!m->edited) {
		*len = m->len;
		return m->data;
	}
	if (m->dirty) {
		spool_reset(&m->view);
		m->vdata = NULL;
		if (message_write_view(m) != 0)
			return NULL;
		m->vdata = spool_finish(&m->view, &m->vlen);
		m->dirty = m->vdata == NULL;
	}
	*len = m->vlen;
	return m->vdata;
}

const char *
message_body(struct message *m, size_t *len)
{
	size_t tlen;
	bool blank;

	*len = 0;
	if (message_index(m) != 0)
		return "";
	if (m->body_new)
		return spool_finish(&m->body, len);
	if (!m->has_rest)
		return m->data + m->len;
	const char *t = message_tail(m, &tlen, &blank);
	if (m->had_headers || (tlen > 0 && t[0] == '\n')) {
		/* skip the empty line, or the LF that ends it */
		size_t skip = tlen > 0 && t[0] == '\n' ? 1 : 0;
		*len = tlen - skip;
		return t + skip;
	}
	*len = tlen;
	return t;
}

/*
 * milter_edit.c - a milter's modification actions through the plugin API
 * (see milter_edit.h).  Addresses arrive as "<a@b>" and are stored without
 * the brackets; header values arrive with CRLF before folded lines and are
 * stored with "\n"; the body arrives in wire form and is stored in
 * psmtpd's form (lines joined by "\n").
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter_edit.h"

#if PSMTPD_PLUGIN_API >= 2
#define ME_EDITS 1
#else
#define ME_EDITS 0
#endif

uint32_t
me_offered_actions(void)
{
	uint32_t edits = MP_F_ADDHDRS | MP_F_CHGBODY | MP_F_ADDRCPT |
	    MP_F_DELRCPT | MP_F_CHGHDRS | MP_F_CHGFROM | MP_F_ADDRCPT_PAR;

	return MP_F_QUARANTINE | MP_F_SETSYMLIST | (ME_EDITS ? edits : 0);
}

void
me_start(struct me_ctx *e, psmtpd_session *s, const char *spec)
{
	memset(e, 0, sizeof(*e));
	e->s = s;
	e->spec = spec;
}

static int
me_refused(struct me_ctx *e, const char *what, const char *arg)
{
	psmtpd_session_log(e->s, PSMTPD_LOG_WARNING, "milter=%s action=%s "
	    "arg=\"%.200s\" refused", e->spec, what, arg ? arg : "");
	return -1;
}

/* The quarantine: logged, a transaction note "milter.quarantine" and an
 * X-Quarantine: header where the API has them (psmtpd has no hold
 * queue; a later plugin or the mailbox's filter acts on the header). */
static int
me_quarantine(struct me_ctx *e, const char *reason)
{
	psmtpd_session_log(e->s, PSMTPD_LOG_NOTICE, "milter=%s quarantine "
	    "reason=\"%.200s\"", e->spec, reason);
#if ME_EDITS
	char *v = malloc(2 * strlen(reason) + 1), *note = strdup(reason);
	int r = v == NULL ? -1 : 0;
	if (v != NULL) {
		mm_header_value(reason, v);
		r = psmtpd_header_add(e->s, PSMTPD_HEADER_TOP, "X-Quarantine",
		    "%s", v);
	}
	free(v);
	if (note == NULL ||
	    psmtpd_txn_note_set(e->s, "milter.quarantine", note, free) != 0)
		r = -1;
	return r == 0 ? 0 : me_refused(e, "quarantine", reason);
#else
	return 0;
#endif
}

#if ME_EDITS
/* A header value in psmtpd's form; NULL when out of memory. */
static char *
me_value(const char *in)
{
	char *v = malloc(2 * strlen(in) + 1);

	if (v != NULL)
		mm_header_value(in, v);
	return v;
}

/* addheader (at the end of the block) and insheader (index among all
 * fields, 0 the top; past the end it appends, as sendmail does). */
static int
me_add_header(struct me_ctx *e, const struct mp_response *r, int insert)
{
	char *v = me_value(r->value);
	size_t at = PSMTPD_HEADER_END;

	if (insert && r->index < psmtpd_header_count(e->s, NULL))
		at = r->index;
	int rc = v == NULL ? -1 :
	    psmtpd_header_add(e->s, at, r->name, "%s", v);
	free(v);
	return rc == 0 ? 0 : me_refused(e, "addheader", r->name);
}

/* chgheader: the index-th field of that name (from 1); an empty value
 * deletes it; past the last one it is added (libmilter's contract). */
static int
me_change_header(struct me_ctx *e, const struct mp_response *r)
{
	size_t n = psmtpd_header_count(e->s, r->name);
	size_t i = r->index > 0 ? r->index - 1 : 0;
	int rc;

	if (r->value[0] == '\0')
		rc = i < n ? psmtpd_header_remove(e->s, r->name, i) : 0;
	else if (i >= n)
		return me_add_header(e, r, 0);
	else {
		char *v = me_value(r->value);
		rc = v == NULL ? -1 :
		    psmtpd_header_replace(e->s, r->name, i, "%s", v);
		free(v);
	}
	return rc == 0 ? 0 : me_refused(e, "chgheader", r->name);
}

static int
me_sender(struct me_ctx *e, const struct mp_response *r)
{
	char a[1024];

	if (mm_strip_addr(r->addr, a, sizeof(a)) != 0 ||
	    psmtpd_envelope_set_sender(e->s, a) != 0)
		return me_refused(e, "chgfrom", r->addr);
	return 0;
}

static int
me_add_rcpt(struct me_ctx *e, const struct mp_response *r)
{
	char a[1024];

	if (mm_strip_addr(r->addr, a, sizeof(a)) != 0 ||
	    psmtpd_envelope_add_rcpt(e->s, a) != 0)
		return me_refused(e, "addrcpt", r->addr);
	return 0;
}

/* delrcpt: the first recipient with that address (case aside); one that
 * is not there is logged and ignored, as sendmail does. */
static int
me_del_rcpt(struct me_ctx *e, const struct mp_response *r)
{
	char a[1024];

	if (mm_strip_addr(r->addr, a, sizeof(a)) != 0)
		return me_refused(e, "delrcpt", r->addr);
	for (size_t i = 0; i < psmtpd_session_rcpt_count(e->s); i++)
		if (strcasecmp(psmtpd_session_rcpt(e->s, i), a) == 0)
			return psmtpd_envelope_remove_rcpt(e->s, i) == 0 ? 0 :
			    me_refused(e, "delrcpt", r->addr);
	psmtpd_session_log(e->s, PSMTPD_LOG_NOTICE, "milter=%s delrcpt "
	    "rcpt=<%.200s> not a recipient", e->spec, a);
	return 0;
}

/* replbody: the chunks make the new body; the first replaces, the others
 * append. */
static int
me_body(struct me_ctx *e, const struct mp_response *r)
{
	char *out = malloc(r->len + 1);
	size_t n = out ? mm_unwire(&e->uw, (const char *)r->data, r->len,
	    out) : 0;
	int rc = out == NULL ? -1 : e->body_started ?
	    psmtpd_body_append(e->s, out, n) :
	    psmtpd_body_replace(e->s, out, n);

	free(out);
	e->body_started = 1;
	return rc == 0 ? 0 : me_refused(e, "replbody", NULL);
}

static int
me_edit(struct me_ctx *e, const struct mp_response *r)
{
	switch (r->code) {
	case MP_R_ADDHEADER: return me_add_header(e, r, 0);
	case MP_R_INSHEADER: return me_add_header(e, r, 1);
	case MP_R_CHGHEADER: return me_change_header(e, r);
	case MP_R_CHGFROM: return me_sender(e, r);
	case MP_R_ADDRCPT:
	case MP_R_ADDRCPT_PAR: return me_add_rcpt(e, r);
	case MP_R_DELRCPT: return me_del_rcpt(e, r);
	case MP_R_REPLBODY: return me_body(e, r);
	default: return me_refused(e, mp_reply_name(r->code), NULL);
	}
}
#endif

int
me_apply(void *arg, const struct mp_response *r)
{
	struct me_ctx *e = arg;

	e->edits++;
	if (r->code == MP_R_QUARANTINE)
		return me_quarantine(e, r->addr);
#if ME_EDITS
	return me_edit(e, r);
#else
	return me_refused(e, mp_reply_name(r->code), NULL);
#endif
}

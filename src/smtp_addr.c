/*
 * smtp_addr.c - smtpd.py's _getaddr: an emulation of Python 3.11's
 * email._header_value_parser get_angle_addr()/get_addr_spec() and of the
 * addr_spec property of the tokens they return.
 *
 * Python builds a token tree and renders it; we scan the bytes twice
 * instead: a parse pass that follows the Python functions one for one
 * (each returns the new position, or NULL where Python raises) and
 * records where the local part and the domain are, then a render pass
 * over those spans that writes what the addr_spec properties compute:
 *
 * - the local part (LocalPart.local_part): the words and dots, quoted
 *   strings unquoted, a CFWS inside a word as one space, except that the
 *   CFWS at the ends and around dots is dropped; then quoted (with \ and "
 *   escaped) when it holds a character of DOT_ATOM_ENDS, or shown as ""
 *   inside <> when empty;
 * - the domain (Domain.domain): its text with every white space
 *   character removed (str.split() joined);
 * - "<>" for the null path.
 *
 * Python also fails while rendering in two places, which the parse pass
 * notes as "broken": a domain literal cut short by the end of the input
 * (a defect object lands in the token list and has no .value), and a
 * local part that is a lone '"' at the end (an empty token is indexed).
 *
 * Known differences (input no real client sends):
 * - RFC 2047 encoded words ("=?charset?q?...?=") in an atom, a dot-atom
 *   or a quoted string are taken literally; Python decodes them.
 * - Comments may nest to any depth; Python raises RecursionError past
 *   about 975 levels (about 240 inside an obs-local-part, which it
 *   re-parses from its rendered text).
 * - NUL: the channel never passes one (smtp_parse_command refuses it);
 *   here it would count as atext.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <string.h>

#include "smtp_addr.h"
#include "smtp_parse.h"

/* Where rendered text goes; o == NULL in the parse pass. */
struct sa_out {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
	bool drop_space;	/* the domain: leave out white space */
};

/* What the parse pass found of one addr-spec. */
struct sa_spec {
	const char *lp, *lp_end;	/* the local part, with its CFWS */
	const char *dom;		/* after '@'; NULL when none */
	bool broken;			/* Python raises while rendering */
};

static bool
sa_in(char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

#define SA_SPECIALS	"()<>@,:;.\\\"[]"
#define sa_wsp(c)	((c) == ' ' || (c) == '\t')
#define sa_cfws_leader(c) (sa_wsp(c) || (c) == '(')
#define sa_special(c)	sa_in((c), SA_SPECIALS)
#define sa_atom_end(c)	(sa_special(c) || sa_wsp(c))
/* PHRASE_ENDS: SPECIALS less '.', '"' and '(' */
#define sa_phrase_end(c) sa_in((c), ")<>@,:;\\[]")
/* DOT_ATOM_ENDS: what makes a local part need quoting */
#define sa_dot_atom_end(c) (sa_in((c), "()<>@,:;\\\"[]") || sa_wsp(c))

/* sa_put - append n bytes, bounded; in the domain without white space. */
static void
sa_put(struct sa_out *o, const char *s, size_t n)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		size_t sp = o->drop_space ? smtp_space_len(s + i, n - i) : 0;
		if (sp > 0) {
			i += sp - 1;
			continue;
		}
		if (o->len + 1 >= o->size) {
			o->overflow = true;
			return;
		}
		o->buf[o->len++] = s[i];
	}
}

/* sa_fws - get_fws: called at ' ' or '\t', it takes every white space
 * character that follows (str.lstrip()). */
static const char *
sa_fws(const char *p, const char *end)
{
	size_t n;

	while ((n = smtp_space_len(p, (size_t)(end - p))) > 0)
		p += n;
	return p;
}

/* sa_cplen - bytes of the UTF-8 character at p (the input is valid). */
static size_t
sa_cplen(const char *p, const char *end)
{
	unsigned char c = (unsigned char)*p;
	size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

	return n <= (size_t)(end - p) ? n : (size_t)(end - p);
}

/* sa_ptext - _get_ptext_to_endchars: up to the first ' '/'\t' or an
 * unescaped end character; a backslash escapes the next character, one
 * that ends the run is dropped.  The unescaped text goes to o, a whole
 * character at a time (the domain drops the white space ones). */
static const char *
sa_ptext(const char *p, const char *end, const char *endchars,
    struct sa_out *o)
{
	size_t n;

	while (p < end && !sa_wsp(*p)) {
		if (*p == '\\') {
			p++;
			if (p < end && !sa_wsp(*p)) {
				n = sa_cplen(p, end);
				sa_put(o, p, n);
				p += n;
			}
			continue;
		}
		if (sa_in(*p, endchars))
			break;
		n = sa_cplen(p, end);
		sa_put(o, p, n);
		p += n;
	}
	return p;
}

/* sa_comment - get_comment at '(': nested comments, quoted pairs; the
 * end of the input inside a comment is only a defect. */
static const char *
sa_comment(const char *p, const char *end)
{
	size_t depth = 0;

	while (p < end) {
		if (*p == '(') {
			depth++;
			p++;
		} else if (*p == ')') {
			p++;
			if (--depth == 0)
				break;
		} else if (sa_wsp(*p))
			p = sa_fws(p, end);
		else
			p = sa_ptext(p, end, "()", NULL);
	}
	return p;
}

/* sa_cfws - get_cfws (an empty match is fine). */
static const char *
sa_cfws(const char *p, const char *end)
{
	while (p < end && sa_cfws_leader(*p))
		p = *p == '(' ? sa_comment(p, end) : sa_fws(p, end);
	return p;
}

/* sa_atext - the run of characters that are not ATOM_ENDS. */
static const char *
sa_atext(const char *p, const char *end)
{
	while (p < end && !sa_atom_end(*p))
		p++;
	return p;
}

/* sa_dot_atom_text - get_dot_atom_text: 1*atext *("." 1*atext). */
static const char *
sa_dot_atom_text(const char *p, const char *end)
{
	bool dot = false;

	if (p == end || sa_atom_end(*p))
		return NULL;
	while (p < end && !sa_atom_end(*p)) {
		p = sa_atext(p, end);
		dot = p < end && *p == '.';
		if (dot)
			p++;
	}
	return dot ? NULL : p;
}

/* sa_bare_quoted - get_bare_quoted_string at '"': the content (quoted
 * pairs undone, white space as it was) goes to o.  *empty when Python's
 * token holds nothing: the '"' ends the input. */
static const char *
sa_bare_quoted(const char *p, const char *end, struct sa_out *o,
    bool *empty)
{
	p++;
	*empty = p == end;
	while (p < end && *p != '"') {
		if (sa_wsp(*p)) {
			const char *q = sa_fws(p, end);
			sa_put(o, p, (size_t)(q - p));
			p = q;
		} else
			p = sa_ptext(p, end, "\"", o);
	}
	return p < end ? p + 1 : p;
}

/* sa_word_core - the atom or quoted string of get_word, after its
 * leading CFWS and before its trailing one; NULL at another special. */
static const char *
sa_word_core(const char *p, const char *end, struct sa_out *o, bool *empty)
{
	const char *q;

	*empty = false;
	if (*p == '"')
		return sa_bare_quoted(p, end, o, empty);
	if (sa_special(*p))
		return NULL;
	q = sa_atext(p, end);
	sa_put(o, p, (size_t)(q - p));
	return q;
}

/* Rendering state of LocalPart.local_part: whether the last token kept
 * was a dot (leading CFWS of a word after it is dropped), and whether the
 * last word ended in CFWS (shown as ' ' unless a dot or the end comes). */
struct sa_lp {
	struct sa_out *o;
	bool last_dot;
	bool pending_space;
};

/* sa_lp_token - a token other than CFWS comes: the last word keeps its
 * trailing CFWS (as ' ') unless the token is a dot. */
static void
sa_lp_token(struct sa_lp *r, const char *text, bool dot)
{
	if (r->pending_space && !dot)
		sa_put(r->o, " ", 1);
	r->pending_space = false;
	sa_put(r->o, text, strlen(text));
	r->last_dot = dot;
}

/* sa_lp_word - a word of the local part (get_word): p at its leading
 * CFWS, q after it; rendered into r. */
static const char *
sa_lp_word(const char *p, const char *q, const char *end, struct sa_lp *r)
{
	bool after_dot = r->last_dot, empty;

	sa_lp_token(r, "", false);
	if (q != p && !after_dot)
		sa_put(r->o, " ", 1);
	q = sa_word_core(q, end, r->o, &empty);
	p = sa_cfws(q, end);
	r->pending_space = p != q;
	return p;
}

/* sa_obs_local_part - get_obs_local_part: words, dots, misplaced
 * backslashes and lone CFWS up to a PHRASE_ENDS character, rendered into
 * r.  It cannot fail on what get_local_part hands it. */
static const char *
sa_obs_local_part(const char *p, const char *end, struct sa_lp *r)
{
	while (p < end && (*p == '\\' || !sa_phrase_end(*p))) {
		if (*p == '.' || *p == '\\') {
			sa_lp_token(r, *p == '.' ? "." : "\\", *p == '.');
			p++;
			continue;
		}
		const char *q = sa_cfws(p, end);
		if (q == end || (*q != '"' && sa_special(*q))) {
			p = q;	/* get_word failed: the CFWS stands alone */
			continue;
		}
		p = sa_lp_word(p, q, end, r);
	}
	return p;
}

/*
 * sa_local_part - get_local_part: a dot-atom or a word; when more follows
 * that is not a PHRASE_ENDS character, Python parses the whole again as an
 * obs-local-part (from its rendered text, which parses as the original).
 * Rendering needs no such choice: the obs-local-part walk renders a plain
 * dot-atom or quoted string as LocalPart.local_part does.
 */
static const char *
sa_local_part(const char *p, const char *end, bool *broken)
{
	struct sa_lp r = { NULL, true, false };
	const char *q, *t;
	bool empty = false;

	*broken = false;
	q = sa_cfws(p, end);
	if (q == end)
		return NULL;
	t = sa_dot_atom_text(q, end);
	if (t == NULL) {
		t = sa_word_core(q, end, NULL, &empty);
		if (t == NULL) {
			if (*q != '\\' && sa_phrase_end(*q))
				return NULL;
			t = q;
		}
	}
	t = sa_cfws(t, end);
	if (t < end && (*t == '\\' || !sa_phrase_end(*t)))
		return sa_obs_local_part(p, end, &r);
	*broken = empty;
	return t;
}

/* sa_domain_literal - get_domain_literal at '[': one run of dtext between
 * optional white space.  The end of the input before ']' is only a defect
 * for the parser, but rendering that token raises in Python. */
static const char *
sa_domain_literal(const char *p, const char *end, struct sa_out *o,
    bool *broken)
{
	if (++p == end)
		goto cut;
	sa_put(o, "[", 1);
	if (sa_wsp(*p))
		p = sa_fws(p, end);
	p = sa_ptext(p, end, "[]", o);
	if (p < end && sa_wsp(*p))
		p = sa_fws(p, end);
	if (p == end)
		goto cut;
	if (*p != ']')
		return NULL;
	sa_put(o, "]", 1);
	return sa_cfws(p + 1, end);
cut:
	*broken = true;
	return p;
}

/* sa_domain - get_domain: a domain literal, a dot-atom or an atom, then
 * (obs-domain) more "." atom; rendered into o without white space. */
static const char *
sa_domain(const char *p, const char *end, struct sa_out *o, bool *broken)
{
	const char *q;

	p = sa_cfws(p, end);
	if (p == end)
		return NULL;
	if (*p == '[')
		return sa_domain_literal(p, end, o, broken);
	q = sa_dot_atom_text(p, end);
	if (q == NULL) {
		if (sa_atom_end(*p))
			return NULL;
		q = sa_atext(p, end);
	}
	sa_put(o, p, (size_t)(q - p));
	p = sa_cfws(q, end);
	if (p < end && *p == '@')
		return NULL;	/* "Invalid Domain" */
	while (p < end && *p == '.') {
		sa_put(o, ".", 1);
		p = sa_cfws(p + 1, end);
		if (p == end || sa_atom_end(*p))
			return NULL;
		q = sa_atext(p, end);
		sa_put(o, p, (size_t)(q - p));
		p = sa_cfws(q, end);
	}
	return p;
}

/* sa_addr_spec - get_addr_spec: local-part ["@" domain]. */
static const char *
sa_addr_spec(const char *p, const char *end, struct sa_spec *s)
{
	bool lp_broken, dom_broken = false;
	const char *q;

	if (p == end)
		return NULL;
	s->lp = p;
	s->dom = NULL;
	if ((q = sa_local_part(p, end, &lp_broken)) == NULL)
		return NULL;
	s->lp_end = q;
	s->broken = lp_broken;
	if (q == end || *q != '@')
		return q;
	s->dom = q + 1;
	if ((q = sa_domain(q + 1, end, NULL, &dom_broken)) == NULL)
		return NULL;
	s->broken = lp_broken || dom_broken;
	return q;
}

/* sa_obs_route - get_obs_route: *(CFWS / ",") "@" domain
 * *("," [CFWS] ["@" domain]) ":". */
static const char *
sa_obs_route(const char *p, const char *end)
{
	bool broken = false;

	while (p < end && (*p == ',' || sa_cfws_leader(*p)))
		p = *p == ',' ? p + 1 : sa_cfws(p, end);
	if (p == end || *p != '@')
		return NULL;
	if ((p = sa_domain(p + 1, end, NULL, &broken)) == NULL)
		return NULL;
	while (p < end && *p == ',') {
		if (++p == end)
			break;
		p = sa_cfws(p, end);
		if (p == end)
			return NULL;	/* Python indexes the empty rest */
		if (*p == '@' &&
		    (p = sa_domain(p + 1, end, NULL, &broken)) == NULL)
			return NULL;
	}
	if (p == end || *p != ':')
		return NULL;
	return p + 1;
}

/* sa_angle_addr - get_angle_addr: [CFWS] "<" (">" / [obs-route]
 * addr-spec [">"]) [CFWS]; a missing '>' is only a defect.  *null for
 * "<>", which Python returns at once (no CFWS after it is taken). */
static const char *
sa_angle_addr(const char *p, const char *end, struct sa_spec *s,
    bool *null)
{
	const char *q, *r;

	p = sa_cfws(p, end);
	if (p == end || *p != '<')
		return NULL;
	if (++p == end)
		return NULL;	/* IndexError in Python */
	if (*p == '>') {
		*null = true;
		return p + 1;
	}
	if ((q = sa_addr_spec(p, end, s)) == NULL) {
		if ((r = sa_obs_route(p, end)) == NULL)
			return NULL;
		if ((q = sa_addr_spec(r, end, s)) == NULL)
			return NULL;
	}
	if (q < end && *q == '>')
		q++;
	return sa_cfws(q, end);
}

/* sa_quote - quote_string() in place on o->buf[start..]: '"', the text
 * with '\' and '"' escaped, '"'. */
static void
sa_quote(struct sa_out *o, size_t start)
{
	size_t extra = 2, n = o->len - start;
	char *s = o->buf + start;

	for (size_t i = 0; i < n; i++)
		if (s[i] == '\\' || s[i] == '"')
			extra++;
	if (o->len + extra >= o->size) {
		o->overflow = true;
		return;
	}
	size_t w = n + extra;
	s[--w] = '"';
	for (size_t i = n; i-- > 0;) {
		s[--w] = s[i];
		if (s[i] == '\\' || s[i] == '"')
			s[--w] = '\\';
	}
	s[0] = '"';
	o->len += extra;
}

/* sa_needs_quote - AddrSpec.addr_spec quotes a local part that holds a
 * character of DOT_ATOM_ENDS. */
static bool
sa_needs_quote(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sa_dot_atom_end(s[i]))
			return true;
	return false;
}

/* sa_render - AngleAddr.addr_spec / AddrSpec.addr_spec. */
static void
sa_render(const struct sa_spec *s, const char *end, bool angle,
    struct sa_out *o)
{
	struct sa_lp r = { o, true, false };
	bool broken = false;

	sa_obs_local_part(s->lp, s->lp_end, &r);
	if (o->overflow)
		return;
	if (o->len == 0 && angle)
		sa_put(o, "\"\"", 2);
	else if (sa_needs_quote(o->buf, o->len))
		sa_quote(o, 0);
	if (s->dom == NULL)
		return;
	sa_put(o, "@", 1);
	o->drop_space = true;
	sa_domain(s->dom, end, o, &broken);
}

enum smtp_parse_status
smtp_addr_get(const char *arg, size_t len, char *addr, size_t addrsize,
    size_t *restoff)
{
	const char *end = arg + len, *p = arg, *q;
	struct sa_spec spec = { NULL, NULL, NULL, false };
	struct sa_out o = { addr, addrsize, 0, false, false };
	bool angle, null = false;

	*restoff = len;
	if (addrsize > 0)
		addr[0] = '\0';
	if (len == 0)
		return SMTP_PARSE_OK;
	p = sa_fws(p, end);
	angle = p < end && *p == '<';
	if (angle)
		q = sa_angle_addr(arg, end, &spec, &null);
	else
		q = sa_addr_spec(arg, end, &spec);
	if (q == NULL || spec.broken)
		return SMTP_PARSE_INVALID;
	if (addrsize == 0)
		return SMTP_PARSE_TOO_LONG;
	if (null)
		sa_put(&o, "<>", 2);
	else
		sa_render(&spec, end, angle, &o);
	if (o.overflow)
		return SMTP_PARSE_TOO_LONG;
	addr[o.len] = '\0';
	*restoff = (size_t)(q - arg);
	return SMTP_PARSE_OK;
}

/*
 * milter_proto.c - the milter protocol, version 6: pure encoding of the
 * MTA's commands and decoding of a milter's replies (see milter_proto.h).
 * Learnt from the protocol as libmilter and Postfix speak it; every length
 * is checked against the buffer it comes from.
 */
#include <string.h>

#include "milter_proto.h"

/* ---- encoding ------------------------------------------------------------ */

/* A packet under construction: its start, so a failure can undo it. */
struct mp_pkt {
	struct mp_buf *b;
	size_t start;
	int bad;
};

static void
mp_put(struct mp_pkt *k, const void *p, size_t n)
{
	struct mp_buf *b = k->b;

	if (k->bad || n > b->cap - b->len) {
		k->bad = 1;
		return;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
mp_put32(struct mp_pkt *k, uint32_t v)
{
	unsigned char w[4] = { v >> 24, v >> 16, v >> 8, v };

	mp_put(k, w, 4);
}

/* A string and its NUL. */
static void
mp_put_str(struct mp_pkt *k, const char *s)
{
	mp_put(k, s, strlen(s) + 1);
}

static struct mp_pkt
mp_begin(struct mp_buf *b, int cmd)
{
	struct mp_pkt k = { b, b->len, 0 };
	unsigned char c = (unsigned char)cmd;

	mp_put32(&k, 0);	/* the length, filled in by mp_end */
	mp_put(&k, &c, 1);
	return k;
}

/* Fill in the length, or undo the packet when something did not fit. */
static int
mp_end(struct mp_pkt *k)
{
	size_t n = k->b->len - k->start - 4;

	if (k->bad || n > MP_PACKET_MAX) {
		k->b->len = k->start;
		return -1;
	}
	unsigned char *p = k->b->p + k->start;
	p[0] = n >> 24;
	p[1] = n >> 16;
	p[2] = n >> 8;
	p[3] = n;
	return 0;
}

int
mp_enc_optneg(struct mp_buf *b, uint32_t version, uint32_t actions,
    uint32_t protocol)
{
	struct mp_pkt k = mp_begin(b, MP_C_OPTNEG);

	mp_put32(&k, version);
	mp_put32(&k, actions);
	mp_put32(&k, protocol);
	return mp_end(&k);
}

int
mp_enc_connect(struct mp_buf *b, const char *hostname, char family,
    uint16_t port, const char *addr)
{
	struct mp_pkt k = mp_begin(b, MP_C_CONNECT);
	unsigned char f = (unsigned char)family;
	unsigned char pw[2] = { port >> 8, port & 0xff };

	mp_put_str(&k, hostname);
	mp_put(&k, &f, 1);
	if (family != 'U') {
		mp_put(&k, pw, 2);
		mp_put_str(&k, addr);
	}
	if (strchr("46LU", family) == NULL || family == '\0')
		k.bad = 1;
	return mp_end(&k);
}

int
mp_enc_helo(struct mp_buf *b, const char *helo)
{
	struct mp_pkt k = mp_begin(b, MP_C_HELO);

	mp_put_str(&k, helo);
	return mp_end(&k);
}

int
mp_enc_envelope(struct mp_buf *b, enum mp_cmd cmd, const char *addr,
    const char *const *args, size_t nargs)
{
	struct mp_pkt k = mp_begin(b, cmd);

	if (cmd != MP_C_MAIL && cmd != MP_C_RCPT)
		k.bad = 1;
	mp_put_str(&k, addr);
	for (size_t i = 0; i < nargs; i++)
		mp_put_str(&k, args[i]);
	return mp_end(&k);
}

int
mp_enc_header(struct mp_buf *b, const char *name, const char *value)
{
	struct mp_pkt k = mp_begin(b, MP_C_HEADER);

	mp_put_str(&k, name);
	mp_put_str(&k, value);
	return mp_end(&k);
}

int
mp_enc_body(struct mp_buf *b, const void *data, size_t len)
{
	struct mp_pkt k = mp_begin(b, MP_C_BODY);

	if (len > MP_CHUNK_MAX)
		k.bad = 1;
	mp_put(&k, data, len);
	return mp_end(&k);
}

int
mp_enc_macros(struct mp_buf *b, enum mp_cmd cmd,
    const char *const *names, const char *const *values, size_t n)
{
	struct mp_pkt k = mp_begin(b, MP_C_MACRO);
	unsigned char c = (unsigned char)cmd;

	mp_put(&k, &c, 1);
	for (size_t i = 0; i < n; i++) {
		mp_put_str(&k, names[i]);
		mp_put_str(&k, values[i]);
	}
	return mp_end(&k);
}

int
mp_enc_bare(struct mp_buf *b, enum mp_cmd cmd)
{
	struct mp_pkt k = mp_begin(b, cmd);

	if (strchr("NETAQK", (int)cmd) == NULL || cmd == 0)
		k.bad = 1;
	return mp_end(&k);
}

/* ---- decoding ------------------------------------------------------------ */

enum mp_status
mp_frame(const unsigned char *p, size_t n, size_t max, size_t *payload_len,
    size_t *size)
{
	*size = 0;
	if (n < 4)
		return MP_AGAIN;
	size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 |
	    (size_t)p[2] << 8 | p[3];
	if (len == 0 || len > max)
		return MP_INVALID;
	*size = len + 4;
	if (n < len + 4)
		return MP_AGAIN;
	*payload_len = len - 1;
	return MP_OK;
}

/* A reader over a payload. */
struct mp_rd {
	const unsigned char *p;
	size_t left;
	int bad;
};

static uint32_t
mp_get32(struct mp_rd *r)
{
	if (r->bad || r->left < 4) {
		r->bad = 1;
		return 0;
	}
	const unsigned char *p = r->p;
	r->p += 4;
	r->left -= 4;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* A NUL-terminated string inside the payload, or NULL (and bad). */
static const char *
mp_get_str(struct mp_rd *r)
{
	const unsigned char *nul = r->bad ? NULL : memchr(r->p, 0, r->left);

	if (nul == NULL) {
		r->bad = 1;
		return NULL;
	}
	const char *s = (const char *)r->p;
	r->left -= (size_t)(nul - r->p) + 1;
	r->p = nul + 1;
	return s;
}

/* Symbol lists: stage number, then the list. */
static void
mp_get_symlists(struct mp_rd *r, struct mp_response *out)
{
	while (!r->bad && r->left > 0) {
		uint32_t stage = mp_get32(r);
		const char *list = mp_get_str(r);
		if (!r->bad && stage >= MP_M_COUNT)
			r->bad = 1;
		else if (!r->bad)
			out->symlist[stage] = list;
	}
}

static int
mp_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* One line of a reply text: "ddd", "ddd text" or "ddd-text".  Returns its
 * code, and sets *more when it is a continuation line; -1 when bad. */
static int
mp_reply_line(const char *s, size_t n, int *more)
{
	if (n < 3 || !mp_digit(s[0]) || !mp_digit(s[1]) || !mp_digit(s[2]))
		return -1;
	if (s[0] != '4' && s[0] != '5')
		return -1;
	if (n > 3 && s[3] != ' ' && s[3] != '-')
		return -1;
	if (memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL)
		return -1;
	*more = n > 3 && s[3] == '-';
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

int
mp_reply_code(const char *text)
{
	int code = -1, more = 1;

	while (more) {
		const char *eol = strstr(text, "\r\n");
		size_t n = eol ? (size_t)(eol - text) : strlen(text);
		int c = mp_reply_line(text, n, &more);
		if (c < 0 || (code >= 0 && c != code) || more != (eol != NULL))
			return -1;
		code = c;
		text = eol ? eol + 2 : text + n;
	}
	return code;
}

static void
mp_dec_optneg(struct mp_rd *rd, struct mp_response *r)
{
	r->version = mp_get32(rd);
	r->actions = mp_get32(rd);
	r->protocol = mp_get32(rd);
	mp_get_symlists(rd, r);
}

static void
mp_dec_header(struct mp_rd *rd, struct mp_response *r, int indexed)
{
	if (indexed)
		r->index = mp_get32(rd);
	r->name = mp_get_str(rd);
	r->value = mp_get_str(rd);
	if (r->name != NULL && r->name[0] == '\0')
		rd->bad = 1;
}

/* An address, and the ESMTP arguments when allowed and present. */
static void
mp_dec_addr(struct mp_rd *rd, struct mp_response *r, int args)
{
	r->addr = mp_get_str(rd);
	if (args && !rd->bad && rd->left > 0)
		r->args = mp_get_str(rd);
}

static void
mp_dec_replycode(struct mp_rd *rd, struct mp_response *r)
{
	r->text = mp_get_str(rd);
	r->smtp_code = rd->bad ? -1 : mp_reply_code(r->text);
	if (r->smtp_code < 0)
		rd->bad = 1;
}

static void
mp_dec_payload(struct mp_rd *rd, struct mp_response *r)
{
	switch (r->code) {
	case MP_R_OPTNEG:
		mp_dec_optneg(rd, r);
		break;
	case MP_R_SETSYMLIST:
		mp_get_symlists(rd, r);
		break;
	case MP_R_REPLYCODE:
		mp_dec_replycode(rd, r);
		break;
	case MP_R_ADDHEADER:
		mp_dec_header(rd, r, 0);
		break;
	case MP_R_INSHEADER:
	case MP_R_CHGHEADER:
		mp_dec_header(rd, r, 1);
		break;
	case MP_R_CHGFROM:
	case MP_R_ADDRCPT_PAR:
		mp_dec_addr(rd, r, 1);
		break;
	case MP_R_ADDRCPT:
	case MP_R_DELRCPT:
	case MP_R_QUARANTINE:
		mp_dec_addr(rd, r, 0);
		break;
	case MP_R_REPLBODY:
		r->data = rd->p;
		r->len = rd->left;
		rd->left = 0;
		break;
	default:	/* no payload; libmilter sends none, extra is ignored */
		rd->left = 0;
		break;
	}
}

/* Every reply code we know, with its name for logs. */
static const struct {
	int code;
	const char *name;
} mp_names[] = {
	{ MP_R_ADDRCPT, "addrcpt" }, { MP_R_DELRCPT, "delrcpt" },
	{ MP_R_ADDRCPT_PAR, "addrcpt_par" }, { MP_R_SHUTDOWN, "shutdown" },
	{ MP_R_ACCEPT, "accept" }, { MP_R_REPLBODY, "replbody" },
	{ MP_R_CONTINUE, "continue" }, { MP_R_DISCARD, "discard" },
	{ MP_R_CHGFROM, "chgfrom" }, { MP_R_CONN_FAIL, "conn_fail" },
	{ MP_R_ADDHEADER, "addheader" }, { MP_R_INSHEADER, "insheader" },
	{ MP_R_SETSYMLIST, "setsymlist" }, { MP_R_CHGHEADER, "chgheader" },
	{ MP_R_OPTNEG, "optneg" }, { MP_R_PROGRESS, "progress" },
	{ MP_R_QUARANTINE, "quarantine" }, { MP_R_REJECT, "reject" },
	{ MP_R_SKIP, "skip" }, { MP_R_TEMPFAIL, "tempfail" },
	{ MP_R_REPLYCODE, "replycode" },
};

const char *
mp_reply_name(int code)
{
	for (size_t i = 0; i < sizeof(mp_names) / sizeof(mp_names[0]); i++)
		if (mp_names[i].code == code)
			return mp_names[i].name;
	return "?";
}

enum mp_status
mp_decode(int code, const unsigned char *payload, size_t len,
    struct mp_response *r)
{
	struct mp_rd rd = { payload, len, 0 };

	memset(r, 0, sizeof(*r));
	if (strcmp(mp_reply_name(code), "?") == 0)
		return MP_INVALID;
	r->code = (enum mp_reply)code;
	mp_dec_payload(&rd, r);
	/* Bytes after the last field of a fixed layout are an error: a
	 * milter that sends them does not speak the protocol we do. */
	return rd.bad || rd.left != 0 ? MP_INVALID : MP_OK;
}

/* ---- negotiation ----------------------------------------------------------- */

/* Per step: the flag that declines it and the one that silences it. */
static const struct {
	uint32_t no, nr;
} mp_steps[MP_S_COUNT] = {
	[MP_S_CONNECT] = { MP_P_NOCONNECT, MP_P_NR_CONN },
	[MP_S_HELO] = { MP_P_NOHELO, MP_P_NR_HELO },
	[MP_S_MAIL] = { MP_P_NOMAIL, MP_P_NR_MAIL },
	[MP_S_RCPT] = { MP_P_NORCPT, MP_P_NR_RCPT },
	[MP_S_DATA] = { MP_P_NODATA, MP_P_NR_DATA },
	[MP_S_HEADER] = { MP_P_NOHDRS, MP_P_NR_HDR },
	[MP_S_EOH] = { MP_P_NOEOH, MP_P_NR_EOH },
	[MP_S_BODY] = { MP_P_NOBODY, MP_P_NR_BODY },
	[MP_S_UNKNOWN] = { MP_P_NOUNKNOWN, MP_P_NR_UNKN },
};

enum mp_status
mp_negotiate(uint32_t our_actions, uint32_t our_protocol,
    const struct mp_response *r, struct mp_options *out, const char **why)
{
	*why = NULL;
	if (r->code != MP_R_OPTNEG)
		*why = "no option negotiation reply";
	else if (r->version < 2)
		*why = "protocol version below 2";
	else if ((r->actions & ~our_actions) != 0)
		*why = "it wants actions this server does not offer";
	if (*why != NULL)
		return MP_INVALID;
	out->version = r->version > MP_VERSION ? MP_VERSION : r->version;
	out->actions = r->actions;
	/* Flags we did not offer are ignored, as Postfix does: we would
	 * neither skip nor stay silent where we said we would not. */
	out->protocol = r->protocol & our_protocol;
	/* Steps that did not exist in its version are never sent to it. */
	if (out->version < 3)
		out->protocol |= MP_P_NOUNKNOWN;
	if (out->version < 4)
		out->protocol |= MP_P_NODATA;
	return MP_OK;
}

int
mp_step_sent(const struct mp_options *o, enum mp_step step)
{
	return step < MP_S_COUNT && (o->protocol & mp_steps[step].no) == 0;
}

int
mp_step_replied(const struct mp_options *o, enum mp_step step)
{
	return step < MP_S_COUNT && (o->protocol & mp_steps[step].nr) == 0;
}

/*
 * check_milter_proto.c - unit tests of plugins/milter/milter_proto.c, the
 * pure codec of the milter protocol: each command's bytes, each reply and
 * action decoded (and the malformed ones refused), framing bounds, reply
 * code texts, option negotiation and the skip / no-reply decisions; the
 * message cut into header fields and body chunks (milter_msg.c) and the
 * verdicts' meaning by stage (milter_map.c); the socket setting
 * (milter_conn.c).
 */
#include <check.h>
#include <string.h>

#include "check_run.h"
#include "milter_conn.h"
#include "milter_macros.h"
#include "milter_map.h"
#include "milter_msg.h"
#include "milter_proto.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* A byte string and its length, NULs included. */
#define B(s) (const unsigned char *)(s), sizeof(s) - 1

/* ---- encoding ----------------------------------------------------------- */

static const char *const mail_args[] = { "SIZE=10", "BODY=8BITMIME" };
static const char *const mnames[] = { "j", "{client_addr}" };
static const char *const mvalues[] = { "mx.example.org", "192.0.2.1" };

/* Build one packet per row; what it must be on the wire. */
static int
enc_row(int i, struct mp_buf *b)
{
	static const unsigned char body[3] = { 'a', '\r', '\n' };

	switch (i) {
	case 0: return mp_enc_optneg(b, 6, 0x1ff, 0x1fffff);
	case 1: return mp_enc_connect(b, "[192.0.2.1]", '4', 25, "192.0.2.1");
	case 2: return mp_enc_connect(b, "h", '6', 0x1234, "::1");
	case 3: return mp_enc_connect(b, "h", 'U', 0, "");
	case 4: return mp_enc_connect(b, "h", 'L', 0, "/run/x");
	case 5: return mp_enc_helo(b, "client.example");
	case 6: return mp_enc_envelope(b, MP_C_MAIL, "<a@b>", mail_args, 2);
	case 7: return mp_enc_envelope(b, MP_C_RCPT, "<c@d>", NULL, 0);
	case 8: return mp_enc_header(b, "Subject", "hi");
	case 9: return mp_enc_body(b, body, sizeof(body));
	case 10: return mp_enc_macros(b, MP_C_CONNECT, mnames, mvalues, 2);
	case 11: return mp_enc_bare(b, MP_C_DATA);
	case 12: return mp_enc_bare(b, MP_C_EOH);
	case 13: return mp_enc_bare(b, MP_C_BODYEOB);
	case 14: return mp_enc_bare(b, MP_C_ABORT);
	case 15: return mp_enc_bare(b, MP_C_QUIT);
	case 16: return mp_enc_macros(b, MP_C_BODYEOB, mnames, mvalues, 0);
	default: return -2;
	}
}

static const struct {
	const char *wire;
	size_t len;
} enc_cases[] = {
#define W(s) { s, sizeof(s) - 1 }
	W("\0\0\0\x0dO\0\0\0\6\0\0\x01\xff\0\x1f\xff\xff"),
	W("\0\0\0\x1a" "C[192.0.2.1]\0" "4\0\x19" "192.0.2.1\0"),
	W("\0\0\0\x0a" "Ch\0" "6\x12\x34::1\0"),
	W("\0\0\0\4Ch\0U"),
	W("\0\0\0\x0d" "Ch\0L\0\0/run/x\0"),
	W("\0\0\0\x10Hclient.example\0"),
	W("\0\0\0\x1dM<a@b>\0SIZE=10\0BODY=8BITMIME\0"),
	W("\0\0\0\7R<c@d>\0"),
	W("\0\0\0\x0cLSubject\0hi\0"),
	W("\0\0\0\4Ba\r\n"),
	W("\0\0\0\x2b" "DCj\0mx.example.org\0{client_addr}\0" "192.0.2.1\0"),
	W("\0\0\0\1T"),
	W("\0\0\0\1N"),
	W("\0\0\0\1E"),
	W("\0\0\0\1A"),
	W("\0\0\0\1Q"),
	W("\0\0\0\2DE"),
};

START_TEST(test_encode)
{
	unsigned char mem[128];
	struct mp_buf b = { mem, 0, sizeof(mem) };

	ck_assert_int_eq(enc_row(_i, &b), 0);
	ck_assert_uint_eq(b.len, enc_cases[_i].len);
	ck_assert(memcmp(mem, enc_cases[_i].wire, b.len) == 0);
	/* One byte short: refused, and nothing is left half written. */
	struct mp_buf small = { mem, 0, enc_cases[_i].len - 1 };
	ck_assert_int_eq(enc_row(_i, &small), -1);
	ck_assert_uint_eq(small.len, 0);
}
END_TEST

START_TEST(test_encode_bounds)
{
	static unsigned char big[MP_CHUNK_MAX + 1];
	static unsigned char mem[MP_CHUNK_MAX + 64];
	struct mp_buf b = { mem, 3, sizeof(mem) };

	ck_assert_int_eq(mp_enc_body(&b, big, sizeof(big)), -1);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(mp_enc_body(&b, big, MP_CHUNK_MAX), 0);
	ck_assert_uint_eq(b.len, 3 + 5 + MP_CHUNK_MAX);
	b.len = 0;
	ck_assert_int_eq(mp_enc_bare(&b, MP_C_HELO), -1);
	ck_assert_int_eq(mp_enc_envelope(&b, MP_C_HELO, "<a>", NULL, 0), -1);
	ck_assert_int_eq(mp_enc_connect(&b, "h", 'X', 1, "a"), -1);
	ck_assert_int_eq(mp_enc_connect(&b, "h", '\0', 1, "a"), -1);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

/* ---- framing ------------------------------------------------------------- */

static const struct {
	const char *in;
	size_t n;
	enum mp_status want;
	size_t payload, size;
} frame_cases[] = {
	{ "", 0, MP_AGAIN, 0, 0 },
	{ "\0\0\0", 3, MP_AGAIN, 0, 0 },
	{ "\0\0\0\1", 4, MP_AGAIN, 0, 5 },
	{ "\0\0\0\1c", 5, MP_OK, 0, 5 },
	{ "\0\0\0\1cXYZ", 8, MP_OK, 0, 5 },	/* the next packet follows */
	{ "\0\0\0\3y4", 6, MP_AGAIN, 0, 7 },
	{ "\0\0\0\0", 4, MP_INVALID, 0, 0 },
	{ "\0\x04\0\1", 4, MP_INVALID, 0, 0 },	/* just above the max */
	{ "\0\x04\0\0", 4, MP_AGAIN, 0, MP_PACKET_MAX + 4 },
	{ "\xff\xff\xff\xff", 4, MP_INVALID, 0, 0 },
};

START_TEST(test_frame)
{
	size_t payload = 0, size = 99;
	enum mp_status st = mp_frame((const unsigned char *)frame_cases[_i].in,
	    frame_cases[_i].n, MP_PACKET_MAX, &payload, &size);

	ck_assert_int_eq(st, frame_cases[_i].want);
	ck_assert_uint_eq(size, frame_cases[_i].size);
	if (st == MP_OK)
		ck_assert_uint_eq(payload, frame_cases[_i].payload);
}
END_TEST

/* ---- decoding ------------------------------------------------------------ */

static const struct {
	int code;
	const unsigned char *p;
	size_t n;
	enum mp_status want;
	/* what the fields must be (NULL / 0 where not checked) */
	const char *name, *value, *addr, *args, *text;
	uint32_t index;
	int smtp_code;
} dec_cases[] = {
	{ 'a', B(""), MP_OK, 0, 0, 0, 0, 0, 0, 0 },
	{ 'c', B(""), MP_OK, 0, 0, 0, 0, 0, 0, 0 },
	{ 'r', B(""), MP_OK, 0, 0, 0, 0, 0, 0, 0 },
	{ 't', B(""), MP_OK, 0, 0, 0, 0, 0, 0, 0 },
	{ 'd', B(""), MP_OK, 0, 0, 0, 0, 0, 0, 0 },
	{ 'p', B(""), MP_OK, 0, 0, 0, 0, 0, 0, 0 },
	{ 's', B(""), MP_OK, 0, 0, 0, 0, 0, 0, 0 },
	{ 'y', B("550 5.7.1 go away\0"), MP_OK, 0, 0, 0, 0,
	    "550 5.7.1 go away", 0, 550 },
	{ 'y', B("451-4.7.1 one\r\n451 4.7.1 two\0"), MP_OK, 0, 0, 0, 0,
	    "451-4.7.1 one\r\n451 4.7.1 two", 0, 451 },
	{ 'y', B("250 ok\0"), MP_INVALID, 0, 0, 0, 0, 0, 0, 0 },
	{ 'y', B("550 no"), MP_INVALID, 0, 0, 0, 0, 0, 0, 0 },
	{ 'h', B("X-Spam\0yes\0"), MP_OK, "X-Spam", "yes", 0, 0, 0, 0, 0 },
	{ 'h', B("X-Spam\0yes"), MP_INVALID, 0, 0, 0, 0, 0, 0, 0 },
	{ 'h', B("\0yes\0"), MP_INVALID, 0, 0, 0, 0, 0, 0, 0 },
	{ 'i', B("\0\0\0\0DKIM-Signature\0v=1\0"), MP_OK, "DKIM-Signature",
	    "v=1", 0, 0, 0, 0, 0 },
	{ 'm', B("\0\0\0\2Subject\0new\0"), MP_OK, "Subject", "new", 0, 0, 0,
	    2, 0 },
	{ 'm', B("\0\0\0\1Subject\0\0"), MP_OK, "Subject", "", 0, 0, 0, 1,
	    0 },
	{ 'm', B("\0\0\1"), MP_INVALID, 0, 0, 0, 0, 0, 0, 0 },
	{ 'm', B("\0\0\0\1Subject\0x\0junk"), MP_INVALID, 0, 0, 0, 0, 0, 0,
	    0 },
	{ 'e', B("<new@example.org>\0"), MP_OK, 0, 0, "<new@example.org>",
	    0, 0, 0, 0 },
	{ 'e', B("<new@example.org>\0SIZE=1\0"), MP_OK, 0, 0,
	    "<new@example.org>", "SIZE=1", 0, 0, 0 },
	{ '+', B("<x@y>\0"), MP_OK, 0, 0, "<x@y>", 0, 0, 0, 0 },
	{ '+', B("<x@y>\0A=B\0"), MP_INVALID, 0, 0, 0, 0, 0, 0, 0 },
	{ '2', B("<x@y>\0NOTIFY=NEVER\0"), MP_OK, 0, 0, "<x@y>",
	    "NOTIFY=NEVER", 0, 0, 0 },
	{ '-', B("<x@y>\0"), MP_OK, 0, 0, "<x@y>", 0, 0, 0, 0 },
	{ '-', B(""), MP_INVALID, 0, 0, 0, 0, 0, 0, 0 },
	{ 'q', B("virus found\0"), MP_OK, 0, 0, "virus found", 0, 0, 0, 0 },
	{ 'b', B("new body\r\n"), MP_OK, 0, 0, 0, 0, 0, 0, 0 },
	{ 'l', B("\0\0\0\5{a} {b}\0"), MP_OK, 0, 0, 0, 0, 0, 0, 0 },
	{ 'l', B("\0\0\0\7{a}\0"), MP_INVALID, 0, 0, 0, 0, 0, 0, 0 },
	{ 'O', B("\0\0\0\6\0\0\0\1\0\0\0\0"), MP_OK, 0, 0, 0, 0, 0, 0, 0 },
	{ 'O', B("\0\0\0\6\0\0\0\1\0\0"), MP_INVALID, 0, 0, 0, 0, 0, 0, 0 },
	{ 'Z', B(""), MP_INVALID, 0, 0, 0, 0, 0, 0, 0 },
	{ 'C', B(""), MP_INVALID, 0, 0, 0, 0, 0, 0, 0 },
};

static void
ck_str_or_null(const char *got, const char *want)
{
	if (want != NULL)
		ck_assert_str_eq(got, want);
}

START_TEST(test_decode)
{
	struct mp_response r;
	enum mp_status st = mp_decode(dec_cases[_i].code, dec_cases[_i].p,
	    dec_cases[_i].n, &r);

	ck_assert_int_eq(st, dec_cases[_i].want);
	if (st != MP_OK)
		return;
	ck_assert_int_eq(r.code, dec_cases[_i].code);
	ck_str_or_null(r.name, dec_cases[_i].name);
	ck_str_or_null(r.value, dec_cases[_i].value);
	ck_str_or_null(r.addr, dec_cases[_i].addr);
	ck_str_or_null(r.args, dec_cases[_i].args);
	ck_str_or_null(r.text, dec_cases[_i].text);
	ck_assert_uint_eq(r.index, dec_cases[_i].index);
	if (dec_cases[_i].smtp_code)
		ck_assert_int_eq(r.smtp_code, dec_cases[_i].smtp_code);
	if (dec_cases[_i].args == NULL)
		ck_assert_ptr_null(r.args);
}
END_TEST

START_TEST(test_decode_lists)
{
	struct mp_response r;
	static const unsigned char opt[] = "\0\0\0\6\0\0\0\x21\0\0\0\x80"
	    "\0\0\0\0{x}\0\0\0\0\5i {y}\0";

	ck_assert_int_eq(mp_decode('O', opt, sizeof(opt) - 1, &r), MP_OK);
	ck_assert_uint_eq(r.version, 6);
	ck_assert_uint_eq(r.actions, 0x21);
	ck_assert_uint_eq(r.protocol, 0x80);
	ck_assert_str_eq(r.symlist[MP_M_CONNECT], "{x}");
	ck_assert_str_eq(r.symlist[MP_M_EOM], "i {y}");
	ck_assert_ptr_null(r.symlist[MP_M_HELO]);
	static const unsigned char body[] = "a\0b";
	ck_assert_int_eq(mp_decode('b', body, 3, &r), MP_OK);
	ck_assert_uint_eq(r.len, 3);
	ck_assert_ptr_eq(r.data, body);
	ck_assert_str_eq(mp_reply_name('r'), "reject");
	ck_assert_str_eq(mp_reply_name('Z'), "?");
}
END_TEST

static const struct {
	const char *text;
	int code;
} reply_cases[] = {
	{ "550 5.7.1 no", 550 },
	{ "550", 550 },
	{ "421 4.7.0 bye", 421 },
	{ "550-a\r\n550 b", 550 },
	{ "550-a\r\n550-b\r\n550 c", 550 },
	{ "550-a\r\n551 b", -1 },
	{ "550-a", -1 },		/* a continuation must be followed */
	{ "550 a\r\n550 b", -1 },	/* ... and the last line must end */
	{ "550 a\r\n", -1 },
	{ "550 a\nb", -1 },
	{ "550 a\rb", -1 },
	{ "250 ok", -1 },
	{ "354 go", -1 },
	{ "600 x", -1 },
	{ "55 x", -1 },
	{ "5x0 x", -1 },
	{ "550x", -1 },
	{ "", -1 },
};

START_TEST(test_reply_code)
{
	ck_assert_int_eq(mp_reply_code(reply_cases[_i].text),
	    reply_cases[_i].code);
}
END_TEST

/* ---- negotiation --------------------------------------------------------- */

#define ALL_ACT 0x1ffu
#define ALL_PROTO 0x1ff7ffu	/* everything but RCPT_REJ */

static const struct {
	int code;
	uint32_t version, actions, protocol;
	enum mp_status want;
	uint32_t agreed_proto;
} neg_cases[] = {
	{ 'O', 6, 0x01, 0, MP_OK, 0 },
	{ 'O', 6, 0x1ff, MP_P_NR_HDR | MP_P_NOHELO, MP_OK,
	    MP_P_NR_HDR | MP_P_NOHELO },
	{ 'O', 2, 0x0f, MP_P_NOBODY, MP_OK,
	    MP_P_NOBODY | MP_P_NOUNKNOWN | MP_P_NODATA },
	{ 'O', 3, 0x0f, 0, MP_OK, MP_P_NODATA },
	{ 'O', 1, 0, 0, MP_INVALID, 0 },
	{ 'O', 6, 0x200, 0, MP_INVALID, 0 },
	{ 'O', 6, 0, MP_P_RCPT_REJ | MP_P_NR_HDR, MP_OK, MP_P_NR_HDR },
	{ 'O', 7, 0, 0, MP_OK, 0 },
	{ 'c', 6, 0, 0, MP_INVALID, 0 },
};

START_TEST(test_negotiate)
{
	struct mp_response r = { .code = neg_cases[_i].code,
	    .version = neg_cases[_i].version,
	    .actions = neg_cases[_i].actions,
	    .protocol = neg_cases[_i].protocol };
	struct mp_options o;
	const char *why;

	ck_assert_int_eq(mp_negotiate(ALL_ACT, ALL_PROTO, &r, &o, &why),
	    neg_cases[_i].want);
	if (neg_cases[_i].want != MP_OK) {
		ck_assert_ptr_nonnull(why);
		return;
	}
	ck_assert_uint_eq(o.protocol, neg_cases[_i].agreed_proto);
	ck_assert_uint_eq(o.actions, neg_cases[_i].actions);
}
END_TEST

static const struct {
	uint32_t protocol;
	enum mp_step step;
	int sent, replied;
} step_cases[] = {
	{ 0, MP_S_CONNECT, 1, 1 },
	{ MP_P_NOCONNECT, MP_S_CONNECT, 0, 1 },
	{ MP_P_NR_CONN, MP_S_CONNECT, 1, 0 },
	{ MP_P_NOHELO | MP_P_NR_HELO, MP_S_HELO, 0, 0 },
	{ MP_P_NOMAIL, MP_S_MAIL, 0, 1 },
	{ MP_P_NR_RCPT, MP_S_RCPT, 1, 0 },
	{ MP_P_NODATA, MP_S_DATA, 0, 1 },
	{ MP_P_NR_HDR, MP_S_HEADER, 1, 0 },
	{ MP_P_NOHDRS, MP_S_HEADER, 0, 1 },
	{ MP_P_NR_EOH, MP_S_EOH, 1, 0 },
	{ MP_P_NOBODY | MP_P_NR_BODY, MP_S_BODY, 0, 0 },
	{ MP_P_NOBODY, MP_S_EOH, 1, 1 },
	{ MP_P_NOUNKNOWN, MP_S_UNKNOWN, 0, 1 },
	{ 0, MP_S_COUNT, 0, 0 },
};

START_TEST(test_steps)
{
	struct mp_options o = { 6, 0, step_cases[_i].protocol };

	ck_assert_int_eq(mp_step_sent(&o, step_cases[_i].step),
	    step_cases[_i].sent);
	ck_assert_int_eq(mp_step_replied(&o, step_cases[_i].step),
	    step_cases[_i].replied);
}
END_TEST

/* ---- the message, as a milter sees it -------------------------------------- */

static const struct {
	const char *data;
	const char *fields;	/* "name=value|" each */
	int has_body;
	const char *wire;	/* the body in wire form */
} msg_cases[] = {
	{ "Subject: hi\n\nbody", "Subject=hi|", 1, "body\r\n" },
	{ "Subject: hi\n\nbody\n", "Subject=hi|", 1, "body\r\n\r\n" },
	{ "Subject: hi\n\n", "Subject=hi|", 1, "\r\n" },
	{ "Subject: hi\n", "Subject=hi|", 0, "" },
	{ "Subject: hi", "Subject=hi|", 0, "" },
	{ "", "", 0, "" },
	{ "\nbody", "", 1, "body\r\n" },
	{ "A:  two\nB:x\nC \t: y\n\nz", "A= two|B=x|C=y|", 1, "z\r\n" },
	{ "A: 1\n\tfold\n more\nB: 2\n\n", "A=1\n\tfold\n more|B=2|", 1,
	    "\r\n" },
	{ "A: 1\nnot a field\nB: 2", "A=1|", 1, "not a field\r\nB: 2\r\n" },
	{ "A: 1\r\n\r\nb", "A=1|", 1, "b\r\n" },
	{ "A:\n\na\rb\r\nc", "A=|", 1, "a\r\nb\r\nc\r\n" },
	{ " lead: x\n\nb", "", 1, " lead: x\r\n\r\nb\r\n" },
	{ ": x\n", "", 1, ": x\r\n\r\n" },
};

START_TEST(test_message)
{
	const char *d = msg_cases[_i].data;
	size_t len = strlen(d), pos = 0;
	struct mm_header h;
	enum mm_next n;
	char fields[256] = "", wire[256], *w = wire;

	while ((n = mm_next_header(d, len, &pos, &h)) == MM_FIELD)
		snprintf(fields + strlen(fields), sizeof(fields) - strlen(fields),
		    "%.*s=%.*s|", (int)h.name_len, h.name, (int)h.value_len,
		    h.value);
	ck_assert_str_eq(fields, msg_cases[_i].fields);
	ck_assert_int_eq(n == MM_BODY, msg_cases[_i].has_body);
	struct mm_body b;
	size_t k;
	mm_body_start(&b, d + pos, len - pos, n == MM_BODY);
	while ((k = mm_body_chunk(&b, w, 3)) > 0)	/* tiny chunks */
		w += k;
	*w = '\0';
	ck_assert_str_eq(wire, msg_cases[_i].wire);
}
END_TEST

/* A replacement body in wire form, in two chunks cut at every place. */
static const struct {
	const char *wire, *text;
} unwire_cases[] = {
	{ "new body\r\n", "new body" },
	{ "a\r\nb\r\n\r\n", "a\nb\n" },
	{ "a\nb", "a\nb" },
	{ "a\rb\r", "a\nb" },
	{ "", "" },
	{ "\r\n", "" },
	{ "\r\n\r\nx", "\n\nx" },
};

START_TEST(test_unwire)
{
	const char *in = unwire_cases[_i].wire;
	size_t len = strlen(in);

	for (size_t cut = 0; cut <= len; cut++) {
		struct mm_unwire u = { 0, 0 };
		char out[64];
		size_t n = mm_unwire(&u, in, cut, out);
		n += mm_unwire(&u, in + cut, len - cut, out + n);
		out[n] = '\0';
		ck_assert_str_eq(out, unwire_cases[_i].text);
	}
}
END_TEST

static const struct {
	const char *in, *out;
} addr_cases[] = {
	{ "<a@b.c>", "a@b.c" }, { "a@b.c", "a@b.c" }, { "<>", "<>" },
	{ "<a\r\n@b>", NULL }, { "", NULL }, { "<\"x y\"@b>", "\"x y\"@b" },
};

static const struct {
	const char *in, *out;
} value_cases[] = {
	{ "v=1; a=rsa", "v=1; a=rsa" },
	{ "a\r\n\tb", "a\n\tb" },
	{ "a\n b", "a\n b" },
	{ "a\nb", "a\n\tb" },
	{ "a\r\n\r\n b\r\n", "a\n b" },
	{ "", "" },
};

START_TEST(test_addr_value)
{
	char out[64];

	if (_i < (int)NELEM(addr_cases)) {
		int r = mm_strip_addr(addr_cases[_i].in, out, sizeof(out));
		ck_assert_int_eq(r, addr_cases[_i].out ? 0 : -1);
		if (r == 0)
			ck_assert_str_eq(out, addr_cases[_i].out);
	}
	if (_i < (int)NELEM(value_cases)) {
		mm_header_value(value_cases[_i].in, out);
		ck_assert_str_eq(out, value_cases[_i].out);
	}
	ck_assert_int_eq(mm_strip_addr("<abcd>", out, 4), -1);
}
END_TEST

/* ---- verdicts by stage --------------------------------------------------- */

static const struct {
	enum mx_stage stage;
	enum ml_verdict v;
	enum ml_default def;
	enum mx_answer answer;
	const char *reply;
	enum mx_next next;
} map_cases[] = {
	{ MX_CONNECT, ML_CONTINUE, 0, MX_GO_ON, NULL, MX_KEEP },
	{ MX_CONNECT, ML_ACCEPT, 0, MX_GO_ON, NULL, MX_DONE },
	{ MX_CONNECT, ML_REJECT, 0, MX_GO_ON, MX_REJECT_TEXT, MX_REFUSE },
	{ MX_CONNECT, ML_TEMPFAIL, 0, MX_GO_ON, MX_TEMPFAIL_TEXT, MX_REFUSE },
	{ MX_CONNECT, ML_REPLY, 0, MX_GO_ON, "554 5.7.1 own", MX_REFUSE },
	{ MX_CONNECT, ML_REPLY, 0, MX_DISCONNECT, "421 4.7.0 bye", MX_DONE },
	{ MX_CONNECT, ML_DISCARD, 0, MX_GO_ON, NULL, MX_DISCARD_ALL },
	{ MX_CONNECT, ML_FAIL, ML_DEF_TEMPFAIL, MX_GO_ON, MX_TEMPFAIL_TEXT,
	    MX_REFUSE },
	{ MX_CONNECT, ML_FAIL, ML_DEF_ACCEPT, MX_GO_ON, NULL, MX_DONE },
	{ MX_HELO, ML_REJECT, 0, MX_REPLY, MX_REJECT_TEXT, MX_KEEP },
	{ MX_HELO, ML_FAIL, ML_DEF_REJECT, MX_GO_ON, MX_REJECT_TEXT,
	    MX_REFUSE },
	{ MX_HELO, ML_ACCEPT, 0, MX_GO_ON, NULL, MX_DONE },
	{ MX_MAIL, ML_ACCEPT, 0, MX_GO_ON, NULL, MX_MSG_DONE },
	{ MX_MAIL, ML_DISCARD, 0, MX_GO_ON, NULL, MX_DISCARD_MSG },
	{ MX_MAIL, ML_FAIL, ML_DEF_TEMPFAIL, MX_REPLY, MX_TEMPFAIL_TEXT,
	    MX_REFUSE },
	{ MX_RCPT, ML_REJECT, 0, MX_REPLY, MX_REJECT_TEXT, MX_KEEP },
	{ MX_RCPT, ML_SHUTDOWN, 0, MX_DISCONNECT, MX_SHUTDOWN_TEXT, MX_DONE },
	{ MX_DATA, ML_TEMPFAIL, 0, MX_REPLY, MX_TEMPFAIL_TEXT, MX_KEEP },
	{ MX_MESSAGE, ML_DISCARD, 0, MX_REPLY, MX_DISCARD_TEXT,
	    MX_DISCARD_MSG },
	{ MX_MESSAGE, ML_REPLY, 0, MX_REPLY, "550 5.7.1 spam", MX_KEEP },
	{ MX_MESSAGE, ML_SKIP, 0, MX_GO_ON, NULL, MX_KEEP },
	{ MX_MESSAGE, ML_FAIL, ML_DEF_ACCEPT, MX_GO_ON, NULL, MX_DONE },
	{ MX_MESSAGE, ML_FAIL, ML_DEF_REJECT, MX_REPLY, MX_REJECT_TEXT,
	    MX_REFUSE },
};

START_TEST(test_map)
{
	struct mx_outcome o;
	const char *own = map_cases[_i].v == ML_REPLY ? map_cases[_i].reply :
	    "";

	mx_map(map_cases[_i].stage, map_cases[_i].v, map_cases[_i].def, own,
	    &o);
	ck_assert_int_eq(o.answer, map_cases[_i].answer);
	ck_assert_int_eq(o.next, map_cases[_i].next);
	if (map_cases[_i].reply == NULL)
		ck_assert_ptr_null(o.reply);
	else
		ck_assert_str_eq(o.reply, map_cases[_i].reply);
}
END_TEST

/* ---- the socket setting ---------------------------------------------------- */

static const struct {
	const char *spec;
	int family;
	const char *host, *port;	/* host NULL: refused */
} addr_spec_cases[] = {
	{ "inet:127.0.0.1:8891", AF_UNSPEC, "127.0.0.1", "8891" },
	{ "inet:localhost:11332", AF_UNSPEC, "localhost", "11332" },
	{ "inet:8891@127.0.0.1", AF_UNSPEC, "127.0.0.1", "8891" },
	{ "inet6:[::1]:8891", AF_INET6, "::1", "8891" },
	{ "inet6:::1:8891", AF_INET6, "::1", "8891" },
	{ "inet6:8891@::1", AF_INET6, "::1", "8891" },
	{ "unix:/run/opendkim/opendkim.sock", AF_UNIX,
	    "/run/opendkim/opendkim.sock", "" },
	{ "local:/run/x.sock", AF_UNIX, "/run/x.sock", "" },
	{ "unix:run/x.sock", 0, NULL, NULL },
	{ "inet:127.0.0.1", 0, NULL, NULL },
	{ "inet:127.0.0.1:0", 0, NULL, NULL },
	{ "inet:127.0.0.1:65536", 0, NULL, NULL },
	{ "inet:127.0.0.1:88x", 0, NULL, NULL },
	{ "inet::8891", 0, NULL, NULL },
	{ "inet6:[::1]8891", 0, NULL, NULL },
	{ "inet:@host", 0, NULL, NULL },
	{ "tcp:1.2.3.4:5", 0, NULL, NULL },
	{ "127.0.0.1:8891", 0, NULL, NULL },
	{ "inet:a b:25", 0, NULL, NULL },
};

START_TEST(test_socket_spec)
{
	struct mc_addr a;
	const char *why = NULL;
	int r = mc_parse_addr(addr_spec_cases[_i].spec, &a, &why);

	if (addr_spec_cases[_i].host == NULL) {
		ck_assert_int_eq(r, -1);
		ck_assert_ptr_nonnull(why);
		return;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(a.family, addr_spec_cases[_i].family);
	ck_assert_str_eq(a.host, addr_spec_cases[_i].host);
	ck_assert_str_eq(a.port, addr_spec_cases[_i].port);
}
END_TEST

/* ---- symbol lists ----------------------------------------------------------- */

static const struct {
	const char *want, *name;
	int wanted;
} symlist_cases[] = {
	{ NULL, "j", 1 },
	{ "{client_addr} j", "j", 1 },
	{ "{client_addr} j", "{client_addr}", 1 },
	{ "client_addr", "{client_addr}", 1 },
	{ "{client_addr}", "client_addr", 1 },
	{ "{client_addr}", "{client_name}", 0 },
	{ "{client_address}", "{client_addr}", 0 },
	{ "i,{mail_addr}", "{mail_addr}", 1 },
	{ "", "i", 0 },
	{ "{}", "{}", 0 },
	{ "ij", "i", 0 },
};

START_TEST(test_symlist)
{
	ck_assert_int_eq(mk_wanted(symlist_cases[_i].want,
	    symlist_cases[_i].name), symlist_cases[_i].wanted);
}
END_TEST

static Suite *
milter_proto_suite(void)
{
	Suite *s = suite_create("milter_proto");
	TCase *tc = tcase_create("codec");

	tcase_add_loop_test(tc, test_encode, 0, (int)NELEM(enc_cases));
	tcase_add_test(tc, test_encode_bounds);
	tcase_add_loop_test(tc, test_frame, 0, (int)NELEM(frame_cases));
	tcase_add_loop_test(tc, test_decode, 0, (int)NELEM(dec_cases));
	tcase_add_test(tc, test_decode_lists);
	tcase_add_loop_test(tc, test_reply_code, 0, (int)NELEM(reply_cases));
	tcase_add_loop_test(tc, test_negotiate, 0, (int)NELEM(neg_cases));
	tcase_add_loop_test(tc, test_steps, 0, (int)NELEM(step_cases));
	tcase_add_loop_test(tc, test_message, 0, (int)NELEM(msg_cases));
	tcase_add_loop_test(tc, test_unwire, 0, (int)NELEM(unwire_cases));
	tcase_add_loop_test(tc, test_addr_value, 0, (int)NELEM(addr_cases));
	tcase_add_loop_test(tc, test_map, 0, (int)NELEM(map_cases));
	tcase_add_loop_test(tc, test_symlist, 0, (int)NELEM(symlist_cases));
	tcase_add_loop_test(tc, test_socket_spec, 0,
	    (int)NELEM(addr_spec_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(milter_proto_suite());
}

/*
 * milter_proto.h - the milter protocol, version 6, as the MTA speaks it:
 * pure encoding of the commands psmtpd sends and decoding of the replies
 * and actions a milter sends back.  Bytes in, a struct out; no I/O, no
 * allocation (packets are written into and read from the caller's
 * buffers), no globals, so that it can be tested by tables and fuzzed.
 *
 * A packet on the wire is a 4-byte length in network order (the command
 * byte plus the payload), the command byte, then the payload.  Strings in
 * a payload end with a NUL; integers are 32 bits in network order.
 */
#ifndef PSMTPD_MILTER_PROTO_H
#define PSMTPD_MILTER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define MP_VERSION 6		/* the protocol version we speak */
#define MP_CHUNK_MAX 65535	/* body bytes in one SMFIC_BODY */
/* The largest packet we read from a milter: a body chunk, a header of a
 * few kilobytes or a reply are far below it; anything above is an error
 * rather than a reason to allocate. */
#define MP_PACKET_MAX (256 * 1024)

/* Commands, MTA to milter. */
enum mp_cmd {
	MP_C_ABORT = 'A', MP_C_BODY = 'B', MP_C_CONNECT = 'C',
	MP_C_MACRO = 'D', MP_C_BODYEOB = 'E', MP_C_HELO = 'H',
	MP_C_QUIT_NC = 'K', MP_C_HEADER = 'L', MP_C_MAIL = 'M',
	MP_C_EOH = 'N', MP_C_OPTNEG = 'O', MP_C_QUIT = 'Q', MP_C_RCPT = 'R',
	MP_C_DATA = 'T', MP_C_UNKNOWN = 'U'
};

/* Replies and actions, milter to MTA. */
enum mp_reply {
	MP_R_ADDRCPT = '+', MP_R_DELRCPT = '-', MP_R_ADDRCPT_PAR = '2',
	MP_R_SHUTDOWN = '4', MP_R_ACCEPT = 'a', MP_R_REPLBODY = 'b',
	MP_R_CONTINUE = 'c', MP_R_DISCARD = 'd', MP_R_CHGFROM = 'e',
	MP_R_CONN_FAIL = 'f', MP_R_ADDHEADER = 'h', MP_R_INSHEADER = 'i',
	MP_R_SETSYMLIST = 'l', MP_R_CHGHEADER = 'm', MP_R_OPTNEG = 'O',
	MP_R_PROGRESS = 'p', MP_R_QUARANTINE = 'q', MP_R_REJECT = 'r',
	MP_R_SKIP = 's', MP_R_TEMPFAIL = 't', MP_R_REPLYCODE = 'y'
};

/* Actions a milter may take (SMFIF_*), offered by the MTA. */
#define MP_F_ADDHDRS	0x001u
#define MP_F_CHGBODY	0x002u
#define MP_F_ADDRCPT	0x004u
#define MP_F_DELRCPT	0x008u
#define MP_F_CHGHDRS	0x010u
#define MP_F_QUARANTINE	0x020u
#define MP_F_CHGFROM	0x040u
#define MP_F_ADDRCPT_PAR 0x080u
#define MP_F_SETSYMLIST	0x100u

/* Protocol steps (SMFIP_*): what the milter does not want to be sent
 * (NO*), which steps it will not answer (NR_*), and extensions. */
#define MP_P_NOCONNECT	0x000001u
#define MP_P_NOHELO	0x000002u
#define MP_P_NOMAIL	0x000004u
#define MP_P_NORCPT	0x000008u
#define MP_P_NOBODY	0x000010u
#define MP_P_NOHDRS	0x000020u
#define MP_P_NOEOH	0x000040u
#define MP_P_NR_HDR	0x000080u
#define MP_P_NOUNKNOWN	0x000100u
#define MP_P_NODATA	0x000200u
#define MP_P_SKIP	0x000400u	/* the MTA understands SMFIR_SKIP */
#define MP_P_RCPT_REJ	0x000800u
#define MP_P_NR_CONN	0x001000u
#define MP_P_NR_HELO	0x002000u
#define MP_P_NR_MAIL	0x004000u
#define MP_P_NR_RCPT	0x008000u
#define MP_P_NR_DATA	0x010000u
#define MP_P_NR_UNKN	0x020000u
#define MP_P_NR_EOH	0x040000u
#define MP_P_NR_BODY	0x080000u
#define MP_P_HDR_LEADSPC 0x100000u

/* Macro stages (SMFIM_*), the index of a symbol list. */
enum mp_stage {
	MP_M_CONNECT = 0, MP_M_HELO, MP_M_ENVFROM, MP_M_ENVRCPT, MP_M_DATA,
	MP_M_EOM, MP_M_EOH, MP_M_COUNT
};

/* The steps of a session, for the skip and no-reply decisions. */
enum mp_step {
	MP_S_CONNECT, MP_S_HELO, MP_S_MAIL, MP_S_RCPT, MP_S_DATA,
	MP_S_HEADER, MP_S_EOH, MP_S_BODY, MP_S_UNKNOWN, MP_S_COUNT
};

enum mp_status { MP_OK = 0, MP_AGAIN = 1, MP_INVALID = -1 };

/* ---- encoding ---------------------------------------------------------- */

/* The caller's buffer that packets are appended to. */
struct mp_buf {
	unsigned char *p;
	size_t len, cap;
};

/* Each appends one packet; 0, or -1 (buffer unchanged) when it does not
 * fit or an argument is out of the protocol's bounds. */
int mp_enc_optneg(struct mp_buf *b, uint32_t version, uint32_t actions,
    uint32_t protocol);
/* family: '4', '6', 'L' (unix) or 'U' (unknown: port and address are
 * then left out, as libmilter expects). */
int mp_enc_connect(struct mp_buf *b, const char *hostname, char family,
    uint16_t port, const char *addr);
int mp_enc_helo(struct mp_buf *b, const char *helo);
/* MAIL or RCPT: the address ("<a@b>") then each ESMTP argument. */
int mp_enc_envelope(struct mp_buf *b, enum mp_cmd cmd, const char *addr,
    const char *const *args, size_t nargs);
int mp_enc_header(struct mp_buf *b, const char *name, const char *value);
int mp_enc_body(struct mp_buf *b, const void *data, size_t len);
/* Macros for the command cmd: n pairs of name and value. */
int mp_enc_macros(struct mp_buf *b, enum mp_cmd cmd,
    const char *const *names, const char *const *values, size_t n);
/* A command without payload: DATA, EOH, BODYEOB, ABORT, QUIT, QUIT_NC. */
int mp_enc_bare(struct mp_buf *b, enum mp_cmd cmd);

/* ---- decoding ---------------------------------------------------------- */

/*
 * Framing: whether p[0..n) starts with a whole packet.  MP_OK: its code is
 * p[4], its payload p[5..5+*payload_len) and the whole packet is *size
 * bytes; MP_AGAIN: more bytes are needed (*size: how many in all, when the
 * length is known, else 0); MP_INVALID: a length of 0 or above max.
 */
enum mp_status mp_frame(const unsigned char *p, size_t n, size_t max,
    size_t *payload_len, size_t *size);

/* One decoded reply or action; strings point into the packet. */
struct mp_response {
	enum mp_reply code;
	/* OPTNEG */
	uint32_t version, actions, protocol;
	/* symbol lists, from OPTNEG or SETSYMLIST; NULL when not set */
	const char *symlist[MP_M_COUNT];
	/* REPLYCODE: the three digits as a number, the whole text */
	int smtp_code;
	const char *text;
	/* ADDHEADER, INSHEADER, CHGHEADER (value "" deletes) */
	uint32_t index;
	const char *name, *value;
	/* CHGFROM, ADDRCPT, ADDRCPT_PAR, DELRCPT: address and arguments
	 * (args NULL when absent); QUARANTINE: the reason in addr */
	const char *addr, *args;
	/* REPLBODY: a chunk of the new body */
	const unsigned char *data;
	size_t len;
};

/* Decode the payload of a packet with reply code `code`.  MP_OK, or
 * MP_INVALID when the code is unknown or the payload malformed (a string
 * without its NUL, a short integer, a reply code that is not 4xx/5xx...). */
enum mp_status mp_decode(int code, const unsigned char *payload, size_t len,
    struct mp_response *r);

/* Whether text is a valid SMFIR_REPLYCODE text: one or more lines
 * "ddd text" / "ddd-text" joined by CRLF, every line with the same 4xx or
 * 5xx code, the last with a space or nothing after it.  The code or -1. */
int mp_reply_code(const char *text);

/* ---- negotiation -------------------------------------------------------- */

/* What was agreed with one milter. */
struct mp_options {
	uint32_t version;
	uint32_t actions;	/* what it may do */
	uint32_t protocol;	/* the steps it declined, NR_*, extensions */
};

/*
 * Check a milter's OPTNEG reply against what we offered.  MP_OK and *out
 * filled (protocol flags we did not offer are dropped, as Postfix does);
 * MP_INVALID when its version is below 2 or it asks for actions we did
 * not offer (Postfix gives up the same way).  *why names the problem.
 */
enum mp_status mp_negotiate(uint32_t our_actions, uint32_t our_protocol,
    const struct mp_response *r, struct mp_options *out, const char **why);

/* Whether a step is sent to the milter at all, and whether it answers. */
int mp_step_sent(const struct mp_options *o, enum mp_step step);
int mp_step_replied(const struct mp_options *o, enum mp_step step);

/* The name of a reply code for logs ("reject", "addheader"), or "?". */
const char *mp_reply_name(int code);

#endif

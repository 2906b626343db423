/*
 * smtp_auth.h - pure parsing for AUTH (RFC 4954): the command's
 * argument, strict base64, and the PLAIN message (RFC 4616).  Bytes in,
 * a result out; no I/O, no allocation.
 */
#ifndef PSMTPD_SMTP_AUTH_H
#define PSMTPD_SMTP_AUTH_H

#include <stddef.h>

/* RFC 4616: authzid, authcid and passwd are each at most 255 octets. */
#define SMTP_AUTH_FIELD_MAX 255
/* The longest base64 line we take: a PLAIN message of three full fields
 * and two NULs, encoded. */
#define SMTP_AUTH_B64_MAX (((3 * SMTP_AUTH_FIELD_MAX + 2) + 2) / 3 * 4)

/* The LOGIN challenges, "Username:" and "Password:" in base64. */
#define SMTP_AUTH_LOGIN_USER "VXNlcm5hbWU6"
#define SMTP_AUTH_LOGIN_PASS "UGFzc3dvcmQ6"

enum smtp_auth_status {
	SMTP_AUTH_OK = 0,
	SMTP_AUTH_SYNTAX,	/* 501: not base64, not a PLAIN message */
	SMTP_AUTH_CANCEL,	/* "*": the client gave up (501) */
	SMTP_AUTH_TOO_LONG,	/* 500 */
};

/* The argument of AUTH: "MECH" or "MECH initial-response". */
struct smtp_auth_cmd {
	char mech[32];		/* upper-cased */
	const char *initial;	/* NULL: none; "" for "=" (empty) */
};

/* Split the argument (NULL or empty: SYNTAX). */
enum smtp_auth_status smtp_auth_parse_cmd(const char *arg,
    struct smtp_auth_cmd *out);

/*
 * Decode one client response: "*" is CANCEL, "=" the empty string, else
 * strict base64 (no whitespace, padding only at the end) into out, which
 * has room for cap bytes and a NUL.  *len is the decoded length.
 */
enum smtp_auth_status smtp_auth_decode(const char *in, char *out,
    size_t cap, size_t *len);

/* A PLAIN message: authzid NUL authcid NUL passwd. */
struct smtp_auth_plain {
	char authzid[SMTP_AUTH_FIELD_MAX + 1];
	char user[SMTP_AUTH_FIELD_MAX + 1];
	char password[SMTP_AUTH_FIELD_MAX + 1];
};

/* Split a decoded PLAIN message; SYNTAX unless it has exactly two NULs,
 * a user, and fields within bounds.  An authzid other than "" or the
 * user is the caller's to refuse. */
enum smtp_auth_status smtp_auth_parse_plain(const char *msg, size_t len,
    struct smtp_auth_plain *out);

#endif

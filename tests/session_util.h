/*
 * session_util.h - shared by the channel tests: the session transcript
 * format of tests/sessions (see gen_session_refs.py), a growable buffer,
 * and a bounded client exchange over a socket.
 */
#ifndef PSMTPD_TESTS_SESSION_UTIL_H
#define PSMTPD_TESTS_SESSION_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "channel.h"

struct su_buf {
	char *p;
	size_t len, cap;
};

struct su_options {
	long long data_size_limit;
	bool decode_data;
	bool enable_smtputf8;
	struct channel_esmtp esmtp;	/* esmtp.NAME=1 (hand-written) */
	bool lmtp;			/* lmtp=1: an LMTP listener */
};

struct su_session {
	struct su_options opts;
	char *payload;
	size_t len;
};

void su_buf_put(struct su_buf *b, const char *s, size_t n);
void su_buf_puts(struct su_buf *b, const char *s);
/* printable ASCII as is, \\ \n \r, others \xNN */
void su_escape(struct su_buf *b, const char *s, size_t n);
int su_read_session(const char *path, struct su_session *ss);
char *su_read_file(const char *path);
/* channel params as the reference's defaults, fqdn "FQDN" */
struct channel_params su_params(const struct su_options *o);
/* send all, half-close, read until EOF; -1 past timeout seconds */
int su_exchange(int fd, const char *out, size_t len, struct su_buf *in,
    int timeout);
/* the .ref form of a reply stream plus the lines in record_fd */
char *su_normalize(const struct su_buf *replies, int record_fd);

#endif

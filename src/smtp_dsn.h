/*
 * smtp_dsn.h - the DSN parameters of RFC 3461 on MAIL (RET, ENVID) and
 * RCPT (NOTIFY, ORCPT), checked on the parameters as the client sent
 * them (ENVID and ORCPT are case-sensitive xtext).  Pure.
 */
#ifndef PSMTPD_SMTP_DSN_H
#define PSMTPD_SMTP_DSN_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 3461 4.4 and 4.2: the longest ENVID and ORCPT values. */
#define SMTP_DSN_ENVID_MAX 100
#define SMTP_DSN_ORCPT_MAX 500

enum smtp_dsn_status {
	SMTP_DSN_OK = 0,
	SMTP_DSN_OTHER,		/* RCPT: a parameter that is not DSN's (555) */
	SMTP_DSN_BAD_RET,
	SMTP_DSN_BAD_ENVID,
	SMTP_DSN_BAD_NOTIFY,
	SMTP_DSN_BAD_ORCPT,
	SMTP_DSN_DUPLICATE	/* one of them twice */
};

/* xtext (RFC 3461 4): "!" to "~" but "+" and "=", or "+" and two
 * upper-case hex digits; at least one character. */
bool smtp_xtext_valid(const char *s, size_t len);

/* MAIL's parameters (params[0..n), "KEY=value" as sent): RET and ENVID
 * checked, the others left to smtp_check_mail_options. */
enum smtp_dsn_status smtp_dsn_check_mail(char *const *params, size_t n);

/* RCPT's: NOTIFY and ORCPT checked; any other is SMTP_DSN_OTHER. */
enum smtp_dsn_status smtp_dsn_check_rcpt(char *const *params, size_t n);

#endif

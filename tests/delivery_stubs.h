/*
 * delivery_stubs.h - stand-ins for the psmtpd_* functions the server
 * exports, so that the tests of the delivery plugins can compile a plugin
 * into a test program and call its hooks directly: settings come from a
 * table, the session is a plain struct, replies and log lines are kept.
 */
#ifndef PSMTPD_DELIVERY_STUBS_H
#define PSMTPD_DELIVERY_STUBS_H

#include <stddef.h>

#include <psmtpd/plugin.h>

enum stub_type { STUB_STR, STUB_INT, STUB_BOOL, STUB_LIST };

struct stub_setting {
	const char *key;
	enum stub_type type;
	const char *str;	/* STUB_STR */
	long long num;		/* STUB_INT, STUB_BOOL */
	const char *list[16];	/* STUB_LIST, NULL-terminated */
};

struct psmtpd_init {
	const char *name;
	const char *hostname;
	const char *remote;
	const struct stub_setting *settings;	/* ends with key NULL */
	int nerrors;
	char errors[2048];	/* "key: message\n" for each error */
};

struct psmtpd_session {
	const char *peer;
	const char *greeting;
	const char *mailfrom;
	const char *const *rcpts;	/* NULL-terminated */
	const char *const *mail_options;	/* NULL-terminated, or NULL */
	const char *const *mail_params;		/* the same, as sent */
	/* each recipient's parameters as sent (NULL-terminated), or NULL */
	const char *const *const *rcpt_params;
	const char *data;
	size_t len;
	int nreplies;
	char reply[1024];	/* the last reply set */
	char verdicts[8][256];	/* psmtpd_reply_rcpt(), "" for none */
	void *txn;		/* psmtpd_txn_set_data() */
	void (*txn_free)(void *);
	char log[8192];		/* every log line, "\n"-separated */
};

/* Set up an init context / a session with defaults. */
void stub_init_ctx(struct psmtpd_init *ctx, const struct stub_setting *set);
void stub_session(struct psmtpd_session *s, const char *from,
    const char *const *rcpts, const char *data);
/* The end of the transaction: the txn data is freed, as the server does. */
void stub_txn_end(struct psmtpd_session *s);
/* The reply's three-digit code, 250 when the plugin continued. */
int stub_code(const struct psmtpd_session *s, enum psmtpd_result r);

#endif

/*
 * proxy.h - the relay library (librelay, linked by the proxy and lmtp
 * plugins) and what the plugins share: proxy_txn.c is the upstream
 * transaction that follows the client's, command by command (SMTP or
 * LMTP), proxy_secure.c STARTTLS and AUTH toward it, proxy_dsn.c the DSN
 * parameters handed on, proxy_hooks.c the MAIL and RCPT hooks of both
 * plugins.  proxy.c is the proxy plugin,
 * plugins/lmtp/ the lmtp plugin.
 */
#ifndef PSMTPD_PROXY_H
#define PSMTPD_PROXY_H

#include <stddef.h>

#include <psmtpd/plugin.h>

#include "smtp_client.h"

enum proxy_tls { PROXY_TLS_OFF, PROXY_TLS_OPPORTUNISTIC, PROXY_TLS_REQUIRE };

struct proxy_conf {
	const char *tag;	/* "proxy" or "lmtp": the first word of logs */
	int lmtp;		/* LHLO, and a reply per recipient after DATA */
	const char *remote;
	const char *helo_name;
	int connect_ms;
	int reply_ms;
	/* toward the upstream (proxy_secure.c) */
	enum proxy_tls tls;
	const char *ca_file;	/* NULL: the system's CAs */
	char tls_name[256];	/* the name its certificate must carry */
	struct ssl_ctx_st *tls_ctx;
	const char *username;	/* NULL: no AUTH */
	const char *password;
	char *file_secret;	/* "user\0password" from credentials_file */
	size_t file_secret_len;
};

/* The reply a hook gives when the upstream did not take a step. */
struct proxy_result {
	int code;		/* 0: the step was taken */
	char text[SMTPC_LINE_MAX + 64];
};

/* The parameters of MAIL the proxy sends (SIZE, BODY, SMTPUTF8, RET,
 * ENVID) and those of one RCPT (NOTIFY, ORCPT), with the longest values
 * the server takes (RFC 3461 4.4: ENVID 100, 4.2: ORCPT 500). */
#define PROXY_MAIL_PARAMS_MAX 256
#define PROXY_DSN_RCPT_MAX 600

/*
 * The upstream transaction of one client transaction (psmtpd_txn data):
 * opened at MAIL, one RCPT upstream per RCPT of the client, DATA after
 * the client's message.  Freed (QUIT, close) when the client's
 * transaction ends: after the message, at RSET or HELO, at disconnect.
 */
struct proxy_txn {
	const struct proxy_conf *pc;
	psmtpd_session *s;	/* for the protocol trace */
	int connected;		/* greeted and EHLO done */
	int in_mail;		/* the upstream took MAIL */
	int broken;		/* no more commands: timeout, EOF, 421 */
	int no_tls;		/* opportunistic TLS failed: plaintext */
	char why[160];		/* why it is broken, for the 451 */
	char *from;		/* the sender sent with MAIL */
	char mail_params[PROXY_MAIL_PARAMS_MAX]; /* sent with MAIL */
	/* what the upstream took, in order: each the address, a NUL and
	 * the DSN parameters sent with it (proxy_rcpt_dsn) */
	char **rcpts;
	size_t nrcpt, rcpt_cap;
	/* in process_message: the session's recipients still open (no
	 * verdict from an earlier plugin), by index; the upstream gets these */
	size_t *open, nopen;
	struct smtpc c;
};

/* Bound of the wait for the reply to QUIT (issue 10, defect 9). */
#define PROXY_QUIT_MS 2000

/* proxy_txn.c */
struct proxy_txn *proxy_txn_new(const struct proxy_conf *pc);
void proxy_txn_free(void *txn);
int proxy_txn_mail(struct proxy_txn *t, psmtpd_session *s,
    const char *from, struct proxy_result *res);
/* RCPT TO:<rcpt> with dsn (" NOTIFY=... ORCPT=...", or ""). */
int proxy_txn_rcpt(struct proxy_txn *t, psmtpd_session *s,
    const char *rcpt, const char *dsn, struct proxy_result *res);
/* The DSN parameters the upstream took recipient i with. */
const char *proxy_rcpt_dsn(const struct proxy_txn *t, size_t i);
/* Before DATA: the upstream has exactly the open recipients (t->open)
 * and the session's sender and parameters, the envelope replayed when
 * not.  0 (t->nopen may be 0: nothing to deliver), or -1 with res. */
int proxy_txn_sync(struct proxy_txn *t, psmtpd_session *s,
    struct proxy_result *res);
/* DATA, its 354 and the body: 0 when the replies are to be read. */
int proxy_txn_body(struct proxy_txn *t, const struct smtpc_part *parts,
    size_t nparts, struct proxy_result *res);
/* The same and the one reply of SMTP: 0 only for a 250. */
int proxy_txn_data(struct proxy_txn *t, const struct smtpc_part *parts,
    size_t nparts, struct proxy_result *res);
void proxy_broken_reply(const struct proxy_txn *t, struct proxy_result *res);
void proxy_tempfail(struct proxy_result *res, const char *what);
void proxy_upstream(struct proxy_txn *t, const struct smtpc_reply *r,
    struct proxy_result *res);
void proxy_io_failed(struct proxy_txn *t, enum smtpc_status st,
    const char *step, struct proxy_result *res);
int proxy_expect(struct proxy_txn *t, enum smtpc_status st,
    const struct smtpc_reply *r, int want, const char *step,
    struct proxy_result *res);

/* proxy_dsn.c: RFC 3461's parameters, when the upstream offers DSN.
 * proxy_dsn_mail appends RET and ENVID to out; proxy_dsn_rcpt sets out
 * to session recipient i's NOTIFY and ORCPT (" NOTIFY=... ORCPT=...",
 * "" for none or when the upstream has no DSN).  The client's text. */
#define PROXY_DSN_MAIL ((size_t)-1)
void proxy_dsn_mail(const struct smtpc *c, const psmtpd_session *s,
    char *out, size_t size);
void proxy_dsn_rcpt(const struct smtpc *c, const psmtpd_session *s,
    size_t i, char *out, size_t size);
/* Log that the client asked for DSNs and the upstream has none. */
void proxy_dsn_note_dropped(const struct proxy_txn *t, psmtpd_session *s);

/* proxy_hooks.c: on_mail and on_rcpt of both plugins */
enum psmtpd_result proxy_on_mail(psmtpd_session *s, const char *mailfrom,
    void *plugin_data);
enum psmtpd_result proxy_on_rcpt(psmtpd_session *s, const char *rcptto,
    void *plugin_data);
/* The transaction's upstream, made when there is none yet; NULL with
 * res set when out of memory. */
struct proxy_txn *proxy_txn_get(psmtpd_session *s,
    const struct proxy_conf *pc, struct proxy_result *res);
/* In process_message, before the data: the transaction's upstream with
 * exactly the open recipients (proxy_txn_sync).  NULL with *r the hook's
 * result when there is nothing to send (every recipient has a verdict:
 * CONTINUE) or the envelope could not be set (the refusal, replied). */
struct proxy_txn *proxy_txn_ready(psmtpd_session *s,
    const struct proxy_conf *pc, enum psmtpd_result *r);
/* Log res as the reason step was not relayed, and reply with it. */
enum psmtpd_result proxy_refuse(psmtpd_session *s, const struct proxy_conf *pc,
    const char *step, const struct proxy_result *res);

/* What a relaying plugin states about itself; proxy_conf_init reads the
 * rest the same way for each. */
struct proxy_kind {
	const char *tag;	/* proxy_conf.tag */
	int lmtp;		/* proxy_conf.lmtp */
	const char *address_key; /* the setting of the server's address */
	int top_remote;		/* it defaults to the top-level remote (else
				 * it is required) */
	/* 0, or -1 with the error reported for key */
	int (*check_address)(psmtpd_init *ctx, const char *key,
	    const char *spec);
	const char *helo_key;	/* the setting of the greeting's name */
};

/* proxy_conf.c: the plugin's init for kind k: the address, the greeting
 * name (default: the server's hostname), connect_timeout (30 s),
 * reply_timeout (300 s), and the settings of proxy_secure.c; the
 * proxy_conf in *plugin_data.  0, or -1 with the errors reported. */
int proxy_conf_init(psmtpd_init *ctx, const struct proxy_kind *k,
    void **plugin_data);
/* Free a proxy_conf (the plugins' fini). */
void proxy_conf_free(void *plugin_data);

/* proxy_secure.c */
int proxy_secure_init(psmtpd_init *ctx, struct proxy_conf *pc);
void proxy_secure_fini(struct proxy_conf *pc);
/* After EHLO: STARTTLS (and EHLO again), then AUTH, as configured.
 * 0; -1 with res set; 1 when opportunistic TLS failed and the caller
 * should connect again in plaintext. */
int proxy_secure_open(struct proxy_txn *t, psmtpd_session *s,
    struct proxy_result *res);

#endif

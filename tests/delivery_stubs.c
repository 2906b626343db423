/*
 * delivery_stubs.c - the psmtpd_* plugin API for the delivery plugins'
 * unit tests.  See delivery_stubs.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery_stubs.h"

void
stub_init_ctx(struct psmtpd_init *ctx, const struct stub_setting *set)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->name = "test";
	ctx->hostname = "mx.example.org";
	ctx->remote = "localhost:25";
	ctx->settings = set;
}

void
stub_session(struct psmtpd_session *s, const char *from,
    const char *const *rcpts, const char *data)
{
	memset(s, 0, sizeof(*s));
	s->peer = "192.0.2.7";
	s->greeting = "client.example";
	s->mailfrom = from;
	s->rcpts = rcpts;
	s->data = data;
	s->len = strlen(data);
}

void
stub_txn_end(struct psmtpd_session *s)
{
	if (s->txn_free != NULL && s->txn != NULL)
		s->txn_free(s->txn);
	s->txn = NULL;
	s->txn_free = NULL;
}

void
psmtpd_txn_set_data(psmtpd_session *s, void *data, void (*free_fn)(void *))
{
	if (s->txn_free != NULL && s->txn != NULL && s->txn != data)
		s->txn_free(s->txn);
	s->txn = data;
	s->txn_free = free_fn;
}

void *
psmtpd_txn_get_data(const psmtpd_session *s)
{
	return s->txn;
}

const char *
psmtpd_rcpt_reply(const psmtpd_session *s, size_t i)
{
	return i < 8 && s->verdicts[i][0] != '\0' ? s->verdicts[i] : NULL;
}

int
psmtpd_reply_rcpt(psmtpd_session *s, size_t i, const char *fmt, ...)
{
	va_list ap;

	if (i >= 8 || s->verdicts[i][0] != '\0')
		return -1;
	va_start(ap, fmt);
	vsnprintf(s->verdicts[i], sizeof(s->verdicts[i]), fmt, ap);
	va_end(ap);
	return 0;
}

int
stub_code(const struct psmtpd_session *s, enum psmtpd_result r)
{
	if (r == PSMTPD_CONTINUE)
		return 250;
	return atoi(s->reply);
}

static const struct stub_setting *
stub_find(psmtpd_init *ctx, const char *key, enum stub_type type, int *r)
{
	for (const struct stub_setting *p = ctx->settings;
	    p != NULL && p->key != NULL; p++) {
		if (strcmp(p->key, key) != 0)
			continue;
		if (p->type == type) {
			*r = 1;
			return p;
		}
		psmtpd_init_error(ctx, key, "wrong type");
		*r = -1;
		return NULL;
	}
	*r = 0;
	return NULL;
}

const char *
psmtpd_init_name(const psmtpd_init *ctx)
{
	return ctx->name;
}

int
psmtpd_setting_string(psmtpd_init *ctx, const char *key, const char **out)
{
	int r;
	const struct stub_setting *p = stub_find(ctx, key, STUB_STR, &r);

	if (p != NULL)
		*out = p->str;
	return r;
}

int
psmtpd_setting_int(psmtpd_init *ctx, const char *key, long long *out)
{
	int r;
	const struct stub_setting *p = stub_find(ctx, key, STUB_INT, &r);

	if (p != NULL)
		*out = p->num;
	return r;
}

int
psmtpd_setting_bool(psmtpd_init *ctx, const char *key, int *out)
{
	int r;
	const struct stub_setting *p = stub_find(ctx, key, STUB_BOOL, &r);

	if (p != NULL)
		*out = (int)p->num;
	return r;
}

int
psmtpd_setting_strings(psmtpd_init *ctx, const char *key, size_t *count)
{
	int r;
	const struct stub_setting *p = stub_find(ctx, key, STUB_LIST, &r);

	if (p != NULL)
		for (*count = 0; p->list[*count] != NULL; (*count)++)
			;
	return r;
}

const char *
psmtpd_setting_strings_at(psmtpd_init *ctx, const char *key, size_t i)
{
	int r;
	const struct stub_setting *p = stub_find(ctx, key, STUB_LIST, &r);

	return p != NULL ? p->list[i] : NULL;
}

void
psmtpd_init_error(psmtpd_init *ctx, const char *key, const char *fmt, ...)
{
	size_t n = strlen(ctx->errors);
	va_list ap;

	n += (size_t)snprintf(ctx->errors + n, sizeof(ctx->errors) - n,
	    "%s: ", key != NULL ? key : "(plugin)");
	if (n < sizeof(ctx->errors)) {
		va_start(ap, fmt);
		n += (size_t)vsnprintf(ctx->errors + n,
		    sizeof(ctx->errors) - n, fmt, ap);
		va_end(ap);
	}
	if (n + 1 < sizeof(ctx->errors))
		strcat(ctx->errors, "\n");
	ctx->nerrors++;
}

const char *
psmtpd_init_hostname(const psmtpd_init *ctx)
{
	return ctx->hostname;
}

const char *
psmtpd_init_remote(const psmtpd_init *ctx)
{
	return ctx->remote;
}

/* psmtpd -t's business: nothing to check here. */
int
psmtpd_init_target(psmtpd_init *ctx, const char *path)
{
	(void)ctx;
	(void)path;
	return 0;
}

/* ---- the session ------------------------------------------------------- */

static size_t
stub_vec_count(const char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

const char *
psmtpd_session_peer_addr(const psmtpd_session *s)
{
	return s->peer;
}

unsigned
psmtpd_session_peer_port(const psmtpd_session *s)
{
	(void)s;
	return 40000;
}

const char *
psmtpd_session_fqdn(const psmtpd_session *s)
{
	(void)s;
	return "mx.example.org";
}

const char *
psmtpd_session_remote(const psmtpd_session *s)
{
	(void)s;
	return "localhost:25";
}

const char *
psmtpd_session_greeting(const psmtpd_session *s)
{
	return s->greeting;
}

int
psmtpd_session_extended(const psmtpd_session *s)
{
	(void)s;
	return 1;
}

enum psmtpd_smtp_state
psmtpd_session_state(const psmtpd_session *s)
{
	(void)s;
	return PSMTPD_STATE_DATA;
}

const char *
psmtpd_session_mailfrom(const psmtpd_session *s)
{
	return s->mailfrom;
}

size_t
psmtpd_session_rcpt_count(const psmtpd_session *s)
{
	return stub_vec_count(s->rcpts);
}

const char *
psmtpd_session_rcpt(const psmtpd_session *s, size_t i)
{
	return s->rcpts[i];
}

size_t
psmtpd_session_mail_option_count(const psmtpd_session *s)
{
	return stub_vec_count(s->mail_options);
}

const char *
psmtpd_session_mail_option(const psmtpd_session *s, size_t i)
{
	return s->mail_options[i];
}

size_t
psmtpd_session_mail_param_count(const psmtpd_session *s)
{
	return stub_vec_count(s->mail_params);
}

const char *
psmtpd_session_mail_param(const psmtpd_session *s, size_t j)
{
	return s->mail_params[j];
}

size_t
psmtpd_session_rcpt_param_count(const psmtpd_session *s, size_t i)
{
	return s->rcpt_params != NULL ? stub_vec_count(s->rcpt_params[i]) : 0;
}

const char *
psmtpd_session_rcpt_param(const psmtpd_session *s, size_t i, size_t j)
{
	return s->rcpt_params[i][j];
}

size_t
psmtpd_session_rcpt_option_count(const psmtpd_session *s)
{
	(void)s;
	return 0;
}

const char *
psmtpd_session_rcpt_option(const psmtpd_session *s, size_t i)
{
	(void)s;
	(void)i;
	return NULL;
}

int
psmtpd_session_decode_data(const psmtpd_session *s)
{
	(void)s;
	return 0;
}

const char *
psmtpd_session_id(const psmtpd_session *s)
{
	(void)s;
	return "0123456789";
}

const char *
psmtpd_message_data(const psmtpd_session *s, size_t *len)
{
	*len = s->len;
	return s->data;
}

size_t
psmtpd_message_line_count(const psmtpd_session *s)
{
	size_t n = 1;

	for (size_t i = 0; i < s->len; i++)
		n += s->data[i] == '\n';
	return n;
}

int
psmtpd_vreply(psmtpd_session *s, const char *fmt, va_list ap)
{
	vsnprintf(s->reply, sizeof(s->reply), fmt, ap);
	s->nreplies++;
	return 0;
}

int
psmtpd_reply(psmtpd_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = psmtpd_vreply(s, fmt, ap);
	va_end(ap);
	return r;
}

static void
stub_vlog(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t n = buf != NULL ? strlen(buf) : 0;
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (getenv("DELIVERY_TEST_VERBOSE") != NULL)
		fprintf(stderr, "log: %s\n", line);
	if (buf != NULL && n < size)
		snprintf(buf + n, size - n, "%s\n", line);
}

void
psmtpd_log(enum psmtpd_log_level level, const char *fmt, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	stub_vlog(NULL, 0, fmt, ap);
	va_end(ap);
}

void
psmtpd_session_log(const psmtpd_session *s, enum psmtpd_log_level level,
    const char *fmt, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	/* The log is the one thing a test reads back from a const session. */
	stub_vlog(((struct psmtpd_session *)s)->log, sizeof(s->log), fmt, ap);
	va_end(ap);
}

/*
 * channel_state.c - a session's state: its making, its freeing, and the
 * resets of smtpd.py (_set_post_data_state, _set_rset_state).
 */
#include "autoconfig.h"

#include <bsd/string.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "channel_session.h"
#include "config.h"
#include "plugin_loader.h"

void
channel_clear_rcpts(struct psmtpd_session *s)
{
	for (size_t i = 0; i < s->nrcpt; i++) {
		free(s->rcpts[i].param);	/* the whole block */
		free(s->rcpts[i].reply);
	}
	s->nrcpt = 0;
}

void
channel_reset_transaction(struct psmtpd_session *s)
{
	s->smtp_state = PSMTPD_STATE_COMMAND;
	free(s->mailfrom);
	s->mailfrom = NULL;
	s->require_smtputf8 = false;
	s->bdat_active = false;
	smtp_bdat_init(&s->bdat);
	channel_free_plugin_data(s, true);
	/* before the recipients go: it frees one verdict per recipient */
	api_txn_end(s);
	channel_clear_rcpts(s);
	message_reset(&s->msg);
}

void
channel_rset_state(struct psmtpd_session *s)
{
	channel_reset_transaction(s);
}

const char *
channel_option_raw(const struct channel_options *o, size_t j)
{
	return o->raw + (o->opt[j] - o->buf);
}

/* channel_rcpt_record - addr and the parameters as sent in one block. */
static int
channel_rcpt_record(struct channel_rcpt *r, const char *addr,
    const struct channel_options *o)
{
	size_t size = o->n * sizeof(char *) + strlen(addr) + 1;

	for (size_t j = 0; j < o->n; j++)
		size += strlen(o->opt[j]) + 1;
	char **block = malloc(size);
	if (block == NULL)
		return -1;
	char *p = (char *)(block + o->n);
	for (size_t j = 0; j < o->n; j++) {
		block[j] = p;
		p = stpcpy(p, channel_option_raw(o, j)) + 1;
	}
	strcpy(p, addr);
	*r = (struct channel_rcpt){ .addr = p, .param = block,
	    .nparam = o->n };
	return 0;
}

int
channel_add_rcpt(struct psmtpd_session *s, const char *addr)
{
	return channel_add_rcpt_with(s, addr, &s->rcpt_options);
}

int
channel_add_rcpt_with(struct psmtpd_session *s, const char *addr,
    const struct channel_options *o)
{
	if (s->nrcpt == s->rcpt_cap) {
		size_t cap = s->rcpt_cap ? s->rcpt_cap * 2 : 8;
		struct channel_rcpt *r = realloc(s->rcpts, cap * sizeof(*r));
		if (r == NULL)
			return -1;
		s->rcpts = r;
		s->rcpt_cap = cap;
	}
	if (channel_rcpt_record(&s->rcpts[s->nrcpt], addr, o) != 0)
		return -1;
	s->nrcpt++;
	return 0;
}

/* channel_session_id - a short random id for the log lines. */
static void
channel_session_id(char *id, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[6];
	size_t n = 0;

	if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
		unsigned long long t = (unsigned long long)time(NULL) ^
		    ((unsigned long long)getpid() << 16) ^ (uintptr_t)id;
		memcpy(b, &t, sizeof(b));
	}
	for (size_t i = 0; i < sizeof(b) && n + 2 < size; i++) {
		id[n++] = hex[b[i] >> 4];
		id[n++] = hex[b[i] & 0xf];
	}
	if (size > 0)
		id[n] = '\0';
}

struct psmtpd_session *
channel_keep_new(void)
{
	struct psmtpd_session *s = malloc(sizeof(*s));

	if (s == NULL)
		return NULL;
	/* only the kept fields: the rest is set by each session */
	s->rcpts = NULL;
	s->rcpt_cap = 0;
	s->pdata = NULL;
	s->pdata_cap = 0;
	message_init(&s->msg, NULL, 0);
	return s;
}

void
channel_keep_free(struct psmtpd_session *s)
{
	if (s == NULL)
		return;
	message_free(&s->msg);
	free(s->pdata);
	free(s->rcpts);
	free(s);
}

/* channel_session_plugins - a zeroed slot per plugin; -1 out of memory. */
static int
channel_session_plugins(struct psmtpd_session *s, size_t n)
{
	if (n + 1 > s->pdata_cap) {
		struct channel_plugin_data *d = realloc(s->pdata,
		    (n + 1) * sizeof(*d));
		if (d == NULL)
			return -1;
		s->pdata = d;
		s->pdata_cap = n + 1;
	}
	memset(s->pdata, 0, (n + 1) * sizeof(*s->pdata));
	return 0;
}

/* channel_session_init - a fresh session for fd in a kept struct
 * (channel_keep_new); -1 out of memory. */
int
channel_session_init(struct psmtpd_session *s,
    const struct channel_params *params, struct plugin_set *plugins,
    int fd, const struct sockaddr *peer, socklen_t peerlen)
{
	memset(s, 0, offsetof(struct psmtpd_session, io));
	s->seen_greeting[0] = '\0';
	s->mail_options.n = s->rcpt_options.n = 0;
	s->line[0] = '\0';
	s->params = params;
	s->plugins = plugins;
	s->ext = params->esmtp;
	/* RFC 2033 5: an LMTP server has PIPELINING and ENHANCEDSTATUSCODES */
	s->lmtp = params->listener != NULL &&
	    params->listener->protocol == CONFIG_PROTOCOL_LMTP;
	if (s->lmtp)
		s->ext.pipelining = s->ext.enhanced_status_codes = true;
	io_init(&s->io, fd);
	channel_session_id(s->id, sizeof(s->id));
	if (peer == NULL || addr_numeric(peer, peerlen, s->peer_addr,
	    sizeof(s->peer_addr), &s->peer_port) != 0) {
		strlcpy(s->peer_addr, "unknown", sizeof(s->peer_addr));
		s->peer_port = 0;
	}
	message_place(&s->msg, params->spool_dir, params->spool_memory_limit);
	return channel_session_plugins(s, plugins != NULL ?
	    plugin_set_count(plugins) : 0);
}

/* channel_session_free - everything the session allocated but what is
 * kept for the next one. */
void
channel_session_free(struct psmtpd_session *s)
{
	channel_rset_state(s);
	channel_free_plugin_data(s, false);
	api_session_end(s);
	message_reset(&s->msg);
	tls_conn_free(s->io.tls);	/* close_notify, if it goes now */
	s->io.tls = NULL;
}

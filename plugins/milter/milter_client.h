/*
 * milter_client.h - one milter's side of a session: connect and negotiate,
 * send an event (macros, then a command), read the milter's answer to it
 * (skipping "progress", handing modification actions to a callback at the
 * end of the message) and say what it decided.  No SMTP and no plugin
 * API here: milter.c maps the verdicts to replies.
 */
#ifndef PSMTPD_MILTER_CLIENT_H
#define PSMTPD_MILTER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "milter_conn.h"
#include "milter_proto.h"

/* What happens when a milter cannot be reached, fails or times out
 * (Postfix's milter_default_action). */
enum ml_default { ML_DEF_TEMPFAIL = 0, ML_DEF_ACCEPT, ML_DEF_REJECT };

/* Room for one event: macros and a packet of up to MP_CHUNK_MAX bytes
 * (libmilter refuses bigger ones unless negotiated otherwise). */
#define ML_OUT_MAX (2 * (MP_CHUNK_MAX + 1))

/* One milter entry's settings, shared by its sessions. */
struct ml_conf {
	const char *spec;	/* "inet:127.0.0.1:8891" */
	struct mc_addr addr;
	int connect_ms, command_ms, content_ms;
	enum ml_default def;
	uint32_t actions;	/* what we offer (depends on the API) */
	uint32_t protocol;
};

/* What the milter decided about one event. */
enum ml_verdict {
	ML_CONTINUE = 0,
	ML_ACCEPT,		/* no more events for this message / session */
	ML_REJECT,		/* 5xx */
	ML_TEMPFAIL,		/* 4xx */
	ML_DISCARD,		/* accept and drop the message */
	ML_REPLY,		/* its own reply, in reply */
	ML_SKIP,		/* no more body chunks */
	ML_SHUTDOWN,		/* 421: close the SMTP connection */
	ML_FAIL			/* it failed: the default action; why says it */
};

/* A modification action at the end of the message; 0 to go on, -1 to
 * give up the message (logged by the callback). */
typedef int (*ml_action_fn)(void *arg, const struct mp_response *r);

struct ml_client {
	const struct ml_conf *conf;
	struct mc_conn conn;
	struct mp_options opt;
	struct mp_buf out;	/* the packets of the next event (room for
				 * ML_OUT_MAX bytes) */
	char *symlist[MP_M_COUNT]; /* the macros it wants per stage, as
				 * it sent them ("{client_addr} j"); NULL:
				 * it did not say, so it gets them all */
	char reply[1024];	/* ML_REPLY: the text, lines joined by "\n" */
	char why[256];		/* ML_FAIL: what went wrong */
};

/* Connect and negotiate.  0, or -1 with why set (and closed). */
int ml_open(struct ml_client *c, const struct ml_conf *conf);
/* Whether the connection is up. */
int ml_is_open(const struct ml_client *c);
/* Close (without QUIT) and free. */
void ml_close(struct ml_client *c);

/*
 * Compose the next event in c->out with mp_enc_*() (macros first), then
 * send what was composed and, when the step expects an answer, read it
 * within timeout_ms (extended by each "progress").  act (may be NULL)
 * gets the modification actions that come before the answer.
 */
enum ml_verdict ml_send(struct ml_client *c, enum mp_step step,
    int timeout_ms, ml_action_fn act, void *arg);
/* The same for the end of the message (always answered). */
enum ml_verdict ml_send_eom(struct ml_client *c, int timeout_ms,
    ml_action_fn act, void *arg);
/* Send what was composed (ABORT, QUIT), no answer expected.  0 or -1. */
int ml_send_only(struct ml_client *c, int timeout_ms);

/* The name of a verdict, for logs. */
const char *ml_verdict_name(enum ml_verdict v);

#endif

/*
 * milter_client.c - one milter's side of a session (see milter_client.h).
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../delivery_util.h"
#include "milter_client.h"

/* Note why the milter failed: "what: detail". */
static void
ml_fail(struct ml_client *c, const char *what, const char *detail)
{
	snprintf(c->why, sizeof(c->why), "%s%s%s", what, *what ? ": " : "",
	    detail);
}

int
ml_is_open(const struct ml_client *c)
{
	return c->conn.fd >= 0;
}

void
ml_close(struct ml_client *c)
{
	for (int i = 0; i < MP_M_COUNT; i++) {
		free(c->symlist[i]);
		c->symlist[i] = NULL;
	}
	mc_close(&c->conn);
	free(c->out.p);
	c->out.p = NULL;
	c->out.len = c->out.cap = 0;
}

/* Send c->out within the deadline; the buffer is empty afterwards. */
static int
ml_flush(struct ml_client *c, long long deadline)
{
	enum mc_status st = mc_write(&c->conn, c->out.p, c->out.len,
	    deadline);

	c->out.len = 0;
	if (st == MC_OK)
		return 0;
	ml_fail(c, "write", mc_status_text(&c->conn, st));
	return -1;
}

/* Read and decode one packet. */
static int
ml_read(struct ml_client *c, long long deadline, struct mp_response *r)
{
	enum mc_status st = mc_read(&c->conn, deadline);

	if (st != MC_OK) {
		ml_fail(c, "read", mc_status_text(&c->conn, st));
		return -1;
	}
	if (mp_decode(c->conn.pkt[0], c->conn.pkt + 1, c->conn.pkt_len - 1,
	    r) != MP_OK) {
		ml_fail(c, "malformed reply", mp_reply_name(c->conn.pkt[0]));
		return -1;
	}
	return 0;
}

static int
ml_negotiate(struct ml_client *c, long long deadline)
{
	struct mp_response r;
	const char *why;

	if (mp_enc_optneg(&c->out, MP_VERSION, c->conf->actions,
	    c->conf->protocol) != 0 || ml_flush(c, deadline) != 0 ||
	    ml_read(c, deadline, &r) != 0)
		return -1;
	if (mp_negotiate(c->conf->actions, c->conf->protocol, &r, &c->opt,
	    &why) != MP_OK) {
		ml_fail(c, "negotiation", why);
		return -1;
	}
	/* The lists point into the packet buffer, which the next read
	 * reuses: keep copies. */
	for (int i = 0; i < MP_M_COUNT; i++)
		if (r.symlist[i] != NULL &&
		    (c->symlist[i] = strdup(r.symlist[i])) == NULL) {
			ml_fail(c, "", "out of memory");
			return -1;
		}
	return 0;
}

int
ml_open(struct ml_client *c, const struct ml_conf *conf)
{
	char why[200];

	memset(c, 0, sizeof(*c));
	c->conf = conf;
	c->conn.fd = -1;
	c->out.p = malloc(ML_OUT_MAX);
	if (c->out.p == NULL) {
		ml_fail(c, "", "out of memory");
		return -1;
	}
	c->out.cap = ML_OUT_MAX;
	enum mc_status st = mc_connect(&c->conn, &conf->addr, conf->connect_ms,
	    why, sizeof(why));
	if (st != MC_OK)
		ml_fail(c, "connect", why);
	if (st != MC_OK || ml_negotiate(c, delivery_now_ms() +
	    conf->command_ms) != 0) {
		ml_close(c);
		return -1;
	}
	return 0;
}

/* A reply text from the milter, its CRLFs as "\n" (psmtpd_reply form). */
static void
ml_copy_reply(struct ml_client *c, const char *text)
{
	size_t w = 0;

	for (; *text != '\0' && w + 1 < sizeof(c->reply); text++)
		if (*text != '\r')
			c->reply[w++] = *text;
	c->reply[w] = '\0';
}

/* The verdict of a final answer, or ML_FAIL for one out of place. */
static enum ml_verdict
ml_final(struct ml_client *c, const struct mp_response *r,
    enum mp_step step)
{
	switch (r->code) {
	case MP_R_CONTINUE: return ML_CONTINUE;
	case MP_R_ACCEPT: return ML_ACCEPT;
	case MP_R_REJECT: return ML_REJECT;
	case MP_R_TEMPFAIL: return ML_TEMPFAIL;
	case MP_R_DISCARD: return ML_DISCARD;
	case MP_R_SHUTDOWN:
	case MP_R_CONN_FAIL: return ML_SHUTDOWN;
	case MP_R_REPLYCODE:
		ml_copy_reply(c, r->text);
		return ML_REPLY;
	case MP_R_SKIP:
		if (step == MP_S_BODY)
			return ML_SKIP;
		break;
	default:
		break;
	}
	ml_fail(c, "unexpected reply", mp_reply_name(r->code));
	return ML_FAIL;
}

/* Whether a code is a modification action (end of message only). */
static int
ml_is_action(int code)
{
	return code != 0 && strchr("hime+2-bq", code) != NULL;
}

/* Read until the final answer to an event.  eom: modification actions
 * are allowed (and go to act). */
static enum ml_verdict
ml_answer(struct ml_client *c, enum mp_step step, int eom, int timeout_ms,
    ml_action_fn act, void *arg)
{
	struct mp_response r;

	/* Bounded: each packet is read within a deadline, and a milter
	 * could send actions forever only by sending ever new data. */
	for (long n = 0; n < 10000000; n++) {
		if (ml_read(c, delivery_now_ms() + timeout_ms, &r) != 0)
			return ML_FAIL;
		if (r.code == MP_R_PROGRESS)
			continue;	/* a fresh deadline for the next read */
		if (!ml_is_action(r.code))
			return ml_final(c, &r, step);
		if (!eom) {
			ml_fail(c, "action before the end of the message",
			    mp_reply_name(r.code));
			return ML_FAIL;
		}
		if (act != NULL && act(arg, &r) != 0) {
			ml_fail(c, "action could not be applied",
			    mp_reply_name(r.code));
			return ML_FAIL;
		}
	}
	ml_fail(c, "", "too many actions");
	return ML_FAIL;
}

enum ml_verdict
ml_send(struct ml_client *c, enum mp_step step, int timeout_ms,
    ml_action_fn act, void *arg)
{
	if (ml_flush(c, delivery_now_ms() + timeout_ms) != 0)
		return ML_FAIL;
	if (!mp_step_replied(&c->opt, step))
		return ML_CONTINUE;
	return ml_answer(c, step, 0, timeout_ms, act, arg);
}

enum ml_verdict
ml_send_eom(struct ml_client *c, int timeout_ms, ml_action_fn act,
    void *arg)
{
	if (ml_flush(c, delivery_now_ms() + timeout_ms) != 0)
		return ML_FAIL;
	return ml_answer(c, MP_S_COUNT, 1, timeout_ms, act, arg);
}

int
ml_send_only(struct ml_client *c, int timeout_ms)
{
	return ml_flush(c, delivery_now_ms() + timeout_ms);
}

const char *
ml_verdict_name(enum ml_verdict v)
{
	static const char *const names[] = { "continue", "accept", "reject",
	    "tempfail", "discard", "reply", "skip", "shutdown", "fail" };

	return v <= ML_FAIL ? names[v] : "?";
}

/*
 * milter_map.c - a milter's verdict, by stage, as an SMTP answer (see
 * milter_map.h).
 */
#include <string.h>

#include "milter_map.h"

/* A refusal (reject, tempfail, its own reply): at connect it waits for the
 * first transaction (the client may still say QUIT politely), at HELO and
 * later it is the answer to the command. */
static void
mx_refusal(enum mx_stage stage, const char *reply, struct mx_outcome *out)
{
	out->reply = reply;
	if (strncmp(reply, "421", 3) == 0) {
		out->answer = MX_DISCONNECT;
		out->next = MX_DONE;
	} else if (stage == MX_CONNECT) {
		out->answer = MX_GO_ON;
		out->next = MX_REFUSE;
	} else {
		out->answer = MX_REPLY;
		out->next = MX_KEEP;
	}
}

/* The milter failed: Postfix's milter_default_action. */
static void
mx_failure(enum mx_stage stage, enum ml_default def, struct mx_outcome *out)
{
	if (def == ML_DEF_ACCEPT) {
		out->next = MX_DONE;
		return;
	}
	out->reply = def == ML_DEF_REJECT ? MX_REJECT_TEXT : MX_TEMPFAIL_TEXT;
	out->next = MX_REFUSE;
	/* HELO is not refused: the client would only hear "503 send HELO
	 * first" next; MAIL gets the reply instead. */
	if (stage != MX_CONNECT && stage != MX_HELO)
		out->answer = MX_REPLY;
}

void
mx_map(enum mx_stage stage, enum ml_verdict v, enum ml_default def,
    const char *milter_reply, struct mx_outcome *out)
{
	int session = stage == MX_CONNECT || stage == MX_HELO;

	memset(out, 0, sizeof(*out));
	switch (v) {
	case ML_CONTINUE:
	case ML_SKIP:
		break;
	case ML_ACCEPT:
		out->next = session ? MX_DONE : MX_MSG_DONE;
		break;
	case ML_DISCARD:
		out->next = session ? MX_DISCARD_ALL : MX_DISCARD_MSG;
		if (stage == MX_MESSAGE) {
			out->answer = MX_REPLY;
			out->reply = MX_DISCARD_TEXT;
		}
		break;
	case ML_REJECT:
		mx_refusal(stage, MX_REJECT_TEXT, out);
		break;
	case ML_TEMPFAIL:
		mx_refusal(stage, MX_TEMPFAIL_TEXT, out);
		break;
	case ML_REPLY:
		mx_refusal(stage, milter_reply, out);
		break;
	case ML_SHUTDOWN:
		mx_refusal(stage, MX_SHUTDOWN_TEXT, out);
		break;
	case ML_FAIL:
		mx_failure(stage, def, out);
		break;
	}
}

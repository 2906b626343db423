/*
 * milter_edit.h - the modification actions of a milter at the end of the
 * message, applied through the plugin API's edit functions (API 2): add,
 * insert, change and delete header fields, change the sender, add and
 * delete recipients, replace the body, quarantine.  Built against an API 1
 * header only the quarantine is offered (it needs no edit).
 */
#ifndef PSMTPD_MILTER_EDIT_H
#define PSMTPD_MILTER_EDIT_H

#include <stdint.h>

#include <psmtpd/plugin.h>

#include "milter_msg.h"
#include "milter_proto.h"

/* The actions we offer a milter (SMFIF_*). */
uint32_t me_offered_actions(void);

/* The state of one end-of-message exchange. */
struct me_ctx {
	psmtpd_session *s;
	const char *spec;	/* the milter, for log lines */
	int body_started;	/* a replacement body has begun */
	struct mm_unwire uw;
	unsigned edits;		/* how many were applied */
};

void me_start(struct me_ctx *e, psmtpd_session *s, const char *spec);
/* An ml_action_fn: apply one action.  0, or -1 (logged). */
int me_apply(void *arg, const struct mp_response *r);

#endif

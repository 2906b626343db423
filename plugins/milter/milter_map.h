/*
 * milter_map.h - what a milter's verdict means for the SMTP session, by
 * stage: the reply the client gets now, and what becomes of the milter
 * for the rest of the message or session.  Pure, tested as a table; the
 * rules are those of Postfix and sendmail (see psmtpd.conf(5)).
 */
#ifndef PSMTPD_MILTER_MAP_H
#define PSMTPD_MILTER_MAP_H

#include "milter_client.h"

enum mx_stage { MX_CONNECT, MX_HELO, MX_MAIL, MX_RCPT, MX_DATA, MX_MESSAGE };

/* The answer to the client now. */
enum mx_answer { MX_GO_ON, MX_REPLY, MX_DISCONNECT };

/* What happens to the milter afterwards. */
enum mx_next {
	MX_KEEP,		/* it goes on with the session */
	MX_DONE,		/* no more events to it in this session */
	MX_REFUSE,		/* no more events; every later transaction
				 * is refused with the same reply */
	MX_MSG_DONE,		/* no more events for this message */
	MX_DISCARD_MSG,		/* this message is accepted and dropped */
	MX_DISCARD_ALL		/* every message of the session likewise */
};

struct mx_outcome {
	enum mx_answer answer;
	const char *reply;	/* MX_REPLY, MX_DISCONNECT, MX_REFUSE */
	enum mx_next next;
};

#define MX_REJECT_TEXT "550 5.7.1 Command rejected"
#define MX_TEMPFAIL_TEXT "451 4.7.1 Service unavailable - try again later"
#define MX_SHUTDOWN_TEXT "421 4.7.0 Service not available, closing " \
	"transmission channel"
#define MX_DISCARD_TEXT "250 OK"

/* milter_reply: the milter's own text for ML_REPLY. */
void mx_map(enum mx_stage stage, enum ml_verdict v, enum ml_default def,
    const char *milter_reply, struct mx_outcome *out);

#endif

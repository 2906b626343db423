/*
 * milter_macros.h - the sendmail macros psmtpd sends before each event,
 * from what the session knows: j, {daemon_name}, v, {client_addr},
 * {client_port}, {client_name} and _ at connect; {tls_version}, {cipher}
 * and {cert_subject} at HELO once the session is in TLS; i, {mail_addr}
 * and {auth_authen} at MAIL (the last once the client authenticated); i and {rcpt_addr} at RCPT; i at DATA and at the end of
 * the message.  A macro whose value the server cannot tell is not sent.
 */
#ifndef PSMTPD_MILTER_MACROS_H
#define PSMTPD_MILTER_MACROS_H

#include <psmtpd/plugin.h>

#include "milter_proto.h"

/*
 * Each appends a SMFIC_MACRO packet to b: 0, or -1 when it does not fit.
 * want: the milter's symbol list for the stage (SMFIR_SETSYMLIST, e.g.
 * "{client_addr} j"): only those are sent; NULL: all.  name: the
 * client's name as the milter sees it ("[192.0.2.1]").
 */
int mk_connect(struct mp_buf *b, const char *want, psmtpd_session *s,
    const char *name);
int mk_helo(struct mp_buf *b, const char *want, psmtpd_session *s);
int mk_mail(struct mp_buf *b, const char *want, psmtpd_session *s,
    const char *msgid, const char *mailfrom);
int mk_rcpt(struct mp_buf *b, const char *want, const char *msgid,
    const char *rcpt);
/* Only the message id, for DATA and the end of the message. */
int mk_msgid(struct mp_buf *b, const char *want, enum mp_cmd cmd,
    const char *msgid);
/* Whether a symbol list names the macro ("{x}" and "x" alike).  Pure. */
int mk_wanted(const char *want, const char *name);

#endif

/*
 * smtpc_int.h - what the parts of libsmtpc share and its users do not
 * see: the raw reads and writes, which go through TLS once it is on.
 */
#ifndef PSMTPD_SMTPC_INT_H
#define PSMTPD_SMTPC_INT_H

#include <sys/types.h>

#include "smtp_client.h"

/* Wait for events on the socket until deadline (delivery_now_ms()). */
enum smtpc_status smtpc_wait(struct smtpc *c, short events,
    long long deadline);
/* Write all of buf, bounded by the reply timeout. */
enum smtpc_status smtpc_write(struct smtpc *c, const char *buf, size_t len);
/* A reply; with ehlo set, its extension lines are noted. */
enum smtpc_status smtpc_read_reply_ext(struct smtpc *c,
    struct smtpc_reply *r, int ehlo);
/* Forget what EHLO offered (before EHLO again after STARTTLS). */
void smtpc_forget_extensions(struct smtpc *c);

/* Through TLS: bytes moved (> 0), 0 at EOF, or -1 with errno EAGAIN and
 * *events what to poll for, or another errno (EPROTO: c->tls_err). */
ssize_t smtpc_tls_read(struct smtpc *c, void *buf, size_t len,
    short *events);
ssize_t smtpc_tls_write(struct smtpc *c, const void *buf, size_t len,
    short *events);
/* Free the TLS state of a connection that is closing. */
void smtpc_tls_end(struct smtpc *c);

#endif

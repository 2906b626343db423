/*
 * delivery_fakesmtp.h - a scripted SMTP server for the proxy's tests: a
 * child process that takes one connection on 127.0.0.1, answers each
 * command with the script's reply, and writes everything the client sent
 * to a file.  A reply of "HANG" makes it stop answering (for timeouts).
 */
#ifndef PSMTPD_DELIVERY_FAKESMTP_H
#define PSMTPD_DELIVERY_FAKESMTP_H

#include <sys/types.h>

struct fake_script {
	const char *greeting;	/* NULL: "220 fake ESMTP" */
	const char *ehlo;	/* "\n" separates lines; NULL: 250 fake */
	const char *helo;
	const char *mail;
	const char *rcpt[4];	/* in order; NULL: 250 OK */
	const char *data;	/* NULL: 354 */
	const char *end;	/* after the ".": NULL: 250 queued */
	const char *quit;	/* NULL: 221 Bye */
};

/* Start the server; its port in *port.  Stopped by fake_stop (by pid). */
pid_t fake_start(const struct fake_script *sc, const char *capture,
    int *port);
/* Wait (bounded) for it to end after the session, kill it otherwise. */
void fake_stop(pid_t pid);

#endif

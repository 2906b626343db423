/*
 * relay_util.h - for the tests of the relaying plugins (proxy, lmtp) in
 * the real daemon: a pipelined client transaction whose replies are
 * checked one by one, and the Python test upstream with STARTTLS and AUTH
 * (tests/relay_upstream.py) with a certificate made by openssl, and
 * Postfix's smtp-sink as an upstream that records each transaction.
 */
#ifndef PSMTPD_TESTS_RELAY_UTIL_H
#define PSMTPD_TESTS_RELAY_UTIL_H

#include <sys/types.h>

#include "tests/daemon_util.h"

/* The code of each reply in a stream of replies; their number (<= max). */
int ru_codes(const char *in, int *codes, int max);
/* EHLO, MAIL from a@example.org, RCPT for each of rcpts (NULL-ended),
 * DATA, body (CRLF, dot-stuffed), ".", QUIT, in one write: the codes of
 * the replies after the greeting and the EHLO into codes (MAIL, RCPT...,
 * DATA, the data, QUIT); their number; the whole session's time in *ms;
 * all the replies into replies when not NULL (malloc'd, NUL-ended). */
int ru_transcript(const struct du_daemon *d, const char *const *rcpts,
    const char *body, int *codes, int max, long long *ms, char **replies);

/* A self-signed certificate for localhost and 127.0.0.1 in dir/cert.pem
 * and dir/key.pem; 0, or -1 when openssl is missing or fails. */
int ru_make_cert(const char *dir);
/* Start tests/relay_upstream.py with its options (NULL-ended; --port-file
 * and --capture dir/capture are added); its pid and port, or -1 when
 * Python cannot start it. */
pid_t ru_upstream_start(const char *dir, const char *const *opts,
    int *port);

/* Postfix's smtp-sink on a free 127.0.0.1 port with opts (NULL-ended,
 * may be NULL), dumping each transaction to dir/dump.* (as nobody when
 * run by root: dir must be writable for it); its pid and port, or -1
 * when it is not installed or does not listen within 5 s. */
pid_t ru_sink_start(const char *dir, const char *const *opts, int *port);
/* The contents of the first dump file in dir (malloc'd), or NULL. */
char *ru_sink_dump(const char *dir);

#endif

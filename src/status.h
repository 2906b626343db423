/*
 * status.h - psmtpd -S: what the scoreboard of a running psmtpd shows
 * (workers by state, sessions and messages since the start, per
 * generation, stress mode), as text for a person or in Prometheus' text
 * format for node-exporter's textfile collector.  Everything in it was
 * written by workers: shown, never trusted.
 */
#ifndef PSMTPD_STATUS_H
#define PSMTPD_STATUS_H

#include <stdbool.h>
#include <stdio.h>

struct scoreboard;

/* Print the scoreboard; prometheus or text.  0, or -1 when out fails. */
int status_print(const struct scoreboard *sb, bool prometheus, FILE *out);

/* psmtpd -S: read the status file at path and print it; the exit
 * status (0, or 1 with a message on stderr). */
int status_run(const char *path, const char *format);

#endif

/*
 * log.h - the server's logger: stderr in the foreground, syslog detached.
 *
 * Lines are "key=value" where they describe an event, so that operators can
 * grep them.  log_warn() appends strerror(errno), log_warnx() does not;
 * fatal()/fatalx() are for a broken environment at startup (exit 1);
 * log_panic() is for a broken invariant (abort).
 */
#ifndef PSMTPD_LOG_H
#define PSMTPD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))

enum log_dest { LOG_DEST_STDERR, LOG_DEST_SYSLOG };

/* Set once per process at start (and again after a reload in the master):
 * where lines go, the syslog facility (LOG_MAIL...), the lowest level shown
 * (LOG_INFO...), and the ident, e.g. "psmtpd". */
void log_init(enum log_dest dest, int facility, int level, const char *ident);
/* The ident's suffix for a process role, e.g. "worker" -> "psmtpd/worker". */
void log_set_role(const char *role);
bool log_enabled(int level);

void log_msg(int level, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_vmsg(int level, const char *fmt, va_list ap) LOG_PRINTF(2, 0);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_notice(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
__attribute__((noreturn)) void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
__attribute__((noreturn)) void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);
__attribute__((noreturn)) void log_panic(const char *fmt, ...) LOG_PRINTF(1, 2);

/*
 * Client text (or any text from outside) for a log line, into dst (size
 * bytes, always NUL-terminated, cut to fit): printable ASCII and UTF-8
 * as they are, '"' and '\\' escaped with a '\\', every other byte (CR,
 * LF, NUL, ESC...) as \xNN, so that it can neither end the line nor the
 * quoted value it is in.  Returns dst, for use as a printf argument.
 * (Every log line also gets its control bytes escaped as \xNN, whatever
 * its source.)
 */
char *log_escape(char *dst, size_t size, const char *src);

/* Map "mail", "local0".."local7", "daemon", "user" to LOG_*; -1 if none. */
int log_facility_from_name(const char *name);
/* Map "debug", "info", "notice", "warning", "err"/"error" to LOG_*; -1. */
int log_level_from_name(const char *name);

#endif

/*
 * log.c - the server's logger.
 *
 * The destination is process-wide by nature (stderr or the syslog socket),
 * so it is the one piece of static state here; it is set at start, before
 * any worker exists, and only the master changes it again on reload.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static struct {
	enum log_dest dest;
	int facility;
	int level;
	char ident[64];
	char tag[96];
	char prefix[128];	/* "tag[pid]: ", made by log_set_prefix; a
				 * forked worker calls log_set_role first */
	size_t prefix_len;
	long long stamp_sec;	/* the second that stamp shows */
	char stamp[32];
} log_state = { LOG_DEST_STDERR, LOG_MAIL, LOG_INFO, "psmtpd", "psmtpd",
    "", 0, -1, "" };

static const struct {
	const char *name;
	int value;
} log_facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
}, log_levels[] = {
	{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE },
	{ "warning", LOG_WARNING }, { "err", LOG_ERR }, { "error", LOG_ERR },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int
log_facility_from_name(const char *name)
{
	for (size_t i = 0; i < NELEM(log_facilities); i++)
		if (strcasecmp(name, log_facilities[i].name) == 0)
			return log_facilities[i].value;
	return -1;
}

int
log_level_from_name(const char *name)
{
	for (size_t i = 0; i < NELEM(log_levels); i++)
		if (strcasecmp(name, log_levels[i].name) == 0)
			return log_levels[i].value;
	return -1;
}

/* log_set_prefix - "tag[pid]: ", made once per process rather than
 * formatted into every line. */
static void
log_set_prefix(void)
{
	int n = snprintf(log_state.prefix, sizeof(log_state.prefix),
	    "%s[%ld]: ", log_state.tag, (long)getpid());

	log_state.prefix_len = n < 0 ? 0 : (size_t)n >=
	    sizeof(log_state.prefix) ? sizeof(log_state.prefix) - 1 :
	    (size_t)n;
}

void
log_init(enum log_dest dest, int facility, int level, const char *ident)
{
	if (log_state.dest == LOG_DEST_SYSLOG)
		closelog();
	log_state.dest = dest;
	log_state.facility = facility;
	log_state.level = level;
	snprintf(log_state.ident, sizeof(log_state.ident), "%s", ident);
	snprintf(log_state.tag, sizeof(log_state.tag), "%s", ident);
	log_set_prefix();
	if (dest == LOG_DEST_SYSLOG)
		openlog(log_state.tag, LOG_PID | LOG_NDELAY, facility);
}

void
log_set_role(const char *role)
{
	snprintf(log_state.tag, sizeof(log_state.tag), "%s/%s",
	    log_state.ident, role);
	log_set_prefix();
	if (log_state.dest == LOG_DEST_SYSLOG) {
		closelog();
		openlog(log_state.tag, LOG_PID | LOG_NDELAY, log_state.facility);
	}
}

bool
log_enabled(int level)
{
	return level <= log_state.level;
}

/* log_escape_bytes - src into dst (size > 0), cut before an escape that
 * does not fit: control bytes and DEL as \xNN, and with quotes also '"'
 * and '\\' after a backslash; everything else (UTF-8 too) as it is.
 * Returns the length written.  Every log line passes through here, so
 * plain bytes take the short path. */
static size_t
log_escape_bytes(char *dst, size_t size, const char *src, bool quotes)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *src != '\0'; src++) {
		unsigned char c = (unsigned char)*src;
		if (c >= 0x20 && c != 0x7f && !(quotes && (c == '"' ||
		    c == '\\'))) {
			if (n + 1 >= size)
				break;
			dst[n++] = (char)c;
		} else if (c >= 0x20 && c != 0x7f) {
			if (n + 2 >= size)
				break;
			dst[n++] = '\\';
			dst[n++] = (char)c;
		} else {
			if (n + 4 >= size)
				break;
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 0xf];
		}
	}
	dst[n] = '\0';
	return n;
}

/* log_stamp - the local time of now to the second, formatted again only
 * when the second changes. */
static const char *
log_stamp(void)
{
	struct timespec ts;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return "";
	if ((long long)ts.tv_sec != log_state.stamp_sec) {
		if (localtime_r(&ts.tv_sec, &tm) == NULL ||
		    strftime(log_state.stamp, sizeof(log_state.stamp),
		    "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			return "";
		log_state.stamp_sec = (long long)ts.tv_sec;
	}
	return log_state.stamp;
}

/* log_write - one line to the destination, its control bytes escaped;
 * never more than one write(2) on stderr so that lines of concurrent
 * workers do not interleave. */
static void
log_write(int level, const char *text)
{
	char line[2048];

	if (log_state.dest == LOG_DEST_SYSLOG) {
		log_escape_bytes(line, sizeof(line), text, false);
		syslog(level, "%s", line);
		return;
	}
	const char *stamp = log_stamp();
	size_t n = strlen(stamp);

	if (log_state.prefix_len == 0)	/* log_init not called yet */
		log_set_prefix();

	/* stamp (< 32) + ' ' + prefix (< 128) leave room for text */
	memcpy(line, stamp, n);
	line[n++] = ' ';
	memcpy(line + n, log_state.prefix, log_state.prefix_len);
	n += log_state.prefix_len;
	n += log_escape_bytes(line + n, sizeof(line) - n - 1, text, false);
	line[n++] = '\n';
	/* Nothing sensible to do if stderr is gone. */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

char *
log_escape(char *dst, size_t size, const char *src)
{
	if (size > 0)
		log_escape_bytes(dst, size, src != NULL ? src : "", true);
	return dst;
}

/* log_vmsg - one line; a control byte that a caller let through (client
 * text, a plugin's message) is escaped by log_write, so that nothing can
 * start a forged line or hide the real one. */
void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char text[1800];

	if (!log_enabled(level))
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	log_write(level, text);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

#define LOG_DEFINE(fn, level) \
	void fn(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		log_vmsg(level, fmt, ap); \
		va_end(ap); \
	}

LOG_DEFINE(log_debug, LOG_DEBUG)
LOG_DEFINE(log_info, LOG_INFO)
LOG_DEFINE(log_notice, LOG_NOTICE)
LOG_DEFINE(log_warnx, LOG_WARNING)

/* log_verrno - the message with ": strerror(errno)" appended. */
static void
log_verrno(int level, int saved_errno, const char *fmt, va_list ap)
{
	char text[1600];

	vsnprintf(text, sizeof(text), fmt, ap);
	log_msg(level, "%s: %s", text, strerror(saved_errno));
}

void
log_warn(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_verrno(LOG_WARNING, saved_errno, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_verrno(LOG_ERR, saved_errno, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, fmt, ap);
	va_end(ap);
	abort();
}

/*
 * debugging.c - DebuggingServer: print each message to stdout.
 *
 * The format is Python's DebuggingServer with decode_data=True (the
 * readable one): the marker lines, "mail options: [...]" and "rcpt
 * options: [...]" when there are any, the message line by line with
 * "X-Peer: <ip>" printed where the headers end.  Bytes that are not UTF-8
 * are shown as \xNN.  A message is written with one write(2) under a
 * lock shared by every worker, so the output of workers never interleaves.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <psmtpd/plugin.h>

struct debugging {
	int lock_fd;	/* an unlinked temporary file: fcntl locks on it are
			 * per process, so they serialise the workers */
};

/* The output of one message, grown as needed. */
struct dbg_buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void
dbg_put(struct dbg_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
dbg_puts(struct dbg_buf *b, const char *s)
{
	dbg_put(b, s, strlen(s));
}

/* dbg_utf8_len - length of a well-formed UTF-8 sequence at s, 0 if none. */
static size_t
dbg_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	unsigned cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* dbg_text - UTF-8 text as it is, other bytes as \xNN (Python's
 * backslashreplace). */
static void
dbg_text(struct dbg_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k = dbg_utf8_len(u + i, n - i);
		if (k == 0) {
			char esc[8];
			snprintf(esc, sizeof(esc), "\\x%02x", u[i]);
			dbg_puts(b, esc);
			i++;
			continue;
		}
		dbg_put(b, s + i, k);
		i += k;
	}
}

/* dbg_line_break - length of a line boundary at s for Python's
 * str.splitlines(), 0 if none. */
static size_t
dbg_line_break(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u[0] == '\r')
		return n > 1 && u[1] == '\n' ? 2 : 1;
	if (u[0] == '\n' || u[0] == '\v' || u[0] == '\f' ||
	    (u[0] >= 0x1c && u[0] <= 0x1e))
		return 1;
	if (n > 1 && u[0] == 0xc2 && u[1] == 0x85)
		return 2;
	if (n > 2 && u[0] == 0xe2 && u[1] == 0x80 &&
	    (u[2] == 0xa8 || u[2] == 0xa9))
		return 3;
	return 0;
}

/* dbg_repr - a Python repr() of an option string. */
static void
dbg_repr(struct dbg_buf *b, const char *s)
{
	char q = strchr(s, '\'') != NULL && strchr(s, '"') == NULL ? '"' :
	    '\'';

	dbg_put(b, &q, 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		if (*p == '\\' || *p == (unsigned char)q)
			snprintf(esc, sizeof(esc), "\\%c", *p);
		else if (*p == '\n' || *p == '\r' || *p == '\t')
			snprintf(esc, sizeof(esc), "\\%c",
			    *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't');
		else if (*p < 0x20 || *p == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
		else
			snprintf(esc, sizeof(esc), "%c", *p);
		dbg_puts(b, esc);
	}
	dbg_put(b, &q, 1);
}

/* dbg_options - "mail options: ['A', 'B']" when there are options. */
static void
dbg_options(struct dbg_buf *b, const char *label, psmtpd_session *s,
    size_t (*count)(const psmtpd_session *),
    const char *(*at)(const psmtpd_session *, size_t), const char *end)
{
	size_t n = count(s);

	if (n == 0)
		return;
	dbg_puts(b, label);
	dbg_puts(b, ": [");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			dbg_puts(b, ", ");
		dbg_repr(b, at(s, i));
	}
	dbg_puts(b, "]");
	dbg_puts(b, end);
}

/* dbg_message - _print_message_content: the lines, X-Peer at the first
 * empty one. */
static void
dbg_message(struct dbg_buf *b, psmtpd_session *s)
{
	size_t len, start = 0;
	const char *data = psmtpd_message_data(s, &len);
	bool inheaders = true;

	while (start < len) {
		size_t end = start, brk = 0;
		while (end < len && (brk = dbg_line_break(data + end,
		    len - end)) == 0)
			end++;
		if (inheaders && end == start) {
			dbg_puts(b, "X-Peer: ");
			dbg_puts(b, psmtpd_session_peer_addr(s));
			dbg_puts(b, "\n");
			inheaders = false;
		}
		dbg_text(b, data + start, end - start);
		dbg_puts(b, "\n");
		start = end + brk;
	}
}

/* dbg_write_all - the whole buffer to stdout, under the lock. */
static int
dbg_write_all(struct debugging *d, const char *p, size_t n)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int r = 0;

	while (fcntl(d->lock_fd, F_SETLKW, &fl) == -1)
		if (errno != EINTR)
			return -1;
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = -1;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	fl.l_type = F_UNLCK;
	fcntl(d->lock_fd, F_SETLK, &fl);
	return r;
}

static enum psmtpd_result
debugging_process_message(psmtpd_session *s, void *plugin_data)
{
	struct debugging *d = plugin_data;
	struct dbg_buf b = { 0 };

	dbg_puts(&b, "---------- MESSAGE FOLLOWS ----------\n");
	dbg_options(&b, "mail options", s, psmtpd_session_mail_option_count,
	    psmtpd_session_mail_option, "\n");
	dbg_options(&b, "rcpt options", s, psmtpd_session_rcpt_option_count,
	    psmtpd_session_rcpt_option, "\n\n");
	dbg_message(&b, s);
	dbg_puts(&b, "------------ END MESSAGE ------------\n");
	if (b.failed || dbg_write_all(d, b.p, b.len) != 0) {
		psmtpd_session_log(s, PSMTPD_LOG_WARNING, "cannot print the "
		    "message: %s", b.failed ? "out of memory" :
		    strerror(errno));
		free(b.p);
		psmtpd_reply(s, "451 Error: local error in processing");
		return PSMTPD_REPLY;
	}
	free(b.p);
	return PSMTPD_CONTINUE;
}

static int
debugging_init(psmtpd_init *ctx, void **plugin_data)
{
	struct debugging *d = calloc(1, sizeof(*d));
	char path[] = "/tmp/psmtpd-debugging.XXXXXX";

	if (d == NULL) {
		psmtpd_init_error(ctx, NULL, "out of memory");
		return -1;
	}
	d->lock_fd = mkstemp(path);
	if (d->lock_fd == -1) {
		psmtpd_init_error(ctx, NULL, "cannot create a lock file in "
		    "/tmp: %s", strerror(errno));
		free(d);
		return -1;
	}
	unlink(path);
	fcntl(d->lock_fd, F_SETFD, FD_CLOEXEC);
	*plugin_data = d;
	return 0;
}

static void
debugging_fini(void *plugin_data)
{
	struct debugging *d = plugin_data;

	close(d->lock_fd);
	free(d);
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "debugging",
	.version = "1.0",
	.description = "print each message to stdout (DebuggingServer)",
	.init = debugging_init,
	.fini = debugging_fini,
	.process_message = debugging_process_message,
};

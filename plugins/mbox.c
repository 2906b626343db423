/*
 * mbox.c - the mbox plugin: append each message to one mbox file, locked,
 * durably, before the client gets 250.
 *
 * Format: mboxrd.  Each message starts with "From <sender> <asctime>",
 * every line that matches ">*From " gets one more ">" (so that a reader
 * can take them all off again), and a blank line follows the message.
 *
 * Locking: fcntl(F_SETLKW) on the whole file, and first a "<file>.lock"
 * dotlock when `dotlock = true` (for readers that only know dotlocks; the
 * directory must then be writable).  On a write failure the file is cut
 * back to its old size and the client gets 451.
 *
 * Settings: file (absolute; default: $MAIL, else /var/mail/<user>, the
 * user running the server, so that "-c mbox" works), dotlock (default false),
 * lock_timeout (seconds to wait for a dotlock, default 60).  A new file
 * is made with mode 0600.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <psmtpd/plugin.h>

#include "delivery_util.h"

#define MBOX_STALE_LOCK 300	/* seconds: an older dotlock is stale */
#define MBOX_BUF 65536

struct mbox_conf {
	const char *file;
	char lock[PATH_MAX];
	char file_default[PATH_MAX];
	int dotlock;
	int lock_ms;
};

/* Buffered appends to the locked file. */
struct mbox_out {
	int fd;
	int failed;		/* errno of the first failure, or 0 */
	size_t len;
	char buf[MBOX_BUF];
};

static void
mbox_flush(struct mbox_out *o)
{
	if (o->failed == 0 && o->len > 0 &&
	    delivery_write_all(o->fd, o->buf, o->len) != 0)
		o->failed = errno;
	o->len = 0;
}

static void
mbox_put(struct mbox_out *o, const char *p, size_t n)
{
	while (n > 0) {
		if (o->len == sizeof(o->buf))
			mbox_flush(o);
		size_t k = sizeof(o->buf) - o->len;
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		n -= k;
	}
}

/* mbox_needs_quote - the line (up to its end) matches ">*From ". */
static int
mbox_needs_quote(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && line[i] == '>')
		i++;
	return len - i >= 5 && memcmp(line + i, "From ", 5) == 0;
}

/* mbox_put_quoted - text with mboxrd quoting, line by line. */
static void
mbox_put_quoted(struct mbox_out *o, const char *p, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(p, '\n', len);
		size_t n = nl != NULL ? (size_t)(nl - p) + 1 : len;
		if (mbox_needs_quote(p, n))
			mbox_put(o, ">", 1);
		mbox_put(o, p, n);
		p += n;
		len -= n;
	}
}

/* mbox_from_line - "From sender Mon Nov 23 19:06:37 2026\n"; a sender
 * with spaces or controls would break the line, so those become '_'. */
static void
mbox_from_line(char *buf, size_t size, const char *sender, time_t now)
{
	char date[64] = "Thu Jan  1 00:00:00 1970";
	char who[600];
	struct tm tm;

	if (sender == NULL || *sender == '\0')
		sender = "MAILER-DAEMON";
	delivery_sanitize(who, sizeof(who), sender, strlen(sender));
	for (char *c = who; *c != '\0'; c++)
		if (*c == ' ')
			*c = '_';
	if (localtime_r(&now, &tm) != NULL)
		strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	snprintf(buf, size, "From %s %s\n", who, date);
}

/* mbox_dotlock - create the lock file, waiting up to lock_ms; a lock left
 * behind longer than MBOX_STALE_LOCK by a crashed writer is removed. */
static int
mbox_dotlock(const struct mbox_conf *mc)
{
	long long deadline = delivery_now_ms() + mc->lock_ms;
	struct timespec pause = { 0, 100 * 1000000 };

	for (int tries = 0; tries < 100000; tries++) {
		int fd = open(mc->lock, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0644);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (errno != EEXIST)
			return -1;
		struct stat st;
		if (stat(mc->lock, &st) == 0 &&
		    st.st_mtime + MBOX_STALE_LOCK < time(NULL)) {
			unlink(mc->lock);
			continue;
		}
		if (delivery_ms_left(deadline) == 0)
			break;
		nanosleep(&pause, NULL);
	}
	errno = EWOULDBLOCK;
	return -1;
}

/* mbox_lock - the fcntl write lock on the whole file, waiting for it. */
static int
mbox_lock(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	for (int tries = 0; tries < 100; tries++) {
		if (fcntl(fd, F_SETLKW, &fl) == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
	return -1;
}

/* mbox_default_file - $MAIL, or /var/mail/<user>, or none. */
static void
mbox_default_file(struct mbox_conf *mc)
{
	const char *mail = getenv("MAIL");
	char user[256];

	if (mail != NULL && mail[0] == '/' && strlen(mail) <
	    sizeof(mc->file_default))
		mc->file = strcpy(mc->file_default, mail);
	else if (delivery_user(user, sizeof(user)) == 0) {
		snprintf(mc->file_default, sizeof(mc->file_default),
		    "/var/mail/%s", user);
		mc->file = mc->file_default;
	}
}

static int
mbox_init(psmtpd_init *ctx, void **plugin_data)
{
	struct mbox_conf *mc = calloc(1, sizeof(*mc));
	long long lock_s = 60;

	if (mc == NULL) {
		psmtpd_init_error(ctx, NULL, "out of memory");
		return -1;
	}
	mbox_default_file(mc);
	int bad = delivery_setting_text(ctx, "file", mc->file == NULL,
	    &mc->file) |
	    delivery_setting_flag(ctx, "dotlock", &mc->dotlock) |
	    delivery_setting_range(ctx, "lock_timeout", 1, 3600, &lock_s);
	if (!bad && mc->file[0] != '/') {
		psmtpd_init_error(ctx, "file", "file must be an absolute path, "
		    "not \"%s\"", mc->file);
		bad = -1;
	}
	if (!bad && snprintf(mc->lock, sizeof(mc->lock), "%s.lock",
	    mc->file) >= (int)sizeof(mc->lock)) {
		psmtpd_init_error(ctx, "file", "file is too long");
		bad = -1;
	}
	if (bad) {
		free(mc);
		return -1;
	}
	mc->lock_ms = (int)lock_s * 1000;
	/* psmtpd -t checks that the workers can write it. */
	psmtpd_init_target(ctx, mc->file);
	psmtpd_init_target(ctx, mc->lock);
	*plugin_data = mc;
	return 0;
}

static void
mbox_fini(void *plugin_data)
{
	free(plugin_data);
}

/* mbox_append - the message at the end of the locked fd, fsync'd; on
 * failure the file is cut back to old_size.  0, or an errno value. */
static int
mbox_append(int fd, off_t old_size, const psmtpd_session *s)
{
	struct mbox_out *o = malloc(sizeof(*o));
	char from[700];
	size_t len;
	const char *data = psmtpd_message_data(s, &len);

	if (o == NULL)
		return ENOMEM;
	o->fd = fd;
	o->failed = 0;
	o->len = 0;
	mbox_from_line(from, sizeof(from), psmtpd_session_mailfrom(s),
	    time(NULL));
	mbox_put(o, from, strlen(from));
	mbox_put_quoted(o, data, len);
	/* The message's last line end (Python's smtpd drops it), and the
	 * blank line that ends an mbox message. */
	mbox_put(o, "\n\n", len > 0 ? 2 : 1);
	mbox_flush(o);
	int err = o->failed;
	free(o);
	if (err == 0 && fsync(fd) != 0)
		err = errno;
	if (err != 0 && ftruncate(fd, old_size) == 0)
		(void)fsync(fd);
	return err;
}

/* mbox_fail - 451 with the reason. */
static enum psmtpd_result
mbox_fail(psmtpd_session *s, const struct mbox_conf *mc, const char *step,
    int err)
{
	psmtpd_session_log(s, PSMTPD_LOG_WARNING, "mbox not delivered "
	    "step=%s file=%s error=\"%s\"", step, mc->file, strerror(err));
	psmtpd_reply(s, "451 %s Error: cannot deliver to the mailbox: %s",
	    err == ENOSPC || err == EDQUOT ? "4.3.1" : "4.2.0",
	    strerror(err));
	return PSMTPD_REPLY;
}

/* mbox_deliver - lock, append, unlock; 0 or an errno value. */
static int
mbox_deliver(const struct mbox_conf *mc, psmtpd_session *s, int fd,
    const char **step)
{
	struct stat st;

	*step = "lock";
	if (mbox_lock(fd) != 0)
		return errno;
	*step = "stat";
	if (fstat(fd, &st) != 0)
		return errno;
	*step = "write";
	int err = mbox_append(fd, st.st_size, s);
	if (err == 0)
		psmtpd_session_log(s, PSMTPD_LOG_INFO, "mbox delivered "
		    "file=%s offset=%lld", mc->file, (long long)st.st_size);
	return err;
}

static enum psmtpd_result
mbox_process_message(psmtpd_session *s, void *plugin_data)
{
	const struct mbox_conf *mc = plugin_data;
	const char *step = "dotlock";

	if (mc->dotlock && mbox_dotlock(mc) != 0)
		return mbox_fail(s, mc, step, errno);
	int err = 0;
	step = "open";
	int fd = open(mc->file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600);
	if (fd < 0)
		err = errno;
	else {
		err = mbox_deliver(mc, s, fd, &step);
		/* This releases the fcntl lock.  Its error is of no use:
		 * the message is fsync'd, or already cut off again. */
		close(fd);
	}
	if (mc->dotlock)
		unlink(mc->lock);
	if (err != 0)
		return mbox_fail(s, mc, step, err);
	return PSMTPD_CONTINUE;
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "mbox",
	.version = "1.0",
	.description = "append each message to an mbox file, locked",
	.init = mbox_init,
	.fini = mbox_fini,
	.process_message = mbox_process_message,
};

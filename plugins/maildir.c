/*
 * maildir.c - the maildir plugin: each message becomes one file in a
 * Maildir, durably, before the client gets 250: written in tmp/, fsync'd,
 * renamed into new/, and new/ fsync'd so that the rename itself survives a
 * crash.  Any failure is a 451 and leaves nothing in new/.
 *
 * File names follow the maildir conventions, unique across workers and
 * hosts: "<sec>.M<usec>P<pid>Q<count>R<random>.<host>,S=<size>".
 *
 * Settings: dir (default: ~/Maildir of the user running the server, so
 * that "-c maildir", which has no settings, works), create (default true:
 * make dir, tmp/, new/ and
 * cur/ when missing, in the worker so that they belong to the worker's
 * user), add_headers (default true: "Return-Path: <sender>" on top and
 * "X-Peer: <ip>" after the last header line).
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <psmtpd/plugin.h>

#include "delivery_util.h"

#define MAILDIR_TRIES 5		/* names tried when one exists already */

struct maildir_conf {
	const char *dir;
	int create;
	int add_headers;
	unsigned long count;	/* deliveries by this process (per worker) */
	char host[256];		/* the host part of names, '/' and ':' escaped */
	char dir_default[PATH_MAX];
};

/* The pieces of one message file. */
struct maildir_msg {
	char head[1100];	/* Return-Path */
	char xpeer[128];
	const char *data;
	size_t len, off;	/* X-Peer goes at data + off */
	size_t size;		/* of the file */
};

/* maildir_host - the host name for file names: "/" and ":" would break
 * the name, so they become "\057" and "\072" as the conventions say. */
static void
maildir_host(char *dst, size_t size, const char *name)
{
	size_t n = 0;

	for (; *name != '\0' && n + 5 < size; name++) {
		if (*name == '/' || *name == ':')
			n += (size_t)snprintf(dst + n, size - n, "\\%03o",
			    (unsigned char)*name);
		else if ((unsigned char)*name > 0x20 &&
		    (unsigned char)*name < 0x7f)
			dst[n++] = *name;
	}
	dst[n] = '\0';
	if (n == 0)
		snprintf(dst, size, "localhost");
}

/* maildir_name - a new unique name into buf. */
static int
maildir_name(struct maildir_conf *mc, size_t size, char *buf, size_t bufsize)
{
	struct timeval tv;
	unsigned long long rnd;

	gettimeofday(&tv, NULL);
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = ((unsigned long long)tv.tv_usec << 32) ^
		    (unsigned long long)getpid() ^ mc->count;
	int n = snprintf(buf, bufsize, "%lld.M%06ldP%ldQ%luR%016llx.%s,S=%zu",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
	    ++mc->count, rnd, mc->host, size);
	return n > 0 && (size_t)n < bufsize ? 0 : -1;
}

/* maildir_mkdir - mkdir that accepts an existing directory. */
static int
maildir_mkdir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

/* maildir_make_dirs - dir, tmp/, new/ and cur/, whichever is missing. */
static int
maildir_make_dirs(const struct maildir_conf *mc)
{
	static const char *const sub[] = { "", "/tmp", "/new", "/cur" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		if (snprintf(path, sizeof(path), "%s%s", mc->dir,
		    sub[i]) >= (int)sizeof(path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (maildir_mkdir(path) != 0)
			return -1;
	}
	return 0;
}

/* maildir_check_dirs - with create off, tmp/ and new/ must exist. */
static int
maildir_check_dirs(psmtpd_init *ctx, const struct maildir_conf *mc)
{
	static const char *const sub[] = { "tmp", "new" };
	char path[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", mc->dir, sub[i]);
		const char *why = NULL;
		if (stat(path, &st) != 0)
			why = strerror(errno);
		else if (!S_ISDIR(st.st_mode))
			why = strerror(ENOTDIR);
		if (why != NULL) {
			psmtpd_init_error(ctx, "dir", "%s is not a maildir "
			    "(%s: %s) and create is false", mc->dir, path,
			    why);
			return -1;
		}
	}
	return 0;
}

static int
maildir_init(psmtpd_init *ctx, void **plugin_data)
{
	struct maildir_conf *mc = calloc(1, sizeof(*mc));

	if (mc == NULL) {
		psmtpd_init_error(ctx, NULL, "out of memory");
		return -1;
	}
	mc->create = 1;
	mc->add_headers = 1;
	if (delivery_home(mc->dir_default, sizeof(mc->dir_default) - 8) == 0)
		mc->dir = strcat(mc->dir_default, "/Maildir");
	int bad = delivery_setting_text(ctx, "dir", mc->dir == NULL,
	    &mc->dir) |
	    delivery_setting_flag(ctx, "create", &mc->create) |
	    delivery_setting_flag(ctx, "add_headers", &mc->add_headers);
	if (!bad && mc->dir[0] != '/') {
		psmtpd_init_error(ctx, "dir", "dir must be an absolute path, "
		    "not \"%s\"", mc->dir);
		bad = -1;
	}
	if (!bad && strlen(mc->dir) > PATH_MAX - 600) {
		psmtpd_init_error(ctx, "dir", "dir is too long");
		bad = -1;
	}
	if (!bad && !mc->create)
		bad = maildir_check_dirs(ctx, mc);
	if (bad) {
		free(mc);
		return -1;
	}
	/* psmtpd -t checks that the workers can write (or make) it. */
	psmtpd_init_target(ctx, mc->dir);
	const char *host = psmtpd_init_hostname(ctx);
	maildir_host(mc->host, sizeof(mc->host), host != NULL ? host : "");
	*plugin_data = mc;
	return 0;
}

static void
maildir_fini(void *plugin_data)
{
	free(plugin_data);
}

/* maildir_worker_init - make the directories as the worker's user. */
static int
maildir_worker_init(void *plugin_data)
{
	struct maildir_conf *mc = plugin_data;

	mc->count = 0;
	if (mc->create && maildir_make_dirs(mc) != 0)
		psmtpd_log(PSMTPD_LOG_WARNING, "maildir create dir=%s "
		    "error=\"%s\"", mc->dir, strerror(errno));
	return 0;
}

/* maildir_header_value - text for a header line: a control byte (CR, LF,
 * NUL...) or DEL becomes '?', so that no sender can add a header line;
 * UTF-8 stays (RFC 6532). */
static void
maildir_header_value(char *dst, size_t size, const char *text)
{
	size_t n = 0;

	for (; text != NULL && *text != '\0' && n + 1 < size; text++) {
		unsigned char c = (unsigned char)*text;
		dst[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[n] = '\0';
}

/* maildir_compose - the pieces of the file for this session. */
static void
maildir_compose(const struct maildir_conf *mc, const psmtpd_session *s,
    struct maildir_msg *m)
{
	int at_end = 0;
	char from[1024];

	maildir_header_value(from, sizeof(from), psmtpd_session_mailfrom(s));

	m->data = psmtpd_message_data(s, &m->len);
	m->head[0] = m->xpeer[0] = '\0';
	m->off = m->len;
	if (mc->add_headers) {
		snprintf(m->head, sizeof(m->head), "Return-Path: <%s>\n",
		    from);
		m->off = delivery_header_end(m->data, m->len, &at_end);
		snprintf(m->xpeer, sizeof(m->xpeer), at_end ? "\nX-Peer: %s" :
		    "X-Peer: %s\n", psmtpd_session_peer_addr(s));
	}
	/* Python's smtpd drops the line end before the "." (the data never
	 * ends with the message's own last "\n"): put it back. */
	m->size = strlen(m->head) + m->len + strlen(m->xpeer) + (m->len > 0);
}

/* maildir_write - the pieces into fd, then fsync. */
static int
maildir_write(int fd, const struct maildir_msg *m)
{
	size_t xl = strlen(m->xpeer), hl = strlen(m->head);
	size_t body = m->size - hl - m->len - xl;

	if (delivery_write_all(fd, m->head, hl) != 0 ||
	    delivery_write_all(fd, m->data, m->off) != 0 ||
	    delivery_write_all(fd, m->xpeer, xl) != 0 ||
	    delivery_write_all(fd, m->data + m->off, m->len - m->off) != 0 ||
	    delivery_write_all(fd, "\n", body) != 0)
		return -1;
	return fsync(fd);
}

/* maildir_fail - 451 with the reason; a full disk says so. */
static enum psmtpd_result
maildir_fail(psmtpd_session *s, const char *step, const char *path, int err)
{
	psmtpd_session_log(s, PSMTPD_LOG_WARNING, "maildir not delivered "
	    "step=%s path=%s error=\"%s\"", step, path, strerror(err));
	psmtpd_reply(s, "451 %s Error: cannot deliver to the maildir: %s",
	    err == ENOSPC || err == EDQUOT ? "4.3.1" : "4.3.0",
	    strerror(err));
	return PSMTPD_REPLY;
}

/* maildir_open_tmp - a new file in tmp/ under a fresh name; the file's
 * name (without a directory) goes to name. */
static int
maildir_open_tmp(struct maildir_conf *mc, size_t size, char *name,
    size_t namesize, char *tmp, size_t tmpsize)
{
	int retried_dirs = 0;

	for (int i = 0; i < MAILDIR_TRIES; i++) {
		if (maildir_name(mc, size, name, namesize) != 0 ||
		    snprintf(tmp, tmpsize, "%s/tmp/%s", mc->dir, name) >=
		    (int)tmpsize) {
			errno = ENAMETOOLONG;
			return -1;
		}
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
		if (fd >= 0)
			return fd;
		if (errno == ENOENT && mc->create && !retried_dirs) {
			retried_dirs = 1;
			if (maildir_make_dirs(mc) != 0)
				return -1;
			continue;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/* maildir_process_message - tmp, write, fsync, rename, fsync new/. */
static enum psmtpd_result
maildir_process_message(psmtpd_session *s, void *plugin_data)
{
	struct maildir_conf *mc = plugin_data;
	struct maildir_msg m;
	char name[512], tmp[PATH_MAX], dst[PATH_MAX], newdir[PATH_MAX];

	maildir_compose(mc, s, &m);
	int fd = maildir_open_tmp(mc, m.size, name, sizeof(name), tmp,
	    sizeof(tmp));
	if (fd < 0)
		return maildir_fail(s, "open", tmp, errno);
	if (maildir_write(fd, &m) != 0) {
		int err = errno;
		close(fd);
		unlink(tmp);
		return maildir_fail(s, "write", tmp, err);
	}
	if (close(fd) != 0) {
		int err = errno;
		unlink(tmp);
		return maildir_fail(s, "close", tmp, err);
	}
	snprintf(newdir, sizeof(newdir), "%s/new", mc->dir);
	if (snprintf(dst, sizeof(dst), "%s/%s", newdir, name) >=
	    (int)sizeof(dst) || rename(tmp, dst) != 0) {
		int err = errno;
		unlink(tmp);
		return maildir_fail(s, "rename", dst, err);
	}
	if (delivery_fsync_dir(newdir) != 0) {
		/* Not durable: take it back, the client will retry. */
		int err = errno;
		unlink(dst);
		return maildir_fail(s, "fsync", newdir, err);
	}
	psmtpd_session_log(s, PSMTPD_LOG_INFO, "maildir delivered file=%s "
	    "size=%zu", dst, m.size);
	return PSMTPD_CONTINUE;
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "maildir",
	.version = "1.0",
	.description = "deliver each message to a Maildir, durably",
	.init = maildir_init,
	.fini = maildir_fini,
	.worker_init = maildir_worker_init,
	.process_message = maildir_process_message,
};

/*
 * xstats.c - an example third-party plugin for psmtpd, built out of tree
 * against the installed <psmtpd/plugin.h> alone.  It shows what a site
 * plugin usually does, with plugin API 2:
 *
 *   - a policy hook: RCPT to a domain listed in `reject_domains` gets
 *     "550 5.7.1 Relaying to <domain> denied"; other recipients go on;
 *     the count of refusals goes into a transaction note;
 *   - a custom verb: XSTATS answers with what this worker has seen, and
 *     EHLO advertises it;
 *   - process_message: an "X-Xstats:" header goes on top of the message
 *     (what later plugins and delivery see) and, when `spool` is set, the
 *     message is stored as one file there, with the headers earlier
 *     plugins added (written to a temporary name, fsync'd and renamed,
 *     so that a reader never sees half a message);
 *   - on_outcome: a stored copy is kept only if the client was told 2xx
 *     (a later plugin may still refuse the message), else removed; the
 *     message counter counts accepted messages only.
 *
 * Config (psmtpd.conf):
 *
 *   plugins = (
 *     { path = "/usr/local/lib/psmtpd-site/xstats.so";
 *       settings = { reject_domains = [ "blocked.example" ];
 *                    spool = "/var/spool/xstats"; }; },
 *     { name = "sink"; }
 *   );
 *
 * Counters live in the plugin's data, which every worker inherits from
 * the master at fork: each worker counts its own sessions, never shared.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <psmtpd/plugin.h>

#define XSTATS_MAX_DOMAINS 64

#if PSMTPD_PLUGIN_API < 2
#error "xstats needs psmtpd's plugin API 2 (psmtpd 0.2 or later)"
#endif

struct xstats {
	const char *domains[XSTATS_MAX_DOMAINS]; /* valid until fini */
	size_t ndomains;
	const char *spool;	/* NULL: count only */
	unsigned long messages;	/* accepted by this worker */
	unsigned long rejected;	/* recipients refused by this worker */
	unsigned long stored;	/* files written by this worker */
	unsigned long undone;	/* stored, then refused by a later plugin */
};

/* The transaction note of the stored file, for on_outcome. */
#define XSTATS_NOTE_FILE "xstats.file"

/* xstats_read_domains - the reject_domains setting, a list of strings. */
static int
xstats_read_domains(psmtpd_init *ctx, struct xstats *x)
{
	size_t n;
	int r = psmtpd_setting_strings(ctx, "reject_domains", &n);

	if (r <= 0)
		return r;	/* absent (0) or the wrong type (-1) */
	if (n > XSTATS_MAX_DOMAINS) {
		psmtpd_init_error(ctx, "reject_domains", "at most %d domains",
		    XSTATS_MAX_DOMAINS);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		x->domains[i] = psmtpd_setting_strings_at(ctx,
		    "reject_domains", i);
	x->ndomains = n;
	return 1;
}

/* xstats_init - in the master, before fork: read and check the settings. */
static int
xstats_init(psmtpd_init *ctx, void **plugin_data)
{
	struct xstats *x = calloc(1, sizeof(*x));

	if (x == NULL) {
		psmtpd_init_error(ctx, NULL, "out of memory");
		return -1;
	}
	if (xstats_read_domains(ctx, x) < 0 ||
	    psmtpd_setting_string(ctx, "spool", &x->spool) < 0) {
		free(x);
		return -1;
	}
	if (x->spool != NULL && access(x->spool, W_OK | X_OK) != 0) {
		psmtpd_init_error(ctx, "spool", "%s: %s", x->spool,
		    strerror(errno));
		free(x);
		return -1;
	}
	*plugin_data = x;
	return 0;
}

static void
xstats_fini(void *plugin_data)
{
	free(plugin_data);
}

/* xstats_rejected_domain - whether addr's domain is one we refuse. */
static const char *
xstats_rejected_domain(const struct xstats *x, const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL)
		return NULL;
	for (size_t i = 0; i < x->ndomains; i++)
		if (strcasecmp(at + 1, x->domains[i]) == 0)
			return x->domains[i];
	return NULL;
}

/* xstats_count_in_txn - one more refusal in this transaction, kept in a
 * transaction note (another plugin could read "xstats.rejected"). */
static unsigned long
xstats_count_in_txn(psmtpd_session *s)
{
	unsigned long *n = psmtpd_txn_note_get(s, "xstats.rejected");

	if (n == NULL && (n = calloc(1, sizeof(*n))) != NULL &&
	    psmtpd_txn_note_set(s, "xstats.rejected", n, free) != 0)
		n = NULL;
	return n != NULL ? ++*n : 0;
}

/* xstats_rcpt - the policy hook: a reply rejects this recipient only. */
static enum psmtpd_result
xstats_rcpt(psmtpd_session *s, const char *rcptto, void *plugin_data)
{
	struct xstats *x = plugin_data;
	const char *domain = xstats_rejected_domain(x, rcptto);

	if (domain == NULL)
		return PSMTPD_CONTINUE;
	x->rejected++;
	psmtpd_session_log(s, PSMTPD_LOG_INFO, "rejected rcpt=<%s> "
	    "rejected_in_txn=%lu", rcptto, xstats_count_in_txn(s));
	psmtpd_reply(s, "550 5.7.1 Relaying to <%s> denied", domain);
	return PSMTPD_REPLY;
}

/* xstats_write_all - write len bytes, through short writes and EINTR. */
static int
xstats_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* xstats_store - the message into spool/<pid>.<n>.msg, whole or not at
 * all: a header line with the envelope, then the data. */
static int
xstats_store(psmtpd_session *s, struct xstats *x)
{
	char tmp[4096], dst[4096], head[1024];
	size_t len;
	const char *data = psmtpd_message_data(s, &len);
	unsigned long n = x->stored + 1;

	snprintf(tmp, sizeof(tmp), "%s/.%ld.%lu.tmp", x->spool, (long)getpid(), n);
	snprintf(dst, sizeof(dst), "%s/%ld.%lu.msg", x->spool, (long)getpid(), n);
	int hl = snprintf(head, sizeof(head), "X-Envelope-From: <%s>\n",
	    psmtpd_session_mailfrom(s));
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	if (hl < 0 || (size_t)hl >= sizeof(head) ||
	    xstats_write_all(fd, head, (size_t)hl) != 0 ||
	    xstats_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, dst) != 0) {
		unlink(tmp);
		return -1;
	}
	x->stored = n;
	char *keep = strdup(dst);
	if (keep != NULL)
		psmtpd_txn_note_set(s, XSTATS_NOTE_FILE, keep, free);
	return 0;
}

/* xstats_message - count (and maybe store) each message, then let the
 * next plugin of the chain have it. */
static enum psmtpd_result
xstats_message(psmtpd_session *s, void *plugin_data)
{
	struct xstats *x = plugin_data;

	/* a header on top, as Received: goes; later plugins see it */
	psmtpd_header_add(s, PSMTPD_HEADER_TOP, "X-Xstats", "worker=%ld "
	    "message=%s", (long)getpid(), psmtpd_message_id(s));
	if (x->spool != NULL && xstats_store(s, x) != 0) {
		psmtpd_session_log(s, PSMTPD_LOG_ERR, "store in %s: %s",
		    x->spool, strerror(errno));
		psmtpd_reply(s, "451 4.3.0 Error: cannot store the message");
		return PSMTPD_REPLY;
	}
	return PSMTPD_CONTINUE;
}

/* xstats_outcome - how the message ended: count it if the client was told
 * it was taken, else take back the copy stored for it. */
static void
xstats_outcome(psmtpd_session *s, void *plugin_data)
{
	struct xstats *x = plugin_data;
	const char *file = psmtpd_txn_note_get(s, XSTATS_NOTE_FILE);
	int code = psmtpd_outcome_code(s);

	if (code >= 200 && code < 300) {
		x->messages++;
		return;
	}
	if (file != NULL && unlink(file) == 0)
		x->undone++;
	psmtpd_session_log(s, PSMTPD_LOG_INFO, "refused code=%d by=%s%s",
	    code, psmtpd_outcome_plugin(s)[0] ? psmtpd_outcome_plugin(s) :
	    "server", file != NULL ? " copy=removed" : "");
}

/* xstats_ehlo - EHLO advertises the verb. */
static void
xstats_ehlo(psmtpd_session *s, void *plugin_data)
{
	(void)plugin_data;
	psmtpd_ehlo_keyword(s, "XSTATS");
}

/* xstats_cmd - the XSTATS verb: a multi-line 250 with the counters. */
static enum psmtpd_result
xstats_cmd(psmtpd_session *s, const char *arg, void *plugin_data)
{
	const struct xstats *x = plugin_data;

	if (arg != NULL && arg[0] != '\0') {
		psmtpd_reply(s, "501 Syntax: XSTATS");
		return PSMTPD_REPLY;
	}
	psmtpd_reply(s, "250-XSTATS worker=%ld\n250-rejected=%lu\n"
	    "250-undone=%lu\n250 messages=%lu", (long)getpid(), x->rejected,
	    x->undone, x->messages);
	return PSMTPD_REPLY;
}

static const struct psmtpd_command xstats_commands[] = {
	{ "XSTATS", xstats_cmd, "Syntax: XSTATS" },
	{ NULL, NULL, NULL },
};

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "xstats",
	.version = "2.0",
	.description = "example: reject domains, count and store messages, "
	    "XSTATS",
	.init = xstats_init,
	.fini = xstats_fini,
	.on_rcpt = xstats_rcpt,
	.process_message = xstats_message,
	.commands = xstats_commands,
	.ehlo_keywords = xstats_ehlo,
	.on_outcome = xstats_outcome,
};

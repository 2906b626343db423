/*
 * psmtpd/plugin.h - the plugin API of psmtpd, the prefork SMTP server.
 *
 * A plugin is a shared object that exports one symbol,
 *
 *     const struct psmtpd_plugin psmtpd_plugin = { PSMTPD_PLUGIN_HEADER, ... };
 *
 * naming itself and the hooks it implements.  Every hook is optional.  The
 * server owns every object: plugins see opaque handles and call back through
 * the functions declared below (they are exported by the psmtpd binary, so
 * build the plugin with -fPIC -shared and leave them undefined).
 *
 * Versioning.  PSMTPD_PLUGIN_ABI changes when anything here changes in a way
 * that breaks a built plugin; the loader refuses a plugin built for another
 * ABI.  PSMTPD_PLUGIN_API counts additions that keep the ABI: new functions
 * and new fields appended to struct psmtpd_plugin.  A plugin built against
 * an older API still loads; the server never reads fields that plugin's API
 * level does not have.  A plugin built for a newer API than the server's
 * is refused at load with a clear message; psmtpd_api_level() tells a
 * plugin the server's level at run time.  API 2 (this header) kept ABI 1:
 * its hooks take reserved slots and every addition is a new function.
 *
 * Processes.  init and fini run in the master, before any worker is forked
 * (and again on SIGHUP, for the new generation).  Since API 2 every init
 * runs twice: first in a disposable child process (a crash there is
 * reported with the plugin's name and the running server is untouched),
 * then for real in the master; init must have no effect outside the
 * process but what it can do again (create a directory, not "take the
 * first item of a queue").  On SIGHUP the old generation's fini runs, and
 * its objects are closed, before the new generation's init: a plugin may
 * keep its state in static variables, each generation gets them fresh.  worker_init runs in each
 * worker after fork and after privileges are dropped; every session hook
 * runs in a worker, one session at a time; worker_fini runs when a worker
 * exits cleanly.  Nothing a plugin keeps in memory is shared between workers.
 *
 * Signals in a worker.  SIGPIPE is ignored (a write to a closed socket or
 * pipe fails with EPIPE); SIGCHLD has its default action, so a plugin may
 * fork and must reap its own children with waitpid() on their pid.  The
 * server's own signals (SIGTERM, SIGUSR1) may interrupt a blocking call in
 * a hook with EINTR: retry it.  Leave the signal dispositions as found.
 *
 * Time limits.  A plugin entry of the config may say `timeout = N;`
 * (seconds, off by default).  A hook of that plugin that runs longer is
 * interrupted: the client gets "451 4.3.0 Error: plugin timed out"
 * (without "4.3.0" when enhanced status codes are off), never a 250, the
 * event is logged with the plugin's name, and the worker exits after
 * answering: code interrupted in the middle cannot be trusted to go on.
 * A plugin's own limits (pipe's and the proxy's timeouts) keep working
 * beside it: whichever is shorter acts first, so set `timeout` above them.
 *
 * The chain.  Plugins run in the order of the `plugins` list of the config.
 * For each hook, each plugin in turn returns PSMTPD_CONTINUE (no opinion: go
 * on to the next plugin), PSMTPD_REPLY (it answered with psmtpd_reply():
 * the answer ends the chain, whether it accepts or rejects) or
 * PSMTPD_DISCONNECT (its reply, or "421 <host> Service closing transmission
 * channel" when it set none, is sent and the connection is closed).  When
 * every plugin continues, the server answers as Python's smtpd would.
 *
 * Copyright and licence: see the psmtpd distribution.
 */
#ifndef PSMTPD_PLUGIN_H
#define PSMTPD_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PSMTPD_PLUGIN_MAGIC 0x50534d50u /* "PSMP" */
#define PSMTPD_PLUGIN_ABI 1
#define PSMTPD_PLUGIN_API 2

/* First fields of every struct psmtpd_plugin. */
#define PSMTPD_PLUGIN_HEADER \
	PSMTPD_PLUGIN_MAGIC, PSMTPD_PLUGIN_ABI, PSMTPD_PLUGIN_API

/* The symbol name the loader looks up. */
#define PSMTPD_PLUGIN_SYMBOL "psmtpd_plugin"

#if defined(__GNUC__)
#define PSMTPD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PSMTPD_PRINTF(f, a)
#endif

/* One client connection, from accept to close. */
typedef struct psmtpd_session psmtpd_session;
/* The plugin's `settings` group of the config, during init only. */
typedef struct psmtpd_init psmtpd_init;

/* What a hook tells the server. */
enum psmtpd_result {
	PSMTPD_CONTINUE = 0,	/* no opinion: next plugin, then the default */
	PSMTPD_REPLY = 1,	/* answered with psmtpd_reply(): chain ends */
	PSMTPD_DISCONNECT = 2	/* answer (or 421) and close the connection */
};

/* Log levels, as syslog's. */
enum psmtpd_log_level {
	PSMTPD_LOG_ERR = 3,
	PSMTPD_LOG_WARNING = 4,
	PSMTPD_LOG_NOTICE = 5,
	PSMTPD_LOG_INFO = 6,
	PSMTPD_LOG_DEBUG = 7
};

/* What an authenticator says (API 2). */
enum psmtpd_auth_result {
	PSMTPD_AUTH_UNKNOWN = 0,	/* not mine: ask the next plugin */
	PSMTPD_AUTH_OK = 1,		/* 235: authenticated */
	PSMTPD_AUTH_FAIL = 2,		/* 535: wrong password */
	PSMTPD_AUTH_TEMPFAIL = 3	/* 454: cannot tell now (a backend
					 * is down) */
};

/* A command handler: a new verb, or a replacement for a built-in one. */
typedef enum psmtpd_result (*psmtpd_command_fn)(psmtpd_session *s,
    const char *arg, void *plugin_data);

struct psmtpd_command {
	const char *verb;	/* upper case, e.g. "XSTATS" */
	psmtpd_command_fn handler; /* must reply (PSMTPD_REPLY/DISCONNECT) */
	const char *help;	/* "HELP XSTATS" answer: "Syntax: XSTATS" */
};

struct psmtpd_plugin {
	uint32_t magic;		/* PSMTPD_PLUGIN_MAGIC */
	uint32_t abi;		/* PSMTPD_PLUGIN_ABI */
	uint32_t api;		/* PSMTPD_PLUGIN_API */
	const char *name;	/* short, e.g. "maildir"; used in logs */
	const char *version;	/* the plugin's own version */
	const char *description; /* one line, for -t and logs */

	/*
	 * In the master, before fork, with root privileges if the server was
	 * started as root.  Read settings with psmtpd_setting_*(); report a
	 * bad one with psmtpd_init_error() and return -1: the server does not
	 * start (or, on SIGHUP, keeps the old generation).  Store what the
	 * hooks need in *plugin_data.  Return 0 on success.
	 */
	int (*init)(psmtpd_init *ctx, void **plugin_data);
	/* In the master, when this generation is retired or at exit. */
	void (*fini)(void *plugin_data);
	/* In each worker, after fork and privilege drop.  -1: worker exits. */
	int (*worker_init)(void *plugin_data);
	/* In each worker, when it exits cleanly. */
	void (*worker_fini)(void *plugin_data);

	/* Session hooks, in a worker.  See "The chain" above. */

	/* After accept, before the greeting.  A reply replaces the 220. */
	enum psmtpd_result (*on_connect)(psmtpd_session *s, void *plugin_data);
	/* HELO or EHLO with a valid argument; psmtpd_session_greeting()
	 * and psmtpd_session_extended() already tell the new values. */
	enum psmtpd_result (*on_helo)(psmtpd_session *s, const char *helo,
	    void *plugin_data);
	/* A syntactically valid MAIL: the address ("<>" for the null
	 * sender, as Python passes it); psmtpd_session_mailfrom() and the
	 * upper-cased psmtpd_session_mail_option()s already tell what is
	 * about to be accepted (undone if the chain refuses). */
	enum psmtpd_result (*on_mail)(psmtpd_session *s, const char *mailfrom,
	    void *plugin_data);
	/* A syntactically valid RCPT.  A reply that is not 2xx rejects this
	 * recipient only; a 2xx reply or CONTINUE adds it. */
	enum psmtpd_result (*on_rcpt)(psmtpd_session *s, const char *rcptto,
	    void *plugin_data);
	/* A valid DATA, before the 354. */
	enum psmtpd_result (*on_data)(psmtpd_session *s, void *plugin_data);
	/*
	 * The message has been received whole: the envelope and the data are
	 * available through psmtpd_session_*() and psmtpd_message_data().
	 * CONTINUE hands it on to the next plugin; when the last one
	 * continues, the client gets "250 OK".  A reply ends the chain: a
	 * 2xx reply means this plugin took the message, 4xx/5xx that it was
	 * not accepted.  Python's "return None" is CONTINUE; "return '550
	 * ...'" is psmtpd_reply(s, "550 ...") and PSMTPD_REPLY.
	 */
	enum psmtpd_result (*process_message)(psmtpd_session *s,
	    void *plugin_data);
	/* RSET, or HELO/EHLO resetting the transaction; the transaction
	 * (mailfrom, rcpttos, txn data) is still there to see and is reset
	 * after the hook.  No reply. */
	void (*on_rset)(psmtpd_session *s, void *plugin_data);
	/* The connection is closing, whatever the reason.  No reply. */
	void (*on_disconnect)(psmtpd_session *s, void *plugin_data);

	/* Verbs this plugin adds or overrides; ends with { NULL }. */
	const struct psmtpd_command *commands;

	/* ---- API 2 (read only from plugins built with api >= 2) ---- */

	/*
	 * AUTH (RFC 4954), in a worker: whether password is user's, for the
	 * SASL mechanism ("PLAIN", "LOGIN").  Authenticators run in config
	 * order; the first that answers PSMTPD_AUTH_OK, PSMTPD_AUTH_FAIL or
	 * PSMTPD_AUTH_TEMPFAIL decides; PSMTPD_AUTH_UNKNOWN (no such user
	 * here) asks the next one, and when none knows the user AUTH fails.
	 * A server whose plugins have no authenticate hook offers no AUTH.
	 * The password is the client's: never log it.
	 */
	enum psmtpd_auth_result (*authenticate)(psmtpd_session *s,
	    const char *mechanism, const char *user, const char *password,
	    void *plugin_data);

	/*
	 * EHLO: add the keywords this plugin's verbs need with
	 * psmtpd_ehlo_keyword(); they come after the server's own, before
	 * "250 HELP".  Called for every EHLO the server answers itself.
	 */
	void (*ehlo_keywords)(psmtpd_session *s, void *plugin_data);
	/*
	 * A command that neither a plugin's verb nor the server knows
	 * (qpsmtpd's unrecognized_command).  verb is upper-cased, arg NULL
	 * when there is none.  CONTINUE: the next plugin, then "500 Error:
	 * command "VERB" not recognized".
	 */
	enum psmtpd_result (*on_unknown_command)(psmtpd_session *s,
	    const char *verb, const char *arg, void *plugin_data);
	/*
	 * After the reply to a message is known and sent: every plugin whose
	 * process_message ran for it hears how it ended, through
	 * psmtpd_outcome_code(), psmtpd_outcome_reply(),
	 * psmtpd_outcome_plugin() and psmtpd_rcpt_reply(), to commit or undo
	 * what it prepared (a stored copy, a counter).  No reply.  Not called
	 * when a plugin timed out or the worker died (the client got no 2xx):
	 * a plugin that must not keep such a copy cleans up at its start.
	 */
	void (*on_outcome)(psmtpd_session *s, void *plugin_data);

	/* Room to grow without an ABI change; leave zero. */
	void *reserved[4];
};

/* ---- the server --------------------------------------------------- */

/* API 2: the server's PSMTPD_PLUGIN_API, to use a newer function only
 * when the server has it (the server refuses plugins newer than itself). */
unsigned psmtpd_api_level(void);

/* ---- during init: settings, errors ---------------------------------- */

/* The plugin's name as configured (`name` or the file's base name). */
const char *psmtpd_init_name(const psmtpd_init *ctx);
/*
 * Read one setting of the plugin's `settings` group.  Return 1 and set *out
 * when present; 0 when absent (*out untouched); -1 when present with the
 * wrong type (the error, with file and line, is already recorded).  Every
 * setting the plugin never asks for is reported as unknown after init.
 * Strings stay valid until fini.
 */
int psmtpd_setting_string(psmtpd_init *ctx, const char *key,
    const char **out);
int psmtpd_setting_int(psmtpd_init *ctx, const char *key, long long *out);
int psmtpd_setting_bool(psmtpd_init *ctx, const char *key, int *out);
/* An array or list of strings: count, and the i-th element. */
int psmtpd_setting_strings(psmtpd_init *ctx, const char *key,
    size_t *count);
const char *psmtpd_setting_strings_at(psmtpd_init *ctx, const char *key,
    size_t i);
/* Record an error about `key` (NULL: about the plugin as a whole); the
 * server prints it with the config file and line. */
void psmtpd_init_error(psmtpd_init *ctx, const char *key, const char *fmt,
    ...) PSMTPD_PRINTF(3, 4);
/* The server's settings a plugin may need: the host name the server
 * announces (`hostname`, or the host's FQDN when that is not set). */
const char *psmtpd_init_hostname(const psmtpd_init *ctx);
/* remoteaddr: "host:port" (Python's SMTPServer._remoteaddr). */
const char *psmtpd_init_remote(const psmtpd_init *ctx);
/* API 2.  A path the workers must be able to write: a directory or a
 * file, or where one is to be made.  psmtpd -t checks each one as the
 * workers' user (a delivery that would answer 451 to every message is
 * found before it runs).  At most 4 per plugin; 0, or -1 when full. */
int psmtpd_init_target(psmtpd_init *ctx, const char *path);

/* ---- the session (SMTPChannel's state), read only ------------------ */

/* peer: the client's address as text ("192.0.2.1", "::1") and port. */
const char *psmtpd_session_peer_addr(const psmtpd_session *s);
unsigned psmtpd_session_peer_port(const psmtpd_session *s);
/* fqdn: the host name the server announces. */
const char *psmtpd_session_fqdn(const psmtpd_session *s);
/* remoteaddr, "host:port". */
const char *psmtpd_session_remote(const psmtpd_session *s);
/* seen_greeting: the HELO/EHLO argument, "" before one. */
const char *psmtpd_session_greeting(const psmtpd_session *s);
/* 1 after EHLO (extended_smtp), else 0. */
int psmtpd_session_extended(const psmtpd_session *s);
/* smtp_state. */
enum psmtpd_smtp_state { PSMTPD_STATE_COMMAND = 0, PSMTPD_STATE_DATA = 1 };
enum psmtpd_smtp_state psmtpd_session_state(const psmtpd_session *s);
/* mailfrom: NULL when no MAIL is in effect. */
const char *psmtpd_session_mailfrom(const psmtpd_session *s);
/* rcpttos: accepted recipients so far. */
size_t psmtpd_session_rcpt_count(const psmtpd_session *s);
const char *psmtpd_session_rcpt(const psmtpd_session *s, size_t i);
/* mail_options and rcpt_options: the upper-cased parameters of the MAIL
 * command and of the last RCPT command ("BODY=8BITMIME", "SMTPUTF8") of
 * the transaction in progress; in on_rcpt, those of the RCPT being
 * decided.  None once the transaction has ended. */
size_t psmtpd_session_mail_option_count(const psmtpd_session *s);
const char *psmtpd_session_mail_option(const psmtpd_session *s, size_t i);
size_t psmtpd_session_rcpt_option_count(const psmtpd_session *s);
const char *psmtpd_session_rcpt_option(const psmtpd_session *s, size_t i);
/* API 2.  The parameters as the client sent them, not upper-cased (the
 * ENVID and ORCPT of RFC 3461 are case-sensitive): those of the MAIL in
 * effect, and those of accepted recipient i, each recipient its own
 * (rcpt_options above holds only the last RCPT's).  NULL past the end. */
size_t psmtpd_session_mail_param_count(const psmtpd_session *s);
const char *psmtpd_session_mail_param(const psmtpd_session *s, size_t j);
size_t psmtpd_session_rcpt_param_count(const psmtpd_session *s, size_t i);
const char *psmtpd_session_rcpt_param(const psmtpd_session *s, size_t i,
    size_t j);
/* 1 when decode_data is on: the data is then valid UTF-8 text. */
int psmtpd_session_decode_data(const psmtpd_session *s);
/* A unique id for log lines, e.g. "3f2a9c0d1b" (per connection). */
const char *psmtpd_session_id(const psmtpd_session *s);
/* API 2: the id of the current transaction's message, e.g.
 * "3f2a9c0d1b4e.1" (session id, a dot, the message's number), in every
 * log line about it; "" outside a transaction. */
const char *psmtpd_message_id(const psmtpd_session *s);

/*
 * API 2: TLS and AUTH.  psmtpd_session_tls() is 1 once the session is in
 * TLS (after STARTTLS, or on an implicit-TLS listener), else 0; then the
 * protocol ("TLSv1.3") and cipher ("TLS_AES_256_GCM_SHA384"), NULL before.
 * The client certificate's subject ("/CN=client.example"), NULL when the
 * client sent none; psmtpd_session_tls_peer_verified() is 1 when it
 * chains to tls.client_ca.  psmtpd_session_auth_user(): the user that
 * AUTH authenticated in this session, NULL before (e.g. to let
 * authenticated users relay).
 */
int psmtpd_session_tls(const psmtpd_session *s);
const char *psmtpd_session_tls_version(const psmtpd_session *s);
const char *psmtpd_session_tls_cipher(const psmtpd_session *s);
const char *psmtpd_session_tls_peer_subject(const psmtpd_session *s);
int psmtpd_session_tls_peer_verified(const psmtpd_session *s);
const char *psmtpd_session_auth_user(const psmtpd_session *s);

/*
 * received_data, in process_message: the message after dot-unstuffing,
 * lines joined by "\n" as Python's smtpd passes it (the CRLF of the wire
 * become LF; a bare CR or LF sent by the client is kept as it came).
 * Not NUL-terminated as far as the protocol goes; *len is the size.  (A
 * NUL is appended after the last byte for convenience.)
 */
const char *psmtpd_message_data(const psmtpd_session *s, size_t *len);
/* received_lines: how many lines the data has. */
size_t psmtpd_message_line_count(const psmtpd_session *s);

/*
 * ---- the message: headers and body, and edits to them (API 2) ----
 *
 * In process_message (and on_outcome, read only).  A message larger than
 * `spool.memory_limit` lives in a spool file; psmtpd_message_data() then
 * returns a read-only mapping of it.  Edits do not copy the message: they
 * are a list over the original (which headers, in which order, which
 * body) that the next psmtpd_message_data() applies once, in memory or
 * into a second spool file.  Each plugin sees the edits of the plugins
 * before it; delivery plugins (and on_outcome) see the final message.
 * A pointer returned by a read function is valid until the next edit.
 *
 * The header block is the lines from the top up to the first empty line
 * (or the first line that is no header field: then the message has no
 * header block, and a header added gets an empty line before the body).
 * A field is "Name: value", continuation lines starting with a space or
 * a tab, lines joined by "\n" as in psmtpd_message_data().  Names are
 * matched without regard to case; indexes count from 0, in the current
 * order, among the fields of that name (name NULL: among all fields).
 *
 * The edit functions return 0, or -1 when the arguments are not valid
 * (a name with a character outside '!'..'~' or a ':'; a value with a CR,
 * a NUL, a "\n" not followed by a space or tab, or ending in "\n"; an
 * index out of range; no message at this point) or the spool failed:
 * the message is then unchanged and the reason is logged.
 */
#define PSMTPD_HEADER_TOP ((size_t)0)	/* first, as Received: goes */
#define PSMTPD_HEADER_END ((size_t)-1)	/* last of the header block */
#define PSMTPD_HEADER_ALL ((size_t)-1)	/* every field of that name */

/* How many fields named `name` (NULL: all fields) the message has. */
size_t psmtpd_header_count(const psmtpd_session *s, const char *name);
/* The i-th field named `name` (NULL: the i-th field), whole ("Name:
 * value", folded lines joined by "\n"), not NUL-terminated; NULL when
 * there is none. */
const char *psmtpd_header_get(const psmtpd_session *s, const char *name,
    size_t i, size_t *len);
/* Insert "name: value" before the field at position `at` among all
 * fields: PSMTPD_HEADER_TOP, PSMTPD_HEADER_END, or an index. */
int psmtpd_header_add(psmtpd_session *s, size_t at, const char *name,
    const char *fmt, ...) PSMTPD_PRINTF(4, 5);
/* Remove the i-th field named `name`, or all with PSMTPD_HEADER_ALL. */
int psmtpd_header_remove(psmtpd_session *s, const char *name, size_t i);
/* Give the i-th field named `name` a new value (the name is kept). */
int psmtpd_header_replace(psmtpd_session *s, const char *name, size_t i,
    const char *fmt, ...) PSMTPD_PRINTF(4, 5);
/* The body: what follows the empty line after the header block. */
const char *psmtpd_message_body(const psmtpd_session *s, size_t *len);
/* Replace the body with len bytes (lines joined by "\n"); append more
 * with psmtpd_body_append() (a filter that rewrites in chunks).  A large
 * body goes to the spool, not to memory. */
int psmtpd_body_replace(psmtpd_session *s, const char *body, size_t len);
int psmtpd_body_append(psmtpd_session *s, const char *more, size_t len);

/*
 * ---- the envelope: edits (API 2) ----
 *
 * From on_rcpt on (on_mail: the sender only) to process_message: what
 * later plugins, delivery and the log see.  Addresses are given as
 * psmtpd_session_mailfrom() gives them (no angle brackets; the null
 * sender is "<>"); one with a CR, LF, NUL or over 1000 bytes is refused.
 * The client is told nothing: its replies are about the addresses it
 * sent.  Return 0, or -1 (invalid, out of place, out of memory).
 */
int psmtpd_envelope_set_sender(psmtpd_session *s, const char *addr);
/* Add a recipient at the end of rcpttos (an alias, a copy to an
 * archive). */
int psmtpd_envelope_add_rcpt(psmtpd_session *s, const char *addr);
/* Remove the i-th recipient; the later ones move down by one.  Not in
 * process_message once a recipient has a verdict. */
int psmtpd_envelope_remove_rcpt(psmtpd_session *s, size_t i);

/* ---- notes shared between plugins (API 2) -------------------------- */

/*
 * A named value any plugin can read: per connection (kept until the
 * disconnect) or per transaction (freed at RSET, a new HELO/EHLO, after
 * the message, at the disconnect).  Setting a key again frees the old
 * value (free_fn, may be NULL) and keeps the new one; value NULL removes
 * the note.  Keys: up to 63 bytes; use "plugin.what" to avoid clashes.
 * Returns 0, or -1 (bad key, no transaction, out of memory: free_fn is
 * then called on value).
 */
int psmtpd_session_note_set(psmtpd_session *s, const char *key,
    void *value, void (*free_fn)(void *));
void *psmtpd_session_note_get(const psmtpd_session *s, const char *key);
int psmtpd_txn_note_set(psmtpd_session *s, const char *key, void *value,
    void (*free_fn)(void *));
void *psmtpd_txn_note_get(const psmtpd_session *s, const char *key);

/*
 * Check results, for an Authentication-Results: header (RFC 8601): one
 * "method=result property=value ..." text each, e.g. "spf=pass
 * smtp.mailfrom=example.org".  Recorded before MAIL they belong to the
 * connection (iprev), after it to the transaction.  The first word must be
 * "method=result" in letters, digits, '-', '_' and '.'; no CR, LF or ';'.
 * Returns 0 or -1.
 */
int psmtpd_check_result(psmtpd_session *s, const char *fmt, ...)
    PSMTPD_PRINTF(2, 3);
size_t psmtpd_check_count(const psmtpd_session *s);
const char *psmtpd_check_get(const psmtpd_session *s, size_t i);

/* ---- replies --------------------------------------------------------- */

/*
 * Set the reply of the current hook: a full reply line, "550 No such user
 * here".  A text with "\n" is a multi-line reply, each line sent as given
 * (write "250-first\n250 last").  Returns 0, or -1 when the text is not a
 * valid reply (three digits, then a space, a hyphen or the end).
 */
int psmtpd_reply(psmtpd_session *s, const char *fmt, ...) PSMTPD_PRINTF(2, 3);
int psmtpd_vreply(psmtpd_session *s, const char *fmt, va_list ap);
/* A multi-line reply from a code and n lines of text; the server adds
 * "code-" and "code " as RFC 5321 wants. */
int psmtpd_reply_lines(psmtpd_session *s, int code, const char *const *lines,
    size_t n);
/* (Since API 2 a reply whose lines carry different codes is refused, and
 * a reply from a hook that cannot answer (on_rset, on_disconnect,
 * on_outcome, ehlo_keywords) returns -1 and is logged.) */

/*
 * API 2: a verdict for the i-th recipient, in process_message: the reply
 * this recipient gets (an LMTP listener sends one reply per recipient).
 * The first verdict for a recipient is final.  When the plugin then
 * returns PSMTPD_REPLY, recipients without a verdict get its reply (it
 * may set none when every recipient has a verdict); when it continues,
 * later plugins see the verdict with psmtpd_rcpt_reply() and the open
 * recipients go on down the chain (a delivery plugin delivers to those
 * only); when every plugin continued, they get "250 OK".
 *
 * On an SMTP listener the client gets one reply for the message, so the
 * verdicts are folded into one, and a refused recipient is never
 * reported as delivered:
 *   - every recipient 2xx: the 2xx reply (the first one);
 *   - none 2xx: the first 4xx reply if any recipient has a 4xx (a retry
 *     may still reach it), else the first 5xx;
 *   - some 2xx, and a 4xx among the others: "451 4.3.0 Error: delivery
 *     failed for some recipients, try again later" (the retry sends the
 *     message again to those who got it: a duplicate, never a loss);
 *   - some 2xx, the others all 5xx: the first 5xx reply (the sender gets
 *     a bounce for the message and can tell which recipients refused it
 *     from its text; a retry would fail the same way forever).
 * Returns 0, or -1 (not in process_message, i out of range, a verdict
 * already given, an invalid reply).
 */
int psmtpd_reply_rcpt(psmtpd_session *s, size_t i, const char *fmt, ...)
    PSMTPD_PRINTF(3, 4);
/* The verdict the i-th recipient has, or NULL while it has none. */
const char *psmtpd_rcpt_reply(const psmtpd_session *s, size_t i);

/* ---- the outcome (API 2), in on_outcome ---------------------------- */

/* The code of the reply the client got for the message (250, 451, ...). */
int psmtpd_outcome_code(const psmtpd_session *s);
/* That reply's text (may be several lines joined by "\n"). */
const char *psmtpd_outcome_reply(const psmtpd_session *s);
/* The name of the plugin whose reply it was, or "" for the server's (all
 * continued, or a time-out). */
const char *psmtpd_outcome_plugin(const psmtpd_session *s);

/* ---- EHLO and exchanges (API 2) ------------------------------------ */

/* In ehlo_keywords: one EHLO keyword line ("XSTATS", "AUTH X-FOO"):
 * letters, digits and '-' first, then printable text.  0 or -1. */
int psmtpd_ehlo_keyword(psmtpd_session *s, const char *fmt, ...)
    PSMTPD_PRINTF(2, 3);
/*
 * In a command handler: send an intermediate reply ("334 VXNlcm5hbWU6",
 * a 3xx) at once and read the client's next line into buf (without the
 * CRLF, NUL-terminated), waiting timeouts.command.  Returns the line's
 * length, or -1: the line was longer than size - 1 bytes (it is read and
 * dropped), the reply is not a 3xx, or the client went away or was too
 * slow (the session is then closing: return PSMTPD_DISCONNECT).
 */
int psmtpd_ask(psmtpd_session *s, char *buf, size_t size, const char *fmt,
    ...) PSMTPD_PRINTF(4, 5);

/* ---- per-plugin data ------------------------------------------------ */

/* Data of the calling plugin for this connection; free_fn (may be NULL)
 * is called at disconnect or when replaced. */
void psmtpd_session_set_data(psmtpd_session *s, void *data,
    void (*free_fn)(void *));
void *psmtpd_session_get_data(const psmtpd_session *s);
/* The same for the current transaction: freed at RSET, at a new HELO/EHLO,
 * after the message is handled, and at disconnect. */
void psmtpd_txn_set_data(psmtpd_session *s, void *data,
    void (*free_fn)(void *));
void *psmtpd_txn_get_data(const psmtpd_session *s);

/* ---- logging ---------------------------------------------------------- */

/* Through the server's logger (stderr or syslog); session lines carry the
 * session id, the client and the plugin's name. */
void psmtpd_log(enum psmtpd_log_level level, const char *fmt, ...)
    PSMTPD_PRINTF(2, 3);
void psmtpd_session_log(const psmtpd_session *s, enum psmtpd_log_level level,
    const char *fmt, ...) PSMTPD_PRINTF(3, 4);

/* ---- API 2: verbs named at init, writes to the session ---------------- */

/*
 * API 2.  During init: add a verb, as an entry of `commands` would, for a
 * plugin that learns its verbs only at init (the Python host reads them
 * from a channel_class).  cmd and its strings must stay valid until fini.
 * 0, or -1 when the verb is not 1 to 32 upper-case letters and digits,
 * has no handler, or too many were added (the error is recorded).
 */
int psmtpd_init_command(psmtpd_init *ctx, const struct psmtpd_command *cmd);

/*
 * API 2.  In a command handler: set the session's state as a Python
 * SMTPChannel subclass does by assignment.  Each returns 0, or -1 for a
 * value the channel would not accept from a client (a CR or LF, too long,
 * too many recipients) or when out of memory; the state is then unchanged.
 */
/* mailfrom; NULL: no MAIL in effect (its options are dropped too). */
int psmtpd_session_set_mailfrom(psmtpd_session *s, const char *mailfrom);
/* rcpttos, replaced by these n addresses. */
int psmtpd_session_set_rcpttos(psmtpd_session *s, const char *const *rcpts,
    size_t n);
/* seen_greeting and extended_smtp ("" : no greeting).  After EHLO the MAIL
 * line may be longer, as the built-in EHLO allows. */
int psmtpd_session_set_greeting(psmtpd_session *s, const char *greeting,
    int extended);
/* smtp_state.  DATA (which needs a mailfrom and a recipient) makes the
 * channel receive a message after the handler's reply, as after 354. */
int psmtpd_session_set_state(psmtpd_session *s, enum psmtpd_smtp_state state);

/*
 * API 2.  During init: the server as python -m smtpd gave it to an
 * SMTPServer's constructor, and (for the Python host) the settings the
 * constructor chose, which then are this generation's: as Python's
 * handle_accepted handed them to every channel.
 */
struct psmtpd_smtpd_settings {
	const char *localaddr;		/* the first listen address */
	long long data_size_limit;	/* 0: no limit */
	int enable_smtputf8;
	int decode_data;
};
void psmtpd_init_smtpd_settings(const psmtpd_init *ctx,
    struct psmtpd_smtpd_settings *out);
/* -1 (and an error recorded) when both enable_smtputf8 and decode_data
 * are set or the limit is negative. */
int psmtpd_init_set_smtpd_settings(psmtpd_init *ctx,
    long long data_size_limit, int enable_smtputf8, int decode_data);
/* API 2.  In a child process that init forked: become the workers' user
 * and group, as a worker does (nothing with -n).  0, or -1 with errno. */
int psmtpd_init_drop_privileges(const psmtpd_init *ctx);

#ifdef __cplusplus
}
#endif

#endif /* PSMTPD_PLUGIN_H */

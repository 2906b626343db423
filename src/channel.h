/*
 * channel.h - one SMTP session, the C form of smtpd.SMTPChannel.
 *
 * The channel reads commands from a connected socket, answers them as
 * Python 3.11's smtpd does, runs the plugin chain, and returns when the
 * session ends.  It knows nothing of processes: the caller (a worker)
 * accepts, calls channel_serve(), closes.  What the caller wants to know
 * about progress (for the scoreboard) comes through an observer.
 */
#ifndef PSMTPD_CHANNEL_H
#define PSMTPD_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct plugin_set;
struct tls_server;
struct config_listener;
struct psmtpd_session;

struct channel_params {
	/* The listener the connection came in on: its TLS, PROXY and
	 * protocol settings.  NULL: plain SMTP with the global settings. */
	const struct config_listener *listener;
	const char *fqdn;		/* announced host name */
	const char *remote;		/* remoteaddr "host:port" */
	const char *version_text;	/* greeting text after the fqdn */
	unsigned long long data_size_limit;	/* 0: none (no SIZE) */
	unsigned long long max_message_size;	/* hard cap, always set */
	size_t command_size_limit;		/* 512 */
	bool enable_smtputf8;
	bool decode_data;
	int timeout_command;	/* seconds; 0 = none */
	int timeout_data;
	int timeout_session;
	size_t max_recipients;	/* 0: none */
	unsigned max_errors;	/* 0: none */
	/* Stress mode (io.h's io_limit): the word the master sets, NULL for
	 * none, and the limits that then apply (0: the normal one). */
	const volatile long long *stress;
	int stress_command;
	int stress_data;
	unsigned stress_max_errors;
	bool trace;		/* log every command and reply (-d) */
	struct tls_server *tls;	/* the generation's; NULL: no TLS */
	int tls_handshake_timeout;	/* seconds; 0 = none */
	int auth_mechanisms;	/* CONFIG_AUTH_* */
	bool auth_require_tls;	/* AUTH only under TLS */
	int auth_failure_delay;	/* seconds before a 535 */
	const char *spool_dir;	/* messages past the limit: NULL default */
	size_t spool_memory_limit;	/* bytes kept in memory (262144) */
	bool reply_queue_id;	/* "250 OK queued as <msgid>" */
	bool received_header;	/* a Received: header on every message */
	struct channel_esmtp {	/* the extensions switched on */
		bool pipelining;
		bool enhanced_status_codes;
		bool chunking;
		bool dsn;
	} esmtp;
};

/* What the channel is doing, for whoever watches (the scoreboard). */
enum channel_phase {
	CHANNEL_PHASE_GREETING,	/* connected, before the 220 */
	CHANNEL_PHASE_COMMAND,	/* waiting for or handling a command */
	CHANNEL_PHASE_DATA,	/* receiving a message */
	CHANNEL_PHASE_PLUGIN,	/* in a plugin hook; detail = plugin name */
	CHANNEL_PHASE_CLOSING
};

struct channel_observer {
	void (*phase)(void *arg, enum channel_phase phase, const char *detail);
	void *arg;
	/* A message was answered: 2xx (accepted) or not.  May be NULL. */
	void (*message)(void *arg, bool accepted);
};

/* Why a session ended, for the caller's log line. */
enum channel_end {
	CHANNEL_END_QUIT,	/* 221 sent */
	CHANNEL_END_EOF,	/* client closed */
	CHANNEL_END_TIMEOUT,
	CHANNEL_END_ERROR,	/* I/O error */
	CHANNEL_END_ERRORS,	/* too many errors */
	CHANNEL_END_PLUGIN,	/* a plugin closed it */
	CHANNEL_END_SHUTDOWN	/* the caller asked (stop flag) */
};

/*
 * Serve one connection to its end.  fd is left open.  stop, when not
 * NULL, is polled between commands: when it becomes non-zero the channel
 * answers "421 <fqdn> Service shutting down" and ends (graceful stop of a
 * worker; a session in DATA finishes its message first).
 */
/*
 * A worker's session memory (the I/O, line and message buffers), kept from
 * one connection to the next so that they are not allocated, zeroed and
 * faulted in again for every message (an idle worker with -c SinkServer
 * stays under 300 KiB of private memory after 100 KiB messages; a buffer
 * grown past 256 KiB is given back after its message).  channel_serve_kept
 * serves one connection in it; channel_serve is the same in memory of its
 * own.
 */
struct psmtpd_session *channel_keep_new(void);
void channel_keep_free(struct psmtpd_session *s);
enum channel_end channel_serve_kept(struct psmtpd_session *s,
    const struct channel_params *params,
    struct plugin_set *plugins, int fd, const struct sockaddr *peer,
    socklen_t peerlen, const struct channel_observer *obs,
    volatile const int *stop);
enum channel_end channel_serve(const struct channel_params *params,
    struct plugin_set *plugins, int fd, const struct sockaddr *peer,
    socklen_t peerlen, const struct channel_observer *obs,
    volatile const int *stop);

/* Send "421 <fqdn> <text>" on a connection that will not be served. */
void channel_refuse(const struct channel_params *params, int fd,
    const char *text);

const char *channel_end_name(enum channel_end end);

#endif

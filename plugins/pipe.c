/*
 * pipe.c - the pipe plugin: each message goes to a command's standard
 * input, like Postfix's pipe(8) or a .forward "|command".
 *
 * The command is an argv list, run without a shell.  In its arguments
 * "%s" is the sender, "%c" the client's address, "%%" a "%", and an
 * argument that is exactly "%r" becomes one argument per recipient.  The
 * envelope is in the environment too, which holds only: SENDER,
 * RECIPIENTS (space separated), CLIENT_ADDRESS, CLIENT_HELO, SESSION_ID and
 * PATH=/usr/local/bin:/usr/bin:/bin.  The message has "\n" line ends.
 *
 * The command runs in its own process group with a time limit; when the
 * limit passes the whole group is killed and the client gets 451.  Exit 0
 * is 250, EX_TEMPFAIL (75) or death by a signal 451, any other status 554.
 * What the command writes to stdout and stderr (the first 4 KiB) is logged.
 * Stdin and the output are served with poll(2), so a command that does not
 * read its input cannot block the worker, and SIGPIPE is held off.
 *
 * Settings: command (the first element an absolute path; default
 * ["/usr/sbin/sendmail", "-i", "-f", "%s", "--", "%r"], so that "-c pipe"
 * hands mail to the local MTA), timeout (seconds, default 120).
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <psmtpd/plugin.h>

#include "delivery_util.h"

#define PIPE_OUTPUT_MAX 4096
#define PIPE_EX_TEMPFAIL 75	/* sysexits.h */
#define PIPE_MAX_ARGS 256

struct pipe_conf {
	const char *argv[PIPE_MAX_ARGS];
	size_t argc;
	int timeout_ms;
};

/* One run of the command. */
struct pipe_run {
	pid_t pid;
	int in_fd, out_fd;
	const char *data;
	size_t len, pos;	/* what of data + "\n" is written */
	size_t total;		/* len + the final "\n" */
	int timed_out;
	int status;
	size_t out_len;
	char out[PIPE_OUTPUT_MAX];
};

/* pipe_check_arg - placeholders of one argument are known ones. */
static int
pipe_check_arg(psmtpd_init *ctx, const char *arg)
{
	for (const char *p = strchr(arg, '%'); p != NULL;
	    p = strchr(p + 2, '%')) {
		if (p[1] == 's' || p[1] == 'c' || p[1] == '%')
			continue;
		if (p[1] == 'r' && strcmp(arg, "%r") == 0)
			continue;
		psmtpd_init_error(ctx, "command", "bad placeholder in \"%s\" "
		    "(known: %%s, %%c, %%%%, and %%r as a whole argument)",
		    arg);
		return -1;
	}
	return 0;
}

/* pipe_check_program - the command is an absolute path we may run. */
static int
pipe_check_program(psmtpd_init *ctx, const struct pipe_conf *pc)
{
	if (pc->argv[0][0] != '/' || access(pc->argv[0], X_OK) != 0) {
		psmtpd_init_error(ctx, "command", "%s: %s", pc->argv[0],
		    pc->argv[0][0] != '/' ? "not an absolute path" :
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
pipe_read_command(psmtpd_init *ctx, struct pipe_conf *pc)
{
	size_t n;
	int r = psmtpd_setting_strings(ctx, "command", &n);

	if (r < 0)
		return -1;
	if (r == 0) {
		static const char *const dflt[] = { "/usr/sbin/sendmail",
		    "-i", "-f", "%s", "--", "%r" };
		pc->argc = sizeof(dflt) / sizeof(dflt[0]);
		memcpy(pc->argv, dflt, sizeof(dflt));
		return pipe_check_program(ctx, pc);
	}
	if (n == 0) {
		psmtpd_init_error(ctx, "command", "command must not be "
		    "empty");
		return -1;
	}
	if (n >= PIPE_MAX_ARGS) {
		psmtpd_init_error(ctx, "command", "command has more than %d "
		    "arguments", PIPE_MAX_ARGS - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		pc->argv[i] = psmtpd_setting_strings_at(ctx, "command", i);
		if (pc->argv[i] == NULL) {
			psmtpd_init_error(ctx, "command", "command must be a "
			    "list of strings");
			return -1;
		}
		if (pipe_check_arg(ctx, pc->argv[i]) != 0)
			return -1;
	}
	pc->argc = n;
	return pipe_check_program(ctx, pc);
}

static int
pipe_init(psmtpd_init *ctx, void **plugin_data)
{
	struct pipe_conf *pc = calloc(1, sizeof(*pc));
	long long timeout_s = 120;

	if (pc == NULL) {
		psmtpd_init_error(ctx, NULL, "out of memory");
		return -1;
	}
	int bad = pipe_read_command(ctx, pc) |
	    delivery_setting_range(ctx, "timeout", 1, 86400, &timeout_s);
	if (bad) {
		free(pc);
		return -1;
	}
	pc->timeout_ms = (int)timeout_s * 1000;
	*plugin_data = pc;
	return 0;
}

static void
pipe_fini(void *plugin_data)
{
	free(plugin_data);
}

/* ---- argv and environment --------------------------------------------- */

/* pipe_expand - one argument with %s, %c and %% replaced; malloc'd. */
static char *
pipe_expand(const char *arg, const char *sender, const char *client)
{
	size_t cap = strlen(arg) + 1, n = 0;

	for (const char *p = arg; *p != '\0'; p++)
		if (p[0] == '%' && p[1] != '\0')
			cap += strlen(sender) + strlen(client);
	char *out = malloc(cap);
	if (out == NULL)
		return NULL;
	for (const char *p = arg; *p != '\0'; p++) {
		const char *sub = NULL;
		if (p[0] == '%' && p[1] == 's')
			sub = sender;
		else if (p[0] == '%' && p[1] == 'c')
			sub = client;
		else if (p[0] == '%' && p[1] == '%')
			sub = "%";
		if (sub == NULL) {
			out[n++] = *p;
			continue;
		}
		memcpy(out + n, sub, strlen(sub));
		n += strlen(sub);
		p++;
	}
	out[n] = '\0';
	return out;
}

static void
pipe_free_vec(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* pipe_argv - the command's argv for this message; NULL on ENOMEM. */
static char **
pipe_argv(const struct pipe_conf *pc, const psmtpd_session *s)
{
	size_t nr = psmtpd_session_rcpt_count(s), n = 0;
	const char *from = psmtpd_session_mailfrom(s);
	const char *client = psmtpd_session_peer_addr(s);
	char **v = calloc(pc->argc * (nr + 1) + 1, sizeof(*v));

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < pc->argc; i++) {
		if (strcmp(pc->argv[i], "%r") == 0) {
			for (size_t j = 0; j < nr; j++)
				if ((v[n++] = strdup(psmtpd_session_rcpt(s,
				    j))) == NULL)
					goto fail;
			continue;
		}
		if ((v[n++] = pipe_expand(pc->argv[i], from != NULL ? from :
		    "", client != NULL ? client : "")) == NULL)
			goto fail;
	}
	return v;
fail:
	pipe_free_vec(v);
	return NULL;
}

/* pipe_env_add - "NAME=value" into v[*n]; -1 on ENOMEM. */
static int
pipe_env_add(char **v, size_t *n, const char *name, const char *value)
{
	if (asprintf(&v[*n], "%s=%s", name, value != NULL ? value : "") < 0) {
		v[*n] = NULL;
		return -1;
	}
	(*n)++;
	return 0;
}

/* pipe_env - the command's whole environment; NULL on ENOMEM. */
static char **
pipe_env(const psmtpd_session *s)
{
	size_t nr = psmtpd_session_rcpt_count(s), size = 1, n = 0;
	char **v = calloc(8, sizeof(*v));

	for (size_t i = 0; i < nr; i++)
		size += strlen(psmtpd_session_rcpt(s, i)) + 1;
	char *rcpts = malloc(size);
	if (v == NULL || rcpts == NULL)
		goto fail;
	rcpts[0] = '\0';
	for (size_t i = 0; i < nr; i++) {
		if (i > 0)
			strcat(rcpts, " ");
		strcat(rcpts, psmtpd_session_rcpt(s, i));
	}
	if (pipe_env_add(v, &n, "PATH", "/usr/local/bin:/usr/bin:/bin") ||
	    pipe_env_add(v, &n, "SENDER", psmtpd_session_mailfrom(s)) ||
	    pipe_env_add(v, &n, "RECIPIENTS", rcpts) ||
	    pipe_env_add(v, &n, "CLIENT_ADDRESS",
	    psmtpd_session_peer_addr(s)) ||
	    pipe_env_add(v, &n, "CLIENT_HELO", psmtpd_session_greeting(s)) ||
	    pipe_env_add(v, &n, "SESSION_ID", psmtpd_session_id(s)))
		goto fail;
	free(rcpts);
	return v;
fail:
	free(rcpts);
	pipe_free_vec(v);
	return NULL;
}

/* ---- running it ---------------------------------------------------------- */

/* pipe_child - in the child: stdin from the pipe, stdout and stderr to the
 * output pipe, default signals, its own process group, exec. */
static void __attribute__((noreturn))
pipe_child(int in[2], int out[2], char **argv, char **envp, pid_t worker)
{
	sigset_t none;

	setpgid(0, 0);
#ifdef PR_SET_PDEATHSIG
	/* Dies with the worker: a worker killed at the end of a stop (or
	 * by anyone) leaves no command running under init.  (A set-id
	 * program that it execs loses this; its own children are its
	 * business.) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != worker)
		_exit(PIPE_EX_TEMPFAIL);
#else
	(void)worker;
#endif
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
		_exit(PIPE_EX_TEMPFAIL);
	/* Everything else of the worker (client socket, listeners) stays
	 * out of the command's reach. */
	closefrom(3);
	execve(argv[0], argv, envp);
	dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(PIPE_EX_TEMPFAIL);
}

/* pipe_spawn - start the command; 0, or -1 with errno. */
static int
pipe_spawn(struct pipe_run *run, char **argv, char **envp)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0) {
		int err = errno;
		close(in[0]);
		close(in[1]);
		errno = err;
		return -1;
	}
	pid_t worker = getpid();

	run->pid = fork();
	if (run->pid == 0)
		pipe_child(in, out, argv, envp, worker);
	int err = errno;
	close(in[0]);
	close(out[1]);
	run->in_fd = in[1];
	run->out_fd = out[0];
	if (run->pid < 0) {
		close(in[1]);
		close(out[0]);
		errno = err;
		return -1;
	}
	/* Also here: kill(-pid) must find the group even if the child has
	 * not run yet. */
	setpgid(run->pid, run->pid);
	fcntl(run->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(run->out_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

/* pipe_feed - write what the pipe takes now; closes stdin when done or
 * when the command is gone (EPIPE: its exit status will tell). */
static void
pipe_feed(struct pipe_run *run)
{
	for (int i = 0; i < 64 && run->in_fd >= 0; i++) {
		const char *p = run->pos < run->len ? run->data + run->pos :
		    "\n";
		size_t n = run->pos < run->len ? run->len - run->pos : 1;
		if (run->pos >= run->total) {
			close(run->in_fd);
			run->in_fd = -1;
			return;
		}
		ssize_t w = write(run->in_fd, p, n > 65536 ? 65536 : n);
		if (w > 0) {
			run->pos += (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		close(run->in_fd);
		run->in_fd = -1;
	}
}

/* pipe_drain - read what the command wrote; keep the first bytes only. */
static void
pipe_drain(struct pipe_run *run)
{
	char buf[4096];

	for (int i = 0; i < 64; i++) {
		ssize_t r = read(run->out_fd, buf, sizeof(buf));
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			close(run->out_fd);
			run->out_fd = -1;
			return;
		}
		size_t room = sizeof(run->out) - run->out_len;
		size_t k = (size_t)r < room ? (size_t)r : room;
		memcpy(run->out + run->out_len, buf, k);
		run->out_len += k;
	}
}

/* pipe_pump - serve stdin and the output until both are done or the
 * deadline passes. */
static void
pipe_pump(struct pipe_run *run, long long deadline)
{
	while (run->in_fd >= 0 || run->out_fd >= 0) {
		struct pollfd pfd[2] = {
			{ .fd = run->in_fd, .events = POLLOUT },
			{ .fd = run->out_fd, .events = POLLIN },
		};
		int left = delivery_ms_left(deadline);
		if (left == 0) {
			run->timed_out = 1;
			return;
		}
		int n = poll(pfd, 2, left);
		if (n < 0 && errno != EINTR)
			return;
		if (n <= 0)
			continue;
		if (run->in_fd >= 0 && pfd[0].revents != 0)
			pipe_feed(run);
		if (run->out_fd >= 0 && pfd[1].revents != 0)
			pipe_drain(run);
	}
}

/* pipe_reap - the command's exit status, waiting until the deadline; then
 * its whole process group is killed. */
static void
pipe_reap(struct pipe_run *run, long long deadline)
{
	struct timespec tick = { 0, 10 * 1000000 };

	while (!run->timed_out) {
		pid_t r = waitpid(run->pid, &run->status, WNOHANG);
		if (r == run->pid)
			return;
		if (r < 0 && errno != EINTR)
			break;
		if (delivery_ms_left(deadline) == 0)
			run->timed_out = 1;
		else
			nanosleep(&tick, NULL);
	}
	kill(-run->pid, SIGKILL);
	kill(run->pid, SIGKILL);
	while (waitpid(run->pid, &run->status, 0) < 0 && errno == EINTR)
		;
}

/*
 * pipe_run_command - spawn, feed, collect, reap.  SIGPIPE is blocked
 * meanwhile (a command that exits early must not kill the worker), and
 * SIGCHLD set to default so that waitpid sees the exit status even when
 * the server ignores SIGCHLD.  0, or -1 with errno when it did not start.
 */
static int
pipe_run_command(const struct pipe_conf *pc, struct pipe_run *run,
    char **argv, char **envp)
{
	sigset_t pipeset, old;
	struct sigaction dfl = { .sa_handler = SIG_DFL }, oldchld;
	struct timespec zero = { 0, 0 };

	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipeset, &old);
	sigaction(SIGCHLD, &dfl, &oldchld);
	long long deadline = delivery_now_ms() + pc->timeout_ms;
	int r = pipe_spawn(run, argv, envp);
	int err = errno;
	if (r == 0) {
		pipe_pump(run, deadline);
		pipe_reap(run, deadline);
		if (run->in_fd >= 0)
			close(run->in_fd);
		if (run->out_fd >= 0)
			close(run->out_fd);
	}
	while (sigtimedwait(&pipeset, NULL, &zero) > 0)
		;
	sigaction(SIGCHLD, &oldchld, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return r;
}

/* pipe_reply - the client's answer from how the command ended. */
static enum psmtpd_result
pipe_reply(psmtpd_session *s, const struct pipe_run *run, const char *cmd)
{
	char out[PIPE_OUTPUT_MAX + 1];
	int code = 0;

	size_t olen = run->out_len;

	/* The command's last line end says nothing. */
	while (olen > 0 && (run->out[olen - 1] == '\n' ||
	    run->out[olen - 1] == '\r'))
		olen--;
	delivery_sanitize(out, sizeof(out), run->out, olen);
	if (run->timed_out)
		psmtpd_reply(s, "451 4.3.0 Error: delivery command timed out");
	else if (WIFSIGNALED(run->status))
		psmtpd_reply(s, "451 4.3.0 Error: delivery command killed by "
		    "signal %d", WTERMSIG(run->status));
	else if ((code = WEXITSTATUS(run->status)) == PIPE_EX_TEMPFAIL)
		psmtpd_reply(s, "451 4.3.0 Error: delivery command failed "
		    "temporarily (exit %d)", code);
	else if (code != 0)
		psmtpd_reply(s, "554 5.3.0 Error: delivery command failed "
		    "(exit %d)", code);
	int ok = !run->timed_out && WIFEXITED(run->status) && code == 0;
	psmtpd_session_log(s, ok ? PSMTPD_LOG_INFO : PSMTPD_LOG_WARNING,
	    "pipe %s command=%s status=%s%d size=%zu output=\"%s\"",
	    ok ? "delivered" : "not delivered", cmd,
	    run->timed_out ? "timeout/" : WIFSIGNALED(run->status) ?
	    "signal/" : "exit/", WIFSIGNALED(run->status) ?
	    WTERMSIG(run->status) : code, run->len, out);
	return ok ? PSMTPD_CONTINUE : PSMTPD_REPLY;
}

static enum psmtpd_result
pipe_process_message(psmtpd_session *s, void *plugin_data)
{
	const struct pipe_conf *pc = plugin_data;
	struct pipe_run *run = calloc(1, sizeof(*run));
	char **argv = pipe_argv(pc, s), **envp = pipe_env(s);
	enum psmtpd_result res;

	if (run == NULL || argv == NULL || envp == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	run->data = psmtpd_message_data(s, &run->len);
	run->total = run->len + (run->len > 0);
	if (pipe_run_command(pc, run, argv, envp) != 0)
		goto fail;
	res = pipe_reply(s, run, pc->argv[0]);
	goto done;
fail:
	psmtpd_session_log(s, PSMTPD_LOG_WARNING, "pipe not delivered "
	    "command=%s error=\"%s\"", pc->argv[0], strerror(errno));
	psmtpd_reply(s, "451 4.3.0 Error: cannot run the delivery command");
	res = PSMTPD_REPLY;
done:
	free(run);
	pipe_free_vec(argv);
	pipe_free_vec(envp);
	return res;
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "pipe",
	.version = "1.0",
	.description = "pipe each message to a command",
	.init = pipe_init,
	.fini = pipe_fini,
	.process_message = pipe_process_message,
};

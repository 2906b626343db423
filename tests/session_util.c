/*
 * session_util.c - helpers of the channel tests.
 */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "tests/session_util.h"

void
su_buf_put(struct su_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL)
			abort();
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
su_buf_puts(struct su_buf *b, const char *s)
{
	su_buf_put(b, s, strlen(s));
}

void
su_escape(struct su_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		if (c == '\\')
			su_buf_puts(b, "\\\\");
		else if (c >= 0x20 && c < 0x7f)
			su_buf_put(b, (const char *)&c, 1);
		else if (c == '\n')
			su_buf_puts(b, "\\n");
		else if (c == '\r')
			su_buf_puts(b, "\\r");
		else {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			su_buf_puts(b, esc);
		}
	}
	if (b->p == NULL)
		su_buf_put(b, "", 0);
}

char *
su_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct su_buf b = { 0 };
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		su_buf_put(&b, chunk, n);
	fclose(f);
	su_buf_put(&b, "", 0);
	return b.p;
}

/* su_unescape - a transcript line to bytes. */
static void
su_unescape(struct su_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			su_buf_put(b, s + i, 1);
			continue;
		}
		char c = s[++i], v;
		if (c == 'x' && i + 2 < n + 1) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			v = (char)strtol(hex, NULL, 16);
			i += 2;
		} else
			v = c == 'r' ? '\r' : c == 'n' ? '\n' : c == 't' ?
			    '\t' : c;
		su_buf_put(b, &v, 1);
	}
}

/* su_option - "key=value" of the options line. */
static void
su_option(struct su_options *o, const char *kv)
{
	const char *eq = strchr(kv, '=');
	long long v = eq ? strtoll(eq + 1, NULL, 10) : 0;

	if (strncmp(kv, "data_size_limit=", 16) == 0)
		o->data_size_limit = v;
	else if (strncmp(kv, "decode_data=", 12) == 0)
		o->decode_data = v != 0;
	else if (strncmp(kv, "enable_SMTPUTF8=", 16) == 0)
		o->enable_smtputf8 = v != 0;
	else if (strncmp(kv, "esmtp.pipelining=", 17) == 0)
		o->esmtp.pipelining = v != 0;
	else if (strncmp(kv, "esmtp.enhanced_status_codes=", 28) == 0)
		o->esmtp.enhanced_status_codes = v != 0;
	else if (strncmp(kv, "esmtp.chunking=", 15) == 0)
		o->esmtp.chunking = v != 0;
	else if (strncmp(kv, "esmtp.dsn=", 10) == 0)
		o->esmtp.dsn = v != 0;
	else if (strncmp(kv, "lmtp=", 5) == 0)
		o->lmtp = v != 0;
}

int
su_read_session(const char *path, struct su_session *ss)
{
	char *text = su_read_file(path);
	struct su_buf b = { 0 };

	if (text == NULL)
		return -1;
	ss->opts = (struct su_options){ .data_size_limit = 33554432 };
	for (char *line = text, *next; line != NULL && *line != '\0';
	    line = next) {
		char *nl = strchr(line, '\n');
		next = nl ? nl + 1 : NULL;
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		if (strncmp(line, "# options:", 10) == 0) {
			line[n] = '\0';
			for (char *kv = strtok(line + 10, " "); kv != NULL;
			    kv = strtok(NULL, " "))
				su_option(&ss->opts, kv);
			continue;
		}
		if (line[0] == '#')
			continue;
		bool cont = n >= 2 && line[n - 2] == '\\' && line[n - 1] == 'c';
		su_unescape(&b, line, cont ? n - 2 : n);
		if (!cont)
			su_buf_put(&b, "\r\n", 2);
	}
	free(text);
	su_buf_put(&b, "", 0);
	ss->payload = b.p;
	ss->len = b.len;
	return 0;
}

static const struct config_listener su_lmtp_listener = {
	.address = (char *)"127.0.0.1:24",
	.protocol = CONFIG_PROTOCOL_LMTP,
};

struct channel_params
su_params(const struct su_options *o)
{
	return (struct channel_params){
		.fqdn = "FQDN",
		.remote = "localhost:25",
		.version_text = "psmtpd test",
		.data_size_limit = (unsigned long long)o->data_size_limit,
		.max_message_size = 1 << 30,
		.command_size_limit = 512,
		.enable_smtputf8 = o->enable_smtputf8,
		.decode_data = o->decode_data,
		.timeout_command = 10,
		.timeout_data = 10,
		.max_recipients = 1000,
		.max_errors = 0,
		.esmtp = o->esmtp,
		.listener = o->lmtp ? &su_lmtp_listener : NULL,
		.spool_memory_limit = 262144,
	};
}

int
su_exchange(int fd, const char *out, size_t len, struct su_buf *in,
    int timeout)
{
	time_t end = time(NULL) + timeout;
	size_t off = 0;
	bool wr_done = len == 0;

	if (wr_done)
		shutdown(fd, SHUT_WR);
	while (time(NULL) <= end) {
		struct pollfd p = { .fd = fd, .events = POLLIN |
		    (wr_done ? 0 : POLLOUT) };
		if (poll(&p, 1, 1000) < 0 && errno != EINTR)
			return -1;
		if (!wr_done && (p.revents & POLLOUT)) {
			ssize_t w = send(fd, out + off, len - off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				wr_done = true;	/* the server closed */
			if (off == len) {
				wr_done = true;
				shutdown(fd, SHUT_WR);
			}
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			char chunk[65536];
			ssize_t r = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN &&
			    errno != EINTR))
				return 0;
			if (r > 0)
				su_buf_put(in, chunk, (size_t)r);
		}
	}
	return -1;
}

char *
su_normalize(const struct su_buf *replies, int record_fd)
{
	struct su_buf b = { 0 };
	const char *p = replies->p ? replies->p : "";
	const char *end = p + replies->len;
	bool first = true;

	while (p < end) {
		const char *crlf = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t n = crlf ? (size_t)(crlf - p) : (size_t)(end - p);
		if (first && n >= 4 && strncmp(p, "220 ", 4) == 0)
			su_buf_puts(&b, "220 FQDN GREETING");
		else
			su_escape(&b, p, n);
		su_buf_puts(&b, "\n");
		first = false;
		p += n + (crlf ? 2 : 0);
	}
	char chunk[4096];
	ssize_t r;
	lseek(record_fd, 0, SEEK_SET);
	while ((r = read(record_fd, chunk, sizeof(chunk))) > 0)
		su_buf_put(&b, chunk, (size_t)r);
	su_buf_put(&b, "", 0);
	return b.p;
}

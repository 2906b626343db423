/*
 * io.c - buffered blocking I/O with poll timeouts.
 */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "tls.h"

void
io_init(struct io *io, int fd)
{
	io->fd = fd;
	io->tls = NULL;
	io->rpos = io->rlen = 0;
	io->wlen = 0;
	io->write_failed = false;
	io->read_ms = io->record_ms = 0;
	io->rcvtimeo_ms = 0;	/* a new socket's: none */
}

bool
io_pending(const struct io *io)
{
	return io->rpos < io->rlen;
}

long long
io_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
io_deadline(int timeout)
{
	return timeout > 0 ? io_now_ms() + (long long)timeout * 1000 : 0;
}

long long
io_deadline_min(long long a, long long b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

int
io_seconds_left(long long deadline)
{
	if (deadline == 0)
		return INT32_MAX;
	long long left = deadline - io_now_ms();
	if (left <= 0)
		return 0;
	return left / 1000 >= INT32_MAX ? INT32_MAX : (int)((left + 999) / 1000);
}

/* io_wait - poll one event until the deadline (0: forever). */
static enum io_status
io_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ms = -1;

	if (deadline != 0) {
		long long left = deadline - io_now_ms();
		if (left <= 0)
			return IO_TIMEOUT;
		ms = left > INT32_MAX ? INT32_MAX : (int)left;
	}

	int n = poll(&pfd, 1, ms);
	if (n < 0)
		return errno == EINTR ? IO_INTR : IO_ERROR;
	if (n == 0)
		return IO_TIMEOUT;
	return IO_OK;
}

static long long
io_min_nonzero(long long a, long long b)
{
	return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

long long
io_limit_deadline(const struct io_limit *l, long long idle_start,
    long long record_start, long long since)
{
	long long d = l->timeout > 0 ?
	    idle_start + (long long)l->timeout * 1000 : 0;

	if (since != 0 && l->stress_timeout > 0) {
		long long from = record_start > since ? record_start : since;

		d = io_min_nonzero(d, from + (long long)l->stress_timeout *
		    1000);
	}
	return io_min_nonzero(d, l->hard);
}

/* IO_STRESS_SLICE_MS: while stress mode may begin, a wait wakes this
 * often to look at the shared word (the master sends no signal). */
#define IO_STRESS_SLICE_MS 1000

/* io_slice - the end of the next wait under a limit whose deadline moves
 * with stress mode: the deadline as it now is (into *d), cut to a slice
 * while stress mode may begin. */
static long long
io_slice(const struct io_limit *l, long long idle_start,
    long long record_start, long long *d)
{
	long long since = l->stress != NULL ?
	    __atomic_load_n(l->stress, __ATOMIC_ACQUIRE) : 0;

	*d = io_limit_deadline(l, idle_start, record_start, since);
	if (l->stress == NULL)
		return *d;
	return io_min_nonzero(*d, io_now_ms() + IO_STRESS_SLICE_MS);
}

enum io_status
io_poll(int fd, short events, long long deadline)
{
	return io_wait(fd, events, deadline);
}

/* io_wait_limit - wait for input (events: POLLIN, or POLLOUT when TLS
 * must write to read) under a limit whose deadline moves with stress
 * mode: in slices, each time with the deadline as it now is. */
static enum io_status
io_wait_limit(int fd, short events, const struct io_limit *l,
    long long idle_start, long long record_start)
{
	for (;;) {
		long long d, slice = io_slice(l, idle_start, record_start, &d);
		if (l->stop != NULL && *l->stop)
			return IO_INTR;
		enum io_status st = io_wait(fd, events, slice);
		if (st != IO_TIMEOUT || (d != 0 && slice >= d))
			return st;
	}
}

/* io_send - one non-blocking send, on the socket or through TLS; with
 * EAGAIN, *events is what to wait for. */
static ssize_t
io_send(struct io *io, const char *buf, size_t len, short *events)
{
	*events = POLLOUT;
	if (io->tls != NULL)
		return tls_conn_send(io->tls, buf, len, events);
	return send(io->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* io_recv - the same for reading. */
static ssize_t
io_recv(struct io *io, char *buf, size_t len, short *events)
{
	*events = POLLIN;
	if (io->tls != NULL)
		return tls_conn_recv(io->tls, buf, len, events);
	return recv(io->fd, buf, len, MSG_DONTWAIT);
}

/* IO_RCVTIMEO_SLACK_MS: a receive timeout set earlier is kept while it
 * overshoots the wait by no more than this (one setsockopt per change of
 * timeout, not per read). */
#define IO_RCVTIMEO_SLACK_MS 100

/* io_rcvtimeo - the socket's receive timeout for a wait of ms (0:
 * forever); false when it cannot be set. */
static bool
io_rcvtimeo(struct io *io, long long ms)
{
	if (ms == io->rcvtimeo_ms || (ms > 0 && io->rcvtimeo_ms > ms &&
	    io->rcvtimeo_ms - ms <= IO_RCVTIMEO_SLACK_MS))
		return true;
	struct timeval tv = { .tv_sec = ms / 1000,
	    .tv_usec = (ms % 1000) * 1000 };
	if (setsockopt(io->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		return false;
	io->rcvtimeo_ms = ms;
	return true;
}

/*
 * io_recv_limit - a read that waits in the kernel, bounded by SO_RCVTIMEO
 * at the end of the next slice: one system call per wait where recv
 * (EAGAIN), poll and recv were three.  -1 with EAGAIN when the slice is
 * over (or the socket is non-blocking): io_wait_limit then tells.
 * Through TLS, a non-blocking read as before.
 */
static ssize_t
io_recv_limit(struct io *io, const struct io_limit *l, long long idle_start,
    long long record_start, short *events)
{
	long long d, slice = io_slice(l, idle_start, record_start, &d);
	long long left = slice != 0 ? slice - io_now_ms() : 0;

	if (io->tls != NULL)	/* TLS may need to write to read */
		return io_recv(io, io->rbuf, sizeof(io->rbuf), events);
	*events = POLLIN;
	if (slice != 0 && left <= 0) {
		errno = EAGAIN;
		return -1;
	}
	if (!io_rcvtimeo(io, left))
		return recv(io->fd, io->rbuf, sizeof(io->rbuf), MSG_DONTWAIT);
	return recv(io->fd, io->rbuf, sizeof(io->rbuf), 0);
}

enum io_status
io_flush(struct io *io, int timeout)
{
	long long deadline = io_deadline(timeout);
	size_t off = 0;
	short events;

	if (io->write_failed)
		return IO_ERROR;
	while (off < io->wlen) {
		ssize_t n = io_send(io, io->wbuf + off, io->wlen - off,
		    &events);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			io->write_failed = true;
			return IO_ERROR;
		}
		enum io_status st = io_wait(io->fd, events, deadline);
		if (st == IO_INTR)
			continue;	/* a reply in flight is finished anyway */
		if (st != IO_OK) {
			io->write_failed = true;
			return st;
		}
	}
	io->wlen = 0;
	return IO_OK;
}

enum io_status
io_write(struct io *io, const char *buf, size_t len, int timeout)
{
	while (len > 0) {
		if (io->wlen == sizeof(io->wbuf)) {
			enum io_status st = io_flush(io, timeout);
			if (st != IO_OK)
				return st;
		}
		size_t room = sizeof(io->wbuf) - io->wlen;
		size_t n = len < room ? len : room;
		memcpy(io->wbuf + io->wlen, buf, n);
		io->wlen += n;
		buf += n;
		len -= n;
	}
	return IO_OK;
}

/* io_fill_limited - make input available under a limit (flushing the
 * replies first); with track, note when input and line ends arrive. */
static enum io_status
io_fill_limited(struct io *io, int write_timeout, const struct io_limit *l,
    long long idle_start, long long record_start, bool track)
{
	if (io_pending(io))
		return IO_OK;
	enum io_status st = io_flush(io, write_timeout);
	short events;
	if (st != IO_OK)
		return st;
	io->rpos = io->rlen = 0;
	for (;;) {
		ssize_t n = io_recv_limit(io, l, idle_start, record_start,
		    &events);
		if (n > 0) {
			io->rlen = (size_t)n;
			if (track) {
				io->read_ms = io_now_ms();
				if (memchr(io->rbuf, '\n', (size_t)n) != NULL)
					io->record_ms = io->read_ms;
			}
			return IO_OK;
		}
		if (n == 0)
			return IO_EOF;
		if (errno == EINTR)
			return IO_INTR;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return IO_ERROR;
		st = io_wait_limit(io->fd, events, l, idle_start,
		    record_start);
		if (st != IO_OK)
			return st;
	}
}

void
io_mark(struct io *io)
{
	io->read_ms = io->record_ms = io_now_ms();
}

enum io_status
io_fill_record(struct io *io, int write_timeout, const struct io_limit *l)
{
	return io_fill_limited(io, write_timeout, l, io->read_ms,
	    io->record_ms, true);
}

const char *
io_peek(const struct io *io, size_t *avail)
{
	*avail = io->rlen - io->rpos;
	return io->rbuf + io->rpos;
}

void
io_consume(struct io *io, size_t n)
{
	io->rpos += n;
}

/* io_take - append up to the room left in line, count everything. */
static void
io_take(char *line, size_t cap, size_t *len, const char *src, size_t n)
{
	if (*len < cap) {
		size_t keep = cap - *len < n ? cap - *len : n;
		memcpy(line + *len, src, keep);
	}
	*len = SIZE_MAX - *len < n ? SIZE_MAX : *len + n;
}

enum io_status
io_read_line(struct io *io, char *line, size_t cap, size_t *len,
    int timeout)
{
	const struct io_limit l = { .timeout = timeout };

	return io_read_line_limit(io, line, cap, len, &l);
}

enum io_status
io_read_line_limit(struct io *io, char *line, size_t cap, size_t *len,
    const struct io_limit *l)
{
	bool cr = false;	/* the last byte taken was a CR */
	long long start = io_now_ms();	/* of the line: trickling bytes do
					 * not move its deadline */

	*len = 0;
	for (;;) {
		enum io_status st = io_fill_limited(io, l->timeout, l, start,
		    start, false);
		/* A signal between commands is the caller's to handle;
		 * inside a line, the line goes on. */
		if (st == IO_INTR && (*len > 0 || cr))
			continue;
		if (st != IO_OK) {
			line[*len < cap ? *len : cap] = '\0';
			return st;
		}
		size_t avail;
		const char *p = io_peek(io, &avail);
		if (cr && p[0] == '\n') {
			/* CRLF split across two reads */
			io_consume(io, 1);
			(*len)--;
			break;
		}
		const char *crlf = memmem(p, avail, "\r\n", 2);
		if (crlf != NULL) {
			io_take(line, cap, len, p, (size_t)(crlf - p));
			io_consume(io, (size_t)(crlf + 2 - p));
			break;
		}
		io_take(line, cap, len, p, avail);
		cr = p[avail - 1] == '\r';
		io_consume(io, avail);
	}
	line[*len < cap ? *len : cap] = '\0';
	return IO_OK;
}

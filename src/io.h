/*
 * io.h - buffered, blocking socket I/O with poll(2) timeouts.
 *
 * Reads fill a fixed buffer (never a byte at a time); replies collect in a
 * write buffer and go out when the reader is about to wait for input, so
 * that a pipelined batch of commands gets its replies in one write.
 */
#ifndef PSMTPD_IO_H
#define PSMTPD_IO_H

#include <stdbool.h>
#include <stddef.h>

#define IO_RBUF_SIZE 65536
#define IO_WBUF_SIZE 16384

enum io_status {
	IO_OK = 0,
	IO_EOF,		/* the peer closed */
	IO_TIMEOUT,
	IO_INTR,	/* a signal arrived while waiting */
	IO_ERROR	/* errno tells */
};

struct tls_conn;

struct io {
	int fd;
	struct tls_conn *tls;	/* once TLS is on: reads and writes go
				 * through it (tls.h); NULL: the socket */
	size_t rpos, rlen;	/* unread input is rbuf[rpos..rlen) */
	long long read_ms;	/* when input last arrived (io_fill_record) */
	long long record_ms;	/* when a line end last arrived */
	long long rcvtimeo_ms;	/* the socket's SO_RCVTIMEO (0: none) */
	size_t wlen;
	bool write_failed;
	char rbuf[IO_RBUF_SIZE];
	char wbuf[IO_WBUF_SIZE];
};

void io_init(struct io *io, int fd);

/* Unread input waits in the buffer. */
bool io_pending(const struct io *io);

/*
 * Read one line ending in CRLF into line (without the CRLF, NUL-terminated;
 * line has room for cap bytes plus the NUL).  A longer line is consumed to
 * its CRLF but only cap bytes are kept; *len is the true length, capped at
 * SIZE_MAX.  Flushes the replies before waiting.  timeout in seconds,
 * 0 for none.
 */
enum io_status io_read_line(struct io *io, char *line, size_t cap,
    size_t *len, int timeout);

/* A deadline timeout seconds from now on a monotonic clock; 0 for 0. */
long long io_deadline(int timeout);
/* The earlier of two deadlines, 0 meaning none. */
long long io_deadline_min(long long a, long long b);
/* Whole seconds until a deadline (at least 1 while it has not passed;
 * 0 when it has; INT_MAX-ish for none). */
int io_seconds_left(long long deadline);

/*
 * How long a read may wait.  Normally `timeout` (seconds) from the start
 * of the read; in stress mode (*stress is the monotonic ms when it began,
 * 0 while it is off, set by the master in shared memory) the shorter
 * `stress_timeout`, counted from the start of the record (a command line,
 * a line of DATA) or from the start of stress mode, whichever is later:
 * a deadline that bytes trickling in do not push back (Postfix's
 * smtpd_per_record_deadline).  `hard` is an absolute deadline (ms) that
 * always holds (the session's), 0 for none.
 */
struct io_limit {
	int timeout;		/* seconds; 0: none */
	int stress_timeout;	/* seconds; 0: the normal limit */
	const volatile long long *stress;	/* NULL: no stress mode */
	long long hard;
	/* A flag a signal handler sets (NULL: none): seen set when a
	 * slice of the wait ends, the read returns IO_INTR as if the
	 * signal had interrupted it (it may come just as a slice ends) */
	const volatile int *stop;
};

/* A monotonic clock in milliseconds. */
long long io_now_ms(void);
/* The deadline (ms, 0: none) of a read idle since idle_start, in a record
 * begun at record_start, stress mode on since `since` (0: off).  Pure. */
long long io_limit_deadline(const struct io_limit *l, long long idle_start,
    long long record_start, long long since);

/* io_read_line under a limit: the whole line within it. */
enum io_status io_read_line_limit(struct io *io, char *line, size_t cap,
    size_t *len, const struct io_limit *l);
/* The DATA phase: io_mark() as it begins, then io_fill_record() for
 * input: the normal limit is an idle timeout (from the last input), the
 * stress limit a deadline per line (from the last line end). */
void io_mark(struct io *io);
enum io_status io_fill_record(struct io *io, int write_timeout,
    const struct io_limit *l);

/* Wait for one poll event on fd until the deadline (0: forever). */
enum io_status io_poll(int fd, short events, long long deadline);

/* The unread input, and mark n bytes of it consumed. */
const char *io_peek(const struct io *io, size_t *avail);
void io_consume(struct io *io, size_t n);

/* Queue bytes for the peer; flushes when the buffer is full. */
enum io_status io_write(struct io *io, const char *buf, size_t len,
    int timeout);
enum io_status io_flush(struct io *io, int timeout);

#endif

/*
 * delivery_util.h - small helpers shared by the stock delivery plugins
 * (proxy, maildir, mbox, pipe).  Compiled into each of them; nothing here
 * is exported from a plugin (only psmtpd_plugin is).
 *
 * Only <psmtpd/plugin.h> and system headers: these are plain users of the
 * public plugin API.
 */
#ifndef PSMTPD_DELIVERY_UTIL_H
#define PSMTPD_DELIVERY_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#include <psmtpd/plugin.h>

/*
 * Where PureProxy inserts "X-Peer: <ip>": at the first empty line (the end
 * of the header), or, when there is none, after the last line.  Returns the
 * offset; *at_end is 1 in the second case, where the caller writes
 * "\nX-Peer: ip" at the end instead of "X-Peer: ip\n" at the offset.
 */
size_t delivery_header_end(const char *data, size_t len, int *at_end);

/* Read an integer setting in [min, max]; *out keeps its default when the
 * setting is absent.  0, or -1 with the error recorded. */
int delivery_setting_range(psmtpd_init *ctx, const char *key, long long min,
    long long max, long long *out);
/* Read a bool setting; *out keeps its default when absent.  0 or -1. */
int delivery_setting_flag(psmtpd_init *ctx, const char *key, int *out);
/* Read a string setting; a required one that is absent, or an empty one,
 * is an error.  0 or -1. */
int delivery_setting_text(psmtpd_init *ctx, const char *key, int required,
    const char **out);

/* The home directory of the server's user ($HOME when it is an absolute
 * path, else the password entry of the effective uid), and that user's
 * name: the defaults of maildir's dir and mbox's file.  0 or -1. */
int delivery_home(char *buf, size_t size);
int delivery_user(char *buf, size_t size);

/* Write all of buf to fd, retrying on EINTR and short writes.  0, or -1
 * with errno. */
int delivery_write_all(int fd, const void *buf, size_t len);

/* Copy text into dst (size > 0) with every byte that is not printable
 * ASCII replaced by '?', so that it is safe in a reply or a log line. */
void delivery_sanitize(char *dst, size_t size, const char *text, size_t len);

/* fsync(2) of a directory by path: a rename is durable only then. */
int delivery_fsync_dir(const char *path);

/* Milliseconds since an arbitrary point, on a monotonic clock. */
long long delivery_now_ms(void);
/* Milliseconds left until deadline (an absolute delivery_now_ms() value),
 * 0 when it is past; clamped to what poll(2) takes. */
int delivery_ms_left(long long deadline);

#endif

/*
 * fuzz_smtp_data.c - libFuzzer target for the DATA decoder (smtp_data.c).
 *
 * The decoder is resumable and byte-driven; the reference here is the
 * plain definition it must agree with: the message is everything before
 * the first "\r\n.\r\n" (or nothing when the input starts with ".\r\n"),
 * split on CRLF only, one leading dot removed from each line, joined
 * with "\n".  The input is fed in chunks whose sizes come from the fuzzer,
 * each into an output buffer of exactly the chunk's size, so ASan catches
 * a decoder that writes more than it reads.  Any divergence aborts.
 *
 * Input layout: byte 0 picks the size limit, byte 1 seeds the chunking,
 * the rest is the DATA stream.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_data.h"

/* Extra output room per call beyond the input's size: what smtp_data.h
 * promises (SMTP_DATA_SLACK, none when it does not say).  Build with
 * -DFD_SLACK=2 to look past a decoder that breaks the promise. */
#ifndef FD_SLACK
#ifdef SMTP_DATA_SLACK
#define FD_SLACK SMTP_DATA_SLACK
#else
#define FD_SLACK 0
#endif
#endif

#define FD_TERM "\r\n.\r\n"
#define FD_TERM_LEN 5

struct fd_ref {
	char *out;		/* the decoded message */
	size_t len;
	size_t end;		/* input bytes up to and including the end */
	unsigned long long raw;	/* bytes before the end marker */
};

/* fd_find_end - where the terminator starts (raw) and ends; false when
 * the input has none. */
static int
fd_find_end(const char *in, size_t n, size_t *raw, size_t *end)
{
	if (n >= 3 && memcmp(in, ".\r\n", 3) == 0) {
		*raw = 0;
		*end = 3;
		return 1;
	}
	for (size_t i = 0; i + FD_TERM_LEN <= n; i++) {
		if (memcmp(in + i, FD_TERM, FD_TERM_LEN) == 0) {
			*raw = i;
			*end = i + FD_TERM_LEN;
			return 1;
		}
	}
	return 0;
}

/* fd_reference - split, unstuff, join: the obvious implementation. */
static int
fd_reference(const char *in, size_t n, struct fd_ref *r)
{
	size_t raw, end;

	if (!fd_find_end(in, n, &raw, &end))
		return 0;
	r->out = malloc(raw + 1);
	if (r->out == NULL)
		abort();
	r->len = 0;
	r->end = end;
	r->raw = raw;
	for (size_t start = 0;;) {
		size_t stop = raw, next = 0;
		for (size_t i = start; i + 1 < raw; i++) {
			if (in[i] == '\r' && in[i + 1] == '\n') {
				stop = i;
				next = i + 2;
				break;
			}
		}
		if (start > 0)
			r->out[r->len++] = '\n';
		if (stop > start && in[start] == '.')
			start++;
		memcpy(r->out + r->len, in + start, stop - start);
		r->len += stop - start;
		if (stop == raw)
			break;
		start = next;
	}
	return 1;
}

struct fd_dec {
	struct smtp_data sd;
	char *out;
	size_t len, cap;
	size_t consumed;
};

/* fd_feed - one chunk, through an output buffer of exactly its size. */
static void
fd_feed(struct fd_dec *d, const char *in, size_t n)
{
	char *tmp = malloc(n + FD_SLACK > 0 ? n + FD_SLACK : 1);
	size_t produced = 0;

	if (tmp == NULL)
		abort();
	size_t used = smtp_data_feed(&d->sd, in, n, tmp, &produced);
	if (used > n || produced > used + FD_SLACK)
		abort();
	if (!d->sd.done && used != n)
		abort();
	if (d->len + produced > d->cap)
		abort();
	memcpy(d->out + d->len, tmp, produced);
	d->len += produced;
	d->consumed += used;
	free(tmp);
}

/* fd_run - the decoder over in, chunked by the bytes of seed. */
static void
fd_run(struct fd_dec *d, const char *in, size_t n, uint8_t seed)
{
	size_t off = 0;
	unsigned state = seed | 1u;

	while (off < n && !d->sd.done) {
		state = state * 1103515245u + 12345u;
		size_t chunk = seed == 0 ? n - off : 1 + (state >> 16) % 17;
		if (chunk > n - off)
			chunk = n - off;
		fd_feed(d, in + off, chunk);
		off += chunk;
	}
}

static void
fd_compare(const struct fd_dec *d, const struct fd_ref *r,
    unsigned long long limit)
{
	int too_big = limit != 0 && r->raw > limit;

	if (!d->sd.done || d->consumed != r->end)
		abort();
	if (smtp_data_too_big(&d->sd) != too_big)
		abort();
	if (too_big)
		return;		/* stored data is cut short: not compared */
	if (d->sd.raw != r->raw)
		abort();
	if (d->len != r->len || memcmp(d->out, r->out, r->len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned long long limits[] = { 0, 1, 5, 16, 64, 1000 };

	if (size < 2)
		return 0;
	unsigned long long limit = limits[data[0] % 6];
	uint8_t seed = data[1];
	size_t n = size - 2;
	/* Without an end marker, one is appended: the decoder must then
	 * finish exactly where the reference does. */
	char *in = malloc(n + FD_TERM_LEN);
	if (in == NULL)
		abort();
	memcpy(in, data + 2, n);
	size_t raw, end;
	if (!fd_find_end(in, n, &raw, &end)) {
		memcpy(in + n, FD_TERM, FD_TERM_LEN);
		n += FD_TERM_LEN;
	}
	struct fd_ref r;
	if (!fd_reference(in, n, &r))
		abort();
	struct fd_dec d = { .cap = n + 1 + FD_SLACK };
	d.out = malloc(d.cap);
	if (d.out == NULL)
		abort();
	smtp_data_init(&d.sd, limit);
	fd_run(&d, in, n, seed);
	fd_compare(&d, &r, limit);
	free(d.out);
	free(r.out);
	free(in);
	return 0;
}

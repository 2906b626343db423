/*
 * fuzz_proxy_proto.c - libFuzzer target for the PROXY protocol parser
 * (proxy_proto.c).  The input is the bytes a balancer (or an attacker)
 * sends first, copied into a buffer of exactly its size so that ASan
 * catches any read past it.  Beyond not crashing, the parser must keep
 * its promises, or the target aborts:
 * - OK: the header is at most PROXY_PROTO_MAX bytes (107 for v1), every
 *   strict prefix of it is AGAIN, and the header alone parses the same;
 * - AGAIN: fewer than PROXY_PROTO_MAX bytes were given (a caller never
 *   buffers more);
 * - INVALID: it says why, and one more byte does not change the verdict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_proto.h"

static void
fp_check_ok(const unsigned char *in, const struct proxy_proto *pp)
{
	struct proxy_proto again;

	if (pp->len > PROXY_PROTO_MAX || pp->len < 15 ||
	    (pp->version == 1 && pp->len > PROXY_PROTO_V1_MAX) ||
	    (!pp->local && pp->srclen == 0) || pp->error != NULL)
		abort();
	if (proxy_proto_parse(in, pp->len, &again) != PROXY_PROTO_OK ||
	    again.len != pp->len || again.local != pp->local ||
	    memcmp(&again.src, &pp->src, sizeof(pp->src)) != 0)
		abort();
	/* Every prefix up to 128 bytes, then a sample. */
	for (size_t n = 0; n < pp->len; n = n < 128 ? n + 1 : n * 2)
		if (proxy_proto_parse(in, n, &again) != PROXY_PROTO_AGAIN)
			abort();
	if (proxy_proto_parse(in, pp->len - 1, &again) != PROXY_PROTO_AGAIN)
		abort();
}

static void
fp_check_invalid(const unsigned char *in, size_t n,
    const struct proxy_proto *pp)
{
	struct proxy_proto more;
	unsigned char *longer = malloc(n + 1);

	if (pp->error == NULL || longer == NULL)
		abort();
	memcpy(longer, in, n);
	longer[n] = n > 0 ? in[n - 1] : 0;
	if (proxy_proto_parse(longer, n + 1, &more) != PROXY_PROTO_INVALID)
		abort();
	free(longer);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *in = malloc(size > 0 ? size : 1);
	struct proxy_proto pp;

	if (in == NULL)
		abort();
	memcpy(in, data, size);
	switch (proxy_proto_parse(in, size, &pp)) {
	case PROXY_PROTO_OK:
		fp_check_ok(in, &pp);
		break;
	case PROXY_PROTO_AGAIN:
		if (size >= PROXY_PROTO_MAX)
			abort();
		break;
	case PROXY_PROTO_INVALID:
		fp_check_invalid(in, size, &pp);
		break;
	}
	free(in);
	return 0;
}

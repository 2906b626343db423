/*
 * fuzz_milter_proto.c - libFuzzer target for the milter decoder
 * (plugins/milter/milter_proto.c): the input is a stream of packets as a
 * milter would send them.  Each framed packet's payload is copied into a
 * buffer of exactly its size, so ASan catches a decoder that reads past
 * it; every string a decoded reply points to must lie inside that buffer
 * and end there with its NUL; a decoded reply code must re-validate.
 * Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/milter/milter_proto.c"

static void
fm_inside(const char *s, const unsigned char *p, size_t n)
{
	if (s == NULL)
		return;
	const unsigned char *u = (const unsigned char *)s;
	if (u < p || u >= p + n || memchr(u, 0, (size_t)(p + n - u)) == NULL)
		abort();
}

static void
fm_check(const struct mp_response *r, const unsigned char *p, size_t n)
{
	fm_inside(r->name, p, n);
	fm_inside(r->value, p, n);
	fm_inside(r->addr, p, n);
	fm_inside(r->args, p, n);
	fm_inside(r->text, p, n);
	for (int i = 0; i < MP_M_COUNT; i++)
		fm_inside(r->symlist[i], p, n);
	if (r->code == MP_R_REPLYCODE && mp_reply_code(r->text) != r->smtp_code)
		abort();
	if (r->data != NULL && (r->data < p || r->data + r->len > p + n))
		abort();
	if (r->code == MP_R_OPTNEG) {
		struct mp_options o;
		const char *why;
		if (mp_negotiate(0x1ff, 0x1ff7ff, r, &o, &why) == MP_OK &&
		    (o.actions & ~0x1ffu) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t plen, psize;

	while (mp_frame(data, size, MP_PACKET_MAX, &plen, &psize) == MP_OK) {
		unsigned char *copy = malloc(plen ? plen : 1);
		struct mp_response r;
		if (copy == NULL)
			return 0;
		memcpy(copy, data + 5, plen);
		if (mp_decode(data[4], copy, plen, &r) == MP_OK)
			fm_check(&r, copy, plen);
		free(copy);
		data += psize;
		size -= psize;
	}
	return 0;
}

/*
 * smtpc_auth.c - AUTH PLAIN (RFC 4616) and LOGIN toward an upstream
 * (RFC 4954).  The credentials never reach the protocol trace.
 */
#define _GNU_SOURCE	/* plugins see no autoconfig.h; GNU/Linux interfaces */

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "smtpc_int.h"

/* smtpc_b64 - base64 of n bytes into out; 0, or -1 when too small. */
static int
smtpc_b64(const void *in, size_t n, char *out, size_t size)
{
	if (n > 3 * 1024 || size < 4 * ((n + 2) / 3) + 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return 0;
}

int
smtpc_auth_plain_b64(const char *user, const char *password, char *out,
    size_t size)
{
	char raw[1024];
	size_t ul = strlen(user), pl = strlen(password);

	if (ul + pl + 2 > sizeof(raw))
		return -1;
	raw[0] = '\0';
	memcpy(raw + 1, user, ul);
	raw[ul + 1] = '\0';
	memcpy(raw + ul + 2, password, pl);
	int r = smtpc_b64(raw, ul + pl + 2, out, size);
	explicit_bzero(raw, sizeof(raw));
	return r;
}

/* smtpc_auth_plain - "AUTH PLAIN <initial response>". */
static enum smtpc_status
smtpc_auth_plain(struct smtpc *c, const char *user, const char *password,
    struct smtpc_reply *r)
{
	char b64[1400];

	if (smtpc_auth_plain_b64(user, password, b64, sizeof(b64)) != 0) {
		c->err = ENAMETOOLONG;
		return SMTPC_ERROR;
	}
	c->secret = 1;
	enum smtpc_status st = smtpc_command(c, r, "AUTH PLAIN %s", b64);
	explicit_bzero(b64, sizeof(b64));
	return st;
}

/* smtpc_auth_step - one secret line of LOGIN, after a 334. */
static enum smtpc_status
smtpc_auth_step(struct smtpc *c, const char *text, struct smtpc_reply *r)
{
	char b64[1400];

	if (smtpc_b64(text, strlen(text), b64, sizeof(b64)) != 0) {
		c->err = ENAMETOOLONG;
		return SMTPC_ERROR;
	}
	c->secret = 1;
	enum smtpc_status st = smtpc_command(c, r, "%s", b64);
	explicit_bzero(b64, sizeof(b64));
	return st;
}

/* smtpc_auth_login - "AUTH LOGIN", then user and password after 334s. */
static enum smtpc_status
smtpc_auth_login(struct smtpc *c, const char *user, const char *password,
    struct smtpc_reply *r)
{
	enum smtpc_status st = smtpc_command(c, r, "AUTH LOGIN");

	if (st == SMTPC_OK && r->code == 334)
		st = smtpc_auth_step(c, user, r);
	if (st == SMTPC_OK && r->code == 334)
		st = smtpc_auth_step(c, password, r);
	return st;
}

enum smtpc_status
smtpc_auth(struct smtpc *c, const char *user, const char *password,
    struct smtpc_reply *r, int *mech_missing)
{
	*mech_missing = 0;
	if (c->auth_plain)
		return smtpc_auth_plain(c, user, password, r);
	if (c->auth_login)
		return smtpc_auth_login(c, user, password, r);
	*mech_missing = 1;
	return SMTPC_OK;
}

/*
 * passwd_file.c - an authenticator (AUTH) on a file of "user:hash" lines,
 * the hash as in /etc/shadow (yescrypt "$y$", SHA-512-crypt "$6$", bcrypt
 * "$2b$", ...), checked with libcrypt's crypt_r (crypt_rn).
 *
 *   { name = "passwd_file"; settings = { file = "/etc/psmtpd/passwd"; }; }
 *
 * The file is read in the master at init, so it may be readable by root
 * only, and again for each new generation (SIGHUP).  Blank lines and
 * lines starting with '#' are skipped; fields after the hash (shadow's
 * aging fields) are ignored.  A malformed line stops the start (and -t)
 * with the file and the line.  A user not in the file is not ours to
 * decide: the next authenticator may know it.
 */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

#define PWF_LINE_MAX 1024

struct pwf_entry {
	char *user;
	char *hash;
};

struct pwf {
	struct pwf_entry *e;	/* sorted by user */
	size_t n, cap;
	struct crypt_data *cd;	/* per worker: crypt_r's scratch (large) */
};

static int
pwf_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pwf_entry *)a)->user,
	    ((const struct pwf_entry *)b)->user);
}

static void
pwf_free(struct pwf *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->e[i].user);
		/* the hashes are secrets too */
		memset(p->e[i].hash, 0, strlen(p->e[i].hash));
		free(p->e[i].hash);
	}
	free(p->e);
	free(p->cd);
	free(p);
}

/* pwf_parse - one line into user and hash (in place); NULL when it is
 * fine, else what is wrong with it. */
static const char *
pwf_parse(char *line, char **user, char **hash)
{
	char *colon = strchr(line, ':'), *end;

	if (colon == NULL)
		return "malformed line (want user:hash)";
	*colon = '\0';
	*user = line;
	*hash = colon + 1;
	if ((end = strchr(*hash, ':')) != NULL)
		*end = '\0';
	if (**user == '\0')
		return "empty user name";
	if (**hash == '\0')
		return "empty hash";
	if (strpbrk(*user, " \t") != NULL || strpbrk(*hash, " \t") != NULL)
		return "white space in the user or the hash";
	/* "!" and "*" prefixes lock an account, as in /etc/shadow */
	if (**hash != '$' && **hash != '!' && **hash != '*')
		return "the hash is not in crypt(5) format ($id$...)";
	return NULL;
}

/* pwf_add - one entry, copied. */
static int
pwf_add(struct pwf *p, const char *user, const char *hash)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct pwf_entry *e = realloc(p->e, cap * sizeof(*e));
		if (e == NULL)
			return -1;
		p->e = e;
		p->cap = cap;
	}
	p->e[p->n].user = strdup(user);
	p->e[p->n].hash = strdup(hash);
	if (p->e[p->n].user == NULL || p->e[p->n].hash == NULL) {
		free(p->e[p->n].user);
		free(p->e[p->n].hash);
		return -1;
	}
	p->n++;
	return 0;
}

/* pwf_line - one line of the file; NULL, or the error. */
static const char *
pwf_line(struct pwf *p, char *line)
{
	char *user, *hash;
	const char *why;

	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0' || line[0] == '#')
		return NULL;
	if ((why = pwf_parse(line, &user, &hash)) != NULL)
		return why;
	return pwf_add(p, user, hash) == 0 ? NULL : "out of memory";
}

/* pwf_duplicate - the first user named twice, or NULL. */
static const char *
pwf_duplicate(const struct pwf *p)
{
	for (size_t i = 1; i < p->n; i++)
		if (strcmp(p->e[i - 1].user, p->e[i].user) == 0)
			return p->e[i].user;
	return NULL;
}

/* pwf_read - the whole file; 0, or -1 with the error recorded. */
static int
pwf_read(psmtpd_init *ctx, struct pwf *p, const char *file)
{
	char line[PWF_LINE_MAX];
	const char *why = NULL, *dup;
	unsigned lineno = 0;
	FILE *f = fopen(file, "r");

	if (f == NULL) {
		psmtpd_init_error(ctx, "file", "%s: %s", file, strerror(errno));
		return -1;
	}
	while (why == NULL && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		why = strchr(line, '\n') == NULL && !feof(f) ?
		    "line too long" : pwf_line(p, line);
	}
	if (why == NULL && ferror(f))
		why = strerror(errno);
	fclose(f);
	memset(line, 0, sizeof(line));
	if (why != NULL) {
		psmtpd_init_error(ctx, "file", "%s:%u: %s", file, lineno, why);
		return -1;
	}
	qsort(p->e, p->n, sizeof(*p->e), pwf_cmp);
	if ((dup = pwf_duplicate(p)) != NULL) {
		psmtpd_init_error(ctx, "file", "%s: user '%s' is there twice",
		    file, dup);
		return -1;
	}
	return 0;
}

static int
pwf_init(psmtpd_init *ctx, void **plugin_data)
{
	struct pwf *p = calloc(1, sizeof(*p));
	const char *file = NULL;
	int rc;

	if (p == NULL) {
		psmtpd_init_error(ctx, NULL, "out of memory");
		return -1;
	}
	if ((rc = psmtpd_setting_string(ctx, "file", &file)) != 1) {
		if (rc == 0)
			psmtpd_init_error(ctx, "file", "'file' is required: "
			    "the password file");
		pwf_free(p);
		return -1;
	}
	if (pwf_read(ctx, p, file) != 0) {
		pwf_free(p);
		return -1;
	}
	psmtpd_log(PSMTPD_LOG_INFO, "passwd_file file=%s users=%zu", file,
	    p->n);
	*plugin_data = p;
	return 0;
}

static void
pwf_fini(void *plugin_data)
{
	pwf_free(plugin_data);
}

static int
pwf_worker_init(void *plugin_data)
{
	struct pwf *p = plugin_data;

	return (p->cd = calloc(1, sizeof(*p->cd))) != NULL ? 0 : -1;
}

/* pwf_same - compare without an early exit. */
static int
pwf_same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static enum psmtpd_auth_result
pwf_authenticate(psmtpd_session *s, const char *mechanism, const char *user,
    const char *password, void *plugin_data)
{
	struct pwf *p = plugin_data;
	struct pwf_entry key = { (char *)user, NULL }, *e;
	const char *h;

	(void)mechanism;
	if (p->n == 0)
		return PSMTPD_AUTH_UNKNOWN;
	e = bsearch(&key, p->e, p->n, sizeof(*p->e), pwf_cmp);
	/* An unknown user costs a hash too, so time tells nothing.
	 * crypt_rn is libcrypt's crypt_r with the size of its scratch
	 * area, NULL on failure; unlike crypt_r it is not intercepted by
	 * the sanitizers, whose interceptor cannot reach a libcrypt that
	 * came in with a dlopen'ed plugin. */
	h = crypt_rn(password, e != NULL ? e->hash : p->e[0].hash, p->cd,
	    (int)sizeof(*p->cd));
	if (e == NULL)
		return PSMTPD_AUTH_UNKNOWN;
	if (h == NULL || h[0] == '*') {
		if (e->hash[0] == '$')
			psmtpd_session_log(s, PSMTPD_LOG_WARNING, "crypt_r "
			    "cannot check a hash of the password file");
		return PSMTPD_AUTH_FAIL;
	}
	return pwf_same(h, e->hash) ? PSMTPD_AUTH_OK : PSMTPD_AUTH_FAIL;
}

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "passwd_file",
	.version = "1.0",
	.description = "AUTH against a file of user:hash lines (crypt(5))",
	.init = pwf_init,
	.fini = pwf_fini,
	.worker_init = pwf_worker_init,
	.authenticate = pwf_authenticate,
};

/*
 * notes.h - what plugins share within a connection or a transaction
 * (API 2): named notes (a key, a value, the function that frees it) and
 * check results ("spf=pass smtp.mailfrom=example.org").  The session keeps
 * two of these, one per scope.
 */
#ifndef PSMTPD_NOTES_H
#define PSMTPD_NOTES_H

#include <stdbool.h>
#include <stddef.h>

#define NOTES_KEY_MAX 64	/* with the NUL */
#define NOTES_CHECKS_MAX 32
#define NOTES_CHECK_LEN 512

struct note {
	char key[NOTES_KEY_MAX];
	void *value;
	void (*free_fn)(void *);
};

struct notes {
	struct note *v;
	size_t n, cap;
	char *checks[NOTES_CHECKS_MAX];
	size_t nchecks;
};

/* Set (value NULL: remove) a note; the old value is freed.  -1 for a bad
 * key or no memory, and then value is freed with free_fn. */
int notes_set(struct notes *ns, const char *key, void *value,
    void (*free_fn)(void *));
void *notes_get(const struct notes *ns, const char *key);
/* Keep a check result; -1 when invalid or full. */
int notes_add_check(struct notes *ns, const char *text);
/* "method=result ..." with a valid first word, no CR, LF or ';'. */
bool notes_valid_check(const char *text);
/* Free every note and check (the scope ends). */
void notes_clear(struct notes *ns);

#endif

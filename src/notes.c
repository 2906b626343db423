/*
 * notes.c - named notes and check results of one scope (a connection or
 * a transaction).  A handful per scope: a list searched in order.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "notes.h"

/* notes_find - the index of key, or ns->n. */
static size_t
notes_find(const struct notes *ns, const char *key)
{
	size_t i = 0;

	while (i < ns->n && strcmp(ns->v[i].key, key) != 0)
		i++;
	return i;
}

/* notes_drop - free note i's value and take it out of the list. */
static void
notes_drop(struct notes *ns, size_t i)
{
	if (ns->v[i].free_fn != NULL && ns->v[i].value != NULL)
		ns->v[i].free_fn(ns->v[i].value);
	ns->v[i] = ns->v[--ns->n];
}

/* notes_grow - room for one more note. */
static int
notes_grow(struct notes *ns)
{
	if (ns->n < ns->cap)
		return 0;
	size_t cap = ns->cap ? ns->cap * 2 : 8;
	struct note *v = realloc(ns->v, cap * sizeof(*v));
	if (v == NULL)
		return -1;
	ns->v = v;
	ns->cap = cap;
	return 0;
}

int
notes_set(struct notes *ns, const char *key, void *value,
    void (*free_fn)(void *))
{
	size_t klen = key != NULL ? strlen(key) : 0;
	size_t i;

	if (klen == 0 || klen >= NOTES_KEY_MAX || (value != NULL &&
	    (i = notes_find(ns, key)) == ns->n && notes_grow(ns) != 0)) {
		if (free_fn != NULL && value != NULL)
			free_fn(value);
		return -1;
	}
	if ((i = notes_find(ns, key)) < ns->n) {
		if (ns->v[i].value == value) {
			ns->v[i].free_fn = free_fn;
			return 0;
		}
		notes_drop(ns, i);
	}
	if (value == NULL)
		return 0;
	struct note *n = &ns->v[ns->n++];
	memcpy(n->key, key, klen + 1);
	n->value = value;
	n->free_fn = free_fn;
	return 0;
}

void *
notes_get(const struct notes *ns, const char *key)
{
	size_t i = key != NULL ? notes_find(ns, key) : ns->n;

	return i < ns->n ? ns->v[i].value : NULL;
}

/* notes_token_char - a character of a method or result name. */
static bool
notes_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

bool
notes_valid_check(const char *text)
{
	size_t i = 0, n = strlen(text);

	while (notes_token_char(text[i]))
		i++;
	if (i == 0 || text[i] != '=' || !notes_token_char(text[i + 1]))
		return false;
	if (n >= NOTES_CHECK_LEN || strpbrk(text, "\r\n;") != NULL)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)text[i] < ' ' || text[i] == 0x7f)
			return false;
	return true;
}

int
notes_add_check(struct notes *ns, const char *text)
{
	if (!notes_valid_check(text) || ns->nchecks == NOTES_CHECKS_MAX)
		return -1;
	if ((ns->checks[ns->nchecks] = strdup(text)) == NULL)
		return -1;
	ns->nchecks++;
	return 0;
}

void
notes_clear(struct notes *ns)
{
	while (ns->n > 0)
		notes_drop(ns, ns->n - 1);
	free(ns->v);
	ns->v = NULL;
	ns->cap = 0;
	for (size_t i = 0; i < ns->nchecks; i++)
		free(ns->checks[i]);
	ns->nchecks = 0;
}

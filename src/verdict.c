/*
 * verdict.c - fold per-recipient replies into the one reply SMTP allows.
 *
 * The rule never reports a refused recipient as delivered: a 250 only
 * when every recipient has a 2xx.  With some delivered and a temporary
 * failure among the others, the client is asked to retry (those who got
 * it get it again: a duplicate, never a loss); with only permanent
 * failures beside the deliveries, a retry would fail the same way, so the
 * first 5xx is returned and the sender's bounce names the problem.
 */
#include "autoconfig.h"

#include "verdict.h"

/* verdict_first - the first reply of class c ('2', '4', '5'), or NULL. */
static const char *
verdict_first(verdict_at_fn at, const void *arg, size_t n, char c,
    const char *mixed)
{
	for (size_t i = 0; i < n; i++) {
		const char *r = at(arg, i);
		if ((r != NULL ? r[0] : '4') == c)
			return r != NULL ? r : mixed;
	}
	return NULL;
}

const char *
verdict_fold(verdict_at_fn at, const void *arg, size_t n, const char *mixed)
{
	const char *ok = verdict_first(at, arg, n, '2', mixed);
	const char *temp = verdict_first(at, arg, n, '4', mixed);
	const char *perm = verdict_first(at, arg, n, '5', mixed);

	if (n == 0)
		return mixed;
	if (temp == NULL && perm == NULL)
		return ok;
	if (ok == NULL)
		return temp != NULL ? temp : perm;
	return temp != NULL ? mixed : perm;
}

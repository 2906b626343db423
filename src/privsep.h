/*
 * privsep.h - who the workers run as.  The master resolves the user and
 * group of a generation (and refuses what cannot work) before it forks;
 * each worker drops to them before it runs a channel.
 */
#ifndef PSMTPD_PRIVSEP_H
#define PSMTPD_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct privsep_creds {
	bool keep;		/* -n: stay who we are */
	uid_t uid;
	gid_t gid;
	char user[64];		/* for initgroups() and logs */
};

/*
 * Resolve user (and group; NULL: the user's primary group).  keep (-n)
 * always succeeds.  Refused: an unknown user or group, a user that is
 * root, and a switch that needs root when we are not.  0, or -1 with err.
 */
int privsep_resolve(const char *user, const char *group, bool keep,
    struct privsep_creds *out, char *err, size_t errlen);

/* Only look user and group up (what -t checks, as any user): unknown
 * ones and root are refused.  0, or -1 with err. */
int privsep_lookup(const char *user, const char *group,
    struct privsep_creds *out, char *err, size_t errlen);

/* Whether the workers, as c, can write path (or make it): checked in a
 * child that drops to c.  0, or -1 with err. */
int privsep_check_target(const struct privsep_creds *c, const char *path,
    char *err, size_t errlen);

/* Become the resolved user: initgroups, setgid, setuid, then check that
 * every id changed and that root cannot be had back.  0, or -1 with err. */
int privsep_drop(const struct privsep_creds *creds, char *err,
    size_t errlen);

#endif

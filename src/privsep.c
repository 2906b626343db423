/*
 * privsep.c - resolve and drop the workers' privileges; see privsep.h.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privsep.h"

/* privsep_group - the gid of group, or the user's primary group. */
static int
privsep_group(const char *group, gid_t primary, gid_t *out, char *err,
    size_t errlen)
{
	struct group *gr;

	if (group == NULL || group[0] == '\0') {
		*out = primary;
		return 0;
	}
	errno = 0;
	gr = getgrnam(group);
	if (gr == NULL) {
		snprintf(err, errlen, "unknown group \"%s\"%s%s", group,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
		return -1;
	}
	*out = gr->gr_gid;
	return 0;
}

int
privsep_lookup(const char *user, const char *group,
    struct privsep_creds *out, char *err, size_t errlen)
{
	struct passwd *pw;

	memset(out, 0, sizeof(*out));
	if (user == NULL || user[0] == '\0')
		user = "nobody";
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "unknown user \"%s\"%s%s%s", user,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "",
		    strcmp(user, "psmtpd") == 0 ? " (create it: adduser "
		    "--system --group --no-create-home psmtpd)" : "");
		return -1;
	}
	if (snprintf(out->user, sizeof(out->user), "%s", user) >=
	    (int)sizeof(out->user)) {
		snprintf(err, errlen, "user name too long: \"%s\"", user);
		return -1;
	}
	out->uid = pw->pw_uid;
	if (privsep_group(group, pw->pw_gid, &out->gid, err, errlen) == -1)
		return -1;
	if (out->uid == 0) {
		snprintf(err, errlen, "refusing to run workers as root (user "
		    "\"%s\"); use -n to keep the current user", user);
		return -1;
	}
	return 0;
}

int
privsep_resolve(const char *user, const char *group, bool keep,
    struct privsep_creds *out, char *err, size_t errlen)
{
	if (keep) {
		memset(out, 0, sizeof(*out));
		out->keep = true;
		out->uid = geteuid();
		out->gid = getegid();
		return 0;
	}
	if (privsep_lookup(user, group, out, err, errlen) == -1)
		return -1;
	if (user == NULL || user[0] == '\0')
		user = "nobody";
	if (geteuid() != 0 && (geteuid() != out->uid ||
	    getegid() != out->gid)) {
		/* Python's smtpd: 'Cannot setuid "nobody"; try running with
		 * -n option.' */
		snprintf(err, errlen, "cannot switch to user \"%s\": not "
		    "running as root; try running with -n", user);
		return -1;
	}
	return 0;
}

/* privsep_verify - every id is the target, and root is gone for good. */
static int
privsep_verify(const struct privsep_creds *c, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1) {
		snprintf(err, errlen, "getresuid: %s", strerror(errno));
		return -1;
	}
	if (ru != c->uid || eu != c->uid || su != c->uid ||
	    rg != c->gid || eg != c->gid || sg != c->gid) {
		snprintf(err, errlen, "ids did not change to uid=%lu gid=%lu",
		    (unsigned long)c->uid, (unsigned long)c->gid);
		return -1;
	}
	if (c->uid != 0 && setuid(0) != -1) {
		snprintf(err, errlen, "could regain root after dropping it");
		return -1;
	}
	return 0;
}

int
privsep_drop(const struct privsep_creds *c, char *err, size_t errlen)
{
	if (c->keep)
		return 0;
	if (geteuid() != 0)
		/* privsep_resolve() allowed this only when we already are
		 * that user and group. */
		return privsep_verify(c, err, errlen);
	if (initgroups(c->user, c->gid) == -1) {
		snprintf(err, errlen, "initgroups %s: %s", c->user,
		    strerror(errno));
		return -1;
	}
	if (setresgid(c->gid, c->gid, c->gid) == -1) {
		snprintf(err, errlen, "setgid %lu: %s", (unsigned long)c->gid,
		    strerror(errno));
		return -1;
	}
	if (setresuid(c->uid, c->uid, c->uid) == -1) {
		snprintf(err, errlen, "setuid %lu: %s", (unsigned long)c->uid,
		    strerror(errno));
		return -1;
	}
	return privsep_verify(c, err, errlen);
}

/* privsep_writable - in the child, as the workers' user: path can be
 * written, or made (its nearest existing parent is a writable
 * directory).  NULL, or why not. */
static const char *
privsep_writable(const char *path, char *buf, size_t size)
{
	struct stat st;
	char *slash;

	snprintf(buf, size, "%s", path);
	for (;;) {
		if (stat(buf, &st) == 0)
			break;
		if (errno != ENOENT || (slash = strrchr(buf, '/')) == NULL)
			return strerror(errno);
		if (slash == buf)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (S_ISDIR(st.st_mode))
		return access(buf, W_OK | X_OK) == 0 ? NULL : strerror(errno);
	if (strcmp(buf, path) != 0)
		return "a parent is not a directory";
	return access(buf, W_OK) == 0 ? NULL : strerror(errno);
}

int
privsep_check_target(const struct privsep_creds *c, const char *path,
    char *err, size_t errlen)
{
	char buf[PATH_MAX], why[256] = "";
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		snprintf(err, errlen, "%s: cannot check: %s", path,
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		const char *w = privsep_drop(c, why, sizeof(why)) == -1 ? why :
		    privsep_writable(path, buf, sizeof(buf));

		if (w != NULL && write(p[1], w, strlen(w)) < 0)
			_exit(2);
		_exit(w != NULL);
	}
	close(p[1]);
	n = read(p[0], why, sizeof(why) - 1);
	close(p[0]);
	why[n > 0 ? n : 0] = '\0';
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(err, errlen, "%s is not writable by user %s: %s", path,
	    c->keep ? "(unchanged)" : c->user, why[0] ? why : "check failed");
	return -1;
}

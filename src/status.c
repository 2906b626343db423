/*
 * status.c - psmtpd -S; see status.h.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "scoreboard.h"
#include "status.h"

#define STATUS_MAX_GENS 16	/* generations shown one by one */

/* What the slots add up to, over all workers or one generation. */
struct status_sum {
	unsigned generation;
	int state[SB_NSTATES];
	int workers;
	unsigned long long sessions, accepted, refused;
};

static void
status_add(struct status_sum *sum, const struct sb_slot *s)
{
	sum->state[s->state]++;
	sum->workers++;
	sum->sessions += s->sessions;
	sum->accepted += s->accepted;
	sum->refused += s->refused;
}

/* status_gen - the sum of generation g, a new one while there is room,
 * or NULL. */
static struct status_sum *
status_gen(struct status_sum *gens, size_t *n, unsigned g)
{
	for (size_t i = 0; i < *n; i++)
		if (gens[i].generation == g)
			return &gens[i];
	if (*n == STATUS_MAX_GENS)
		return NULL;
	memset(&gens[*n], 0, sizeof(gens[*n]));
	gens[*n].generation = g;
	return &gens[(*n)++];
}

/* status_sum - every live slot into all and its generation's sum. */
static size_t
status_sum(const struct scoreboard *sb, struct status_sum *all,
    struct status_sum *gens)
{
	size_t n = 0;

	memset(all, 0, sizeof(*all));
	for (size_t i = 0; i < scoreboard_size(sb); i++) {
		struct sb_slot s;
		struct status_sum *g;

		scoreboard_read(sb, i, &s);
		if (s.state == SB_FREE)
			continue;
		status_add(all, &s);
		if ((g = status_gen(gens, &n, s.generation)) != NULL)
			status_add(g, &s);
	}
	return n;
}

/* status_states - "idle=4 command=1 ..." for the states that have any. */
static void
status_states(FILE *out, const struct status_sum *s)
{
	for (int st = SB_STARTING; st < SB_NSTATES; st++)
		if (s->state[st] > 0)
			fprintf(out, " %s=%d", scoreboard_state_name(
			    (enum sb_state)st), s->state[st]);
}

static void
status_text(FILE *out, const struct sb_totals *t,
    const struct status_sum *all, const struct status_sum *gens, size_t n)
{
	fprintf(out, "psmtpd master pid %lld, stress mode %s\n",
	    t->master_pid, t->stress ? "on" : "off");
	fprintf(out, "workers: %d", all->workers);
	status_states(out, all);
	fprintf(out, "\nsince start: sessions %llu, messages accepted %llu, "
	    "refused %llu\n", all->sessions + t->sessions,
	    all->accepted + t->accepted, all->refused + t->refused);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "generation %u: workers %d", gens[i].generation,
		    gens[i].workers);
		status_states(out, &gens[i]);
		fprintf(out, ", sessions %llu, accepted %llu, refused %llu\n",
		    gens[i].sessions, gens[i].accepted, gens[i].refused);
	}
}

static void
status_prometheus(FILE *out, const struct sb_totals *t,
    const struct status_sum *all, const struct status_sum *gens, size_t n)
{
	fputs("# HELP psmtpd_workers Worker processes by state.\n"
	    "# TYPE psmtpd_workers gauge\n", out);
	for (int st = SB_STARTING; st < SB_NSTATES; st++)
		fprintf(out, "psmtpd_workers{state=\"%s\"} %d\n",
		    scoreboard_state_name((enum sb_state)st), all->state[st]);
	fprintf(out, "# HELP psmtpd_stress Whether stress mode is on.\n"
	    "# TYPE psmtpd_stress gauge\npsmtpd_stress %d\n", t->stress);
	fprintf(out, "# HELP psmtpd_sessions_total Sessions since the start.\n"
	    "# TYPE psmtpd_sessions_total counter\n"
	    "psmtpd_sessions_total %llu\n", all->sessions + t->sessions);
	fprintf(out, "# HELP psmtpd_messages_total Messages answered since "
	    "the start.\n# TYPE psmtpd_messages_total counter\n"
	    "psmtpd_messages_total{result=\"accepted\"} %llu\n"
	    "psmtpd_messages_total{result=\"refused\"} %llu\n",
	    all->accepted + t->accepted, all->refused + t->refused);
	fputs("# HELP psmtpd_generation_workers Live workers by generation.\n"
	    "# TYPE psmtpd_generation_workers gauge\n", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "psmtpd_generation_workers{generation=\"%u\"} %d\n",
		    gens[i].generation, gens[i].workers);
}

int
status_print(const struct scoreboard *sb, bool prometheus, FILE *out)
{
	struct status_sum all, gens[STATUS_MAX_GENS];
	struct sb_totals t;
	size_t n = status_sum(sb, &all, gens);

	scoreboard_totals(sb, &t);
	if (prometheus)
		status_prometheus(out, &t, &all, gens, n);
	else
		status_text(out, &t, &all, gens, n);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

int
status_run(const char *path, const char *format)
{
	char err[512];
	struct scoreboard *sb;
	int rc;

	if (path == NULL || path[0] == '\0') {
		fprintf(stderr, "psmtpd: -S: no status.file is set\n");
		return 1;
	}
	if ((sb = scoreboard_open_file(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "psmtpd: -S: %s (is psmtpd running with "
		    "status.file = \"%s\"?)\n", err, path);
		return 1;
	}
	rc = status_print(sb, format != NULL &&
	    strcmp(format, "prometheus") == 0, stdout);
	scoreboard_destroy(sb);
	return rc == 0 ? 0 : 1;
}

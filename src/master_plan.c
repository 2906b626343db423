/*
 * master_plan.c - the master's arithmetic, pure so that tables can test
 * it: how many workers to fork or retire this second (after Apache
 * prefork's perform_idle_server_maintenance), and how long to hold back
 * spawning while workers crash right after they start.
 */
#include "autoconfig.h"

#include "master_int.h"

static int
imin(int a, int b)
{
	return a < b ? a : b;
}

static int
imax(int a, int b)
{
	return a > b ? a : b;
}

/*
 * master_idle_plan - decide, from counts alone (pure, table-tested).
 *
 * Short of spares, fork the larger of the shortfall and the spawn rate,
 * and double the rate for the next second, so that a burst that keeps
 * eating the spares gets 1, 2, 4 ... 32 new workers a second (Apache).
 * The rate falls back to 1 as soon as the spares are enough.
 *
 * A pool with nothing to do needs no more than `start` idle workers:
 * min_spare is the headroom kept beside busy workers, so an idle server
 * shows the `start` workers it was asked for even when min_spare is more.
 *
 * Above max_spare, the excess is retired at once: every one of them is
 * idle, so retiring costs nothing, and max_spare is the operator's cap.
 */
void
master_idle_plan(const struct idle_input *in, struct idle_plan *out)
{
	int rate = imax(in->rate, 1);
	int room = in->max_workers - in->live;
	/* At least one worker always waits, whatever the settings say (as
	 * Apache raises MinSpareServers 0 to 1). */
	int min_spare = imax(in->min_spare, 1);
	int max_spare = imax(in->max_spare, min_spare);
	int want = in->busy > 0 ? min_spare :
	    imin(min_spare, imax(in->start, 1));

	out->spawn = 0;
	out->retire = 0;
	out->rate = 1;
	out->at_max = false;
	if (in->idle > max_spare) {
		out->retire = in->idle - max_spare;
		return;
	}
	if (in->idle >= want)
		return;
	if (room <= 0) {
		out->at_max = true;
		return;
	}
	out->spawn = imin(imax(rate, want - in->idle), room);
	out->rate = imin(rate * 2, MASTER_MAX_SPAWN_RATE);
}

/*
 * master_stress_plan - stress mode, as Postfix's: on as soon as no idle
 * worker is left and the pool is at max_workers (a new connection would
 * wait in the backlog); off once the pool has kept a spare worker for
 * MASTER_STRESS_CALM_MS, so that a flood that eats every freed worker at
 * once does not make it flap each second.
 */
int
master_stress_plan(const struct stress_input *in, struct stress_state *st)
{
	bool exhausted = in->idle == 0 && in->live >= in->max_workers;

	if (st->since == 0) {
		if (!exhausted)
			return 0;
		st->since = in->now > 0 ? in->now : 1;
		st->calm = 0;
		return 1;
	}
	if (exhausted) {
		st->calm = 0;
		return 0;
	}
	if (st->calm == 0)
		st->calm = in->now;
	if (in->now - st->calm < MASTER_STRESS_CALM_MS)
		return 0;
	*st = (struct stress_state){ 0, 0 };
	return -1;
}

/*
 * master_backoff_note - account for a worker's death.  A worker that died
 * abnormally before it served a single session (as Postfix's master
 * counts them; a killed worker that has served is no crash loop) doubles
 * the pause before spawning beyond the floor: 0 for the first (one crash
 * may be a fluke), then 250 ms, 500 ms ... up to 30 s.  A minute without
 * such a death starts over.
 */
void
master_backoff_note(struct master_backoff *b, bool unserved_failure,
    long long now)
{
	long long delay;

	if (b->failures > 0 && now - b->last >= MASTER_BACKOFF_FORGET_MS)
		*b = (struct master_backoff){ 0, 0, 0 };
	if (!unserved_failure)
		return;
	b->failures++;
	b->last = now;
	if (b->failures < 2)
		return;
	delay = MASTER_BACKOFF_BASE_MS;
	for (int i = 2; i < b->failures && delay < MASTER_BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > MASTER_BACKOFF_MAX_MS)
		delay = MASTER_BACKOFF_MAX_MS;
	b->until = now + delay;
}

/* master_backoff_wait - ms until spawning is allowed again; 0: now. */
long long
master_backoff_wait(const struct master_backoff *b, long long now)
{
	return b->until > now ? b->until - now : 0;
}

/* master_floor - the live workers that the back-off never goes below:
 * pool.min_spare, at least one. */
int
master_floor(int min_spare)
{
	return imax(min_spare, 1);
}

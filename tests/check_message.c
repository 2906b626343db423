/*
 * check_message.c - the message store: the header block as indexed, each
 * edit and the message a later reader sees, in memory and spooled to a
 * file (memory limit 0), with the same table.
 */
#include "autoconfig.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "message.h"
#include "notes.h"
#include "verdict.h"
#include "tests/check_run.h"

/* One edit: op 'a' add (at, name, value), 'r' remove (name, at),
 * 'p' replace (name, at, value), 'b' replace body (value), 'B' append to
 * the body (value). */
struct edit {
	char op;
	size_t at;
	const char *name, *value;
};

static const struct {
	const char *name;
	const char *in;
	struct edit e[4];
	const char *out;	/* the view */
	const char *body;	/* message_body */
} cases[] = {
	{ "no edit", "A: 1\nB: 2\n\nbody", { { 0 } }, "A: 1\nB: 2\n\nbody",
	    "body" },
	{ "add at top", "A: 1\n\nbody", { { 'a', (size_t)0, "Received",
	    "from x" } }, "Received: from x\nA: 1\n\nbody", "body" },
	{ "add at end", "A: 1\nB: 2\n\nbody", { { 'a', (size_t)-1, "X-Spam",
	    "no" } }, "A: 1\nB: 2\nX-Spam: no\n\nbody", "body" },
	{ "add in the middle", "A: 1\nB: 2\n\nbody", { { 'a', 1, "X", "y" } },
	    "A: 1\nX: y\nB: 2\n\nbody", "body" },
	{ "folded field kept whole", "A: 1\n 2\n\t3\nB: 4\n\nb",
	    { { 'r', 0, "b", NULL } }, "A: 1\n 2\n\t3\n\nb", "b" },
	{ "remove the second of a name", "R: 1\nX: a\nR: 2\nR: 3\n\nb",
	    { { 'r', 1, "r", NULL } }, "R: 1\nX: a\nR: 3\n\nb", "b" },
	{ "remove all of a name", "R: 1\nX: a\nR: 2\n\nb",
	    { { 'r', (size_t)-1, "R", NULL } }, "X: a\n\nb", "b" },
	{ "replace keeps the name's case", "subject: old\n\nb",
	    { { 'p', 0, "Subject", "new\n folded" } }, "subject: new\n "
	    "folded\n\nb", "b" },
	{ "replace the body", "A: 1\n\nold\nbody", { { 'b', 0, NULL,
	    "new\nbody" } }, "A: 1\n\nnew\nbody", "new\nbody" },
	{ "replace the body in two parts", "A: 1\n\nold", { { 'b', 0, NULL,
	    "new " }, { 'B', 0, NULL, "body" } }, "A: 1\n\nnew body",
	    "new body" },
	{ "no header block: a header gets an empty line", "just text\nmore",
	    { { 'a', 0, "Received", "x" } }, "Received: x\n\njust text\nmore",
	    "just text\nmore" },
	{ "empty message", "", { { 'a', 0, "Received", "x" } },
	    "Received: x\n\n", "" },
	{ "headers only, no LF", "A: 1", { { 'a', (size_t)-1, "B", "2" } },
	    "A: 1\nB: 2", "" },
	{ "headers and an empty last line", "A: 1\n", { { 'a', 0, "B",
	    "2" } }, "B: 2\nA: 1\n", "" },
	{ "a non-field line ends the block", "A: 1\nnot a field\n\nb",
	    { { 'a', (size_t)-1, "B", "2" } }, "A: 1\nB: 2\nnot a field\n\nb",
	    "not a field\n\nb" },
	{ "edits in order", "A: 1\n\nb", { { 'a', 0, "T", "1" },
	    { 'a', 0, "T", "2" }, { 'r', 1, "T", NULL }, { 'p', 0, "a",
	    "9" } }, "T: 2\nA: 9\n\nb", "b" },
	{ "remove every field", "A: 1\nB: 2\n\nb", { { 'r', 0, "A", NULL },
	    { 'r', 0, "B", NULL } }, "\nb", "b" },
	{ "obsolete 'Name :' syntax is a field", "Subject : x\n\nb",
	    { { 'r', 0, "subject", NULL } }, "\nb", "b" },
};

/* Invalid edits: refused, the message unchanged. */
static const struct edit bad_edits[] = {
	{ 'a', 0, "Bad Name", "v" }, { 'a', 0, "Bad:Name", "v" },
	{ 'a', 0, "", "v" }, { 'a', 0, "X", "a\nb" }, { 'a', 0, "X", "a\r" },
	{ 'a', 0, "X", "trailing\n" }, { 'r', 5, "A", NULL },
	{ 'p', 1, "A", "v" }, { 'p', 0, "Nope", "v" }, { 'B', 0, NULL, "x" },
};

static int
apply(struct message *m, const struct edit *e)
{
	switch (e->op) {
	case 'a':
		return message_header_add(m, e->at, e->name, e->value);
	case 'r':
		return message_header_remove(m, e->name, e->at);
	case 'p':
		return message_header_replace(m, e->name, e->at, e->value);
	case 'b':
		return message_body_replace(m, e->value, strlen(e->value));
	case 'B':
		return message_body_append(m, e->value, strlen(e->value));
	}
	return 0;
}

/* receive - feed the input in small pieces, as DATA does. */
static void
receive(struct message *m, const char *in)
{
	size_t n = strlen(in);

	for (size_t off = 0; off < n; off += 3) {
		size_t k = n - off < 3 ? n - off : 3;
		char *room = message_room(m, k);
		ck_assert_ptr_nonnull(room);
		memcpy(room, in + off, k);
		ck_assert_int_eq(message_commit(m, k), 0);
	}
	ck_assert_int_eq(message_end(m), 0);
}

static void
run_case(int i, size_t limit)
{
	struct message m;
	size_t len;

	message_init(&m, NULL, limit);
	receive(&m, cases[i].in);
	ck_assert(message_spooled(&m) == (strlen(cases[i].in) > limit));
	for (int k = 0; k < 4 && cases[i].e[k].op; k++)
		ck_assert_msg(apply(&m, &cases[i].e[k]) == 0, "%s: edit %d",
		    cases[i].name, k);
	const char *d = message_data(&m, &len);
	ck_assert_msg(d != NULL && len == strlen(cases[i].out) &&
	    memcmp(d, cases[i].out, len) == 0 && d[len] == '\0',
	    "%s: got [%.*s] want [%s]", cases[i].name, (int)len, d,
	    cases[i].out);
	d = message_body(&m, &len);
	ck_assert_msg(len == strlen(cases[i].body) &&
	    memcmp(d, cases[i].body, len) == 0, "%s: body [%.*s]",
	    cases[i].name, (int)len, d);
	message_free(&m);
}

START_TEST(test_edits_memory)
{
	run_case(_i, 1 << 20);
}
END_TEST

START_TEST(test_edits_spooled)
{
	run_case(_i, 0);
}
END_TEST

START_TEST(test_bad_edits)
{
	struct message m;
	size_t len;

	message_init(&m, NULL, 1 << 20);
	receive(&m, "A: 1\n\nbody");
	ck_assert_int_eq(apply(&m, &bad_edits[_i]), -1);
	const char *d = message_data(&m, &len);
	ck_assert_str_eq(d, "A: 1\n\nbody");
	message_free(&m);
}
END_TEST

START_TEST(test_header_get)
{
	struct message m;
	size_t len;

	message_init(&m, NULL, 1 << 20);
	receive(&m, "To: a\nSubject: s\n x\nto: b\n\nbody");
	ck_assert_uint_eq(message_header_count(&m, NULL), 3);
	ck_assert_uint_eq(message_header_count(&m, "TO"), 2);
	const char *h = message_header_get(&m, "to", 1, &len);
	ck_assert(h != NULL && len == 5 && memcmp(h, "to: b", 5) == 0);
	h = message_header_get(&m, NULL, 1, &len);
	ck_assert(h != NULL && len == 13 && memcmp(h, "Subject: s\n x", 13) ==
	    0);
	ck_assert_ptr_null(message_header_get(&m, "Cc", 0, &len));
	message_free(&m);
}
END_TEST

/* A large message goes to a file, and is read back whole with its edits;
 * the view of the edit is a second file, not memory. */
START_TEST(test_large_spooled)
{
	struct message m;
	size_t n = 8u << 20, len;

	message_init(&m, NULL, 256 * 1024);
	char *room = message_room(&m, 8);
	memcpy(room, "A: 1\n\nx", 7);
	ck_assert_int_eq(message_commit(&m, 7), 0);
	for (size_t off = 7; off < n; off += 65536) {
		size_t k = n - off < 65536 ? n - off : 65536;
		room = message_room(&m, k);
		memset(room, 'y', k);
		ck_assert_int_eq(message_commit(&m, k), 0);
	}
	ck_assert_int_eq(message_end(&m), 0);
	ck_assert(message_spooled(&m));
	ck_assert(m.orig.cap <= 2 * 256 * 1024 + 2 * 65536 + 4096);
	ck_assert_int_eq(message_header_add(&m, 0, "Received", "z"), 0);
	const char *d = message_data(&m, &len);
	ck_assert_uint_eq(len, n + 12);
	ck_assert(memcmp(d, "Received: z\nA: 1\n\nxyy", 21) == 0);
	ck_assert(d[len - 1] == 'y' && d[len] == '\0');
	ck_assert(spool_spilled(&m.view));
	message_reset(&m);
	/* the next message starts in memory again */
	room = message_room(&m, 2);
	memcpy(room, "hi", 2);
	ck_assert_int_eq(message_commit(&m, 2), 0);
	ck_assert_int_eq(message_end(&m), 0);
	ck_assert(!message_spooled(&m));
	ck_assert_str_eq(message_data(&m, &len), "hi");
	message_free(&m);
}
END_TEST

/* A spool directory that cannot take a file: an error, not a crash. */
START_TEST(test_spool_error)
{
	struct message m;

	message_init(&m, "/nonexistent/dir", 4);
	char *room = message_room(&m, 10);
	memcpy(room, "0123456789", 10);
	ck_assert_int_eq(message_commit(&m, 10), -1);
	message_free(&m);
}
END_TEST

/* verdict_fold: per-recipient replies to one SMTP reply. */
static const struct {
	const char *r[3];
	const char *want;
} folds[] = {
	{ { "250 a", "250 b", NULL }, "250 a" },
	{ { "550 a", "551 b", NULL }, "550 a" },
	{ { "550 a", "451 b", NULL }, "451 b" },
	{ { "250 a", "451 b", NULL }, "MIXED" },
	{ { "250 a", "550 b", "552 c" }, "550 b" },
	{ { "250 a", "550 b", "452 c" }, "MIXED" },
	{ { "250 a", "(null)", NULL }, "MIXED" },
};

static const char *
fold_at(const void *arg, size_t i)
{
	const char *const *r = arg;

	return strcmp(r[i], "(null)") == 0 ? NULL : r[i];
}

START_TEST(test_verdict_fold)
{
	size_t n = 0;

	while (n < 3 && folds[_i].r[n] != NULL)
		n++;
	ck_assert_str_eq(verdict_fold(fold_at, folds[_i].r, n, "MIXED"),
	    folds[_i].want);
}
END_TEST

static int frees;

static void
count_free(void *p)
{
	(void)p;
	frees++;
}

/* notes: set, replace (the old value freed), remove, bad keys, checks. */
START_TEST(test_notes)
{
	struct notes ns = { 0 };
	int a, b;

	frees = 0;
	ck_assert_int_eq(notes_set(&ns, "x.a", &a, count_free), 0);
	ck_assert_ptr_eq(notes_get(&ns, "x.a"), &a);
	ck_assert_int_eq(notes_set(&ns, "x.a", &b, count_free), 0);
	ck_assert_int_eq(frees, 1);
	ck_assert_ptr_eq(notes_get(&ns, "x.a"), &b);
	ck_assert_int_eq(notes_set(&ns, "", &a, count_free), -1);
	ck_assert_int_eq(frees, 2);
	ck_assert_int_eq(notes_set(&ns, "x.a", NULL, NULL), 0);
	ck_assert_int_eq(frees, 3);
	ck_assert_ptr_null(notes_get(&ns, "x.a"));
	ck_assert_int_eq(notes_add_check(&ns, "spf=pass smtp.mailfrom=a"), 0);
	ck_assert_int_eq(notes_add_check(&ns, "spf pass"), -1);
	ck_assert_int_eq(notes_add_check(&ns, "dkim=pass; x"), -1);
	ck_assert_int_eq(notes_add_check(&ns, "a=b\r\nX: y"), -1);
	ck_assert_uint_eq(ns.nchecks, 1);
	ck_assert_int_eq(notes_set(&ns, "x.b", &a, count_free), 0);
	notes_clear(&ns);
	ck_assert_int_eq(frees, 4);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("message");
	TCase *tc = tcase_create("message");
	int n = (int)(sizeof(cases) / sizeof(cases[0]));

	tcase_add_loop_test(tc, test_edits_memory, 0, n);
	tcase_add_loop_test(tc, test_edits_spooled, 0, n);
	tcase_add_loop_test(tc, test_bad_edits, 0,
	    (int)(sizeof(bad_edits) / sizeof(bad_edits[0])));
	tcase_add_test(tc, test_header_get);
	tcase_add_loop_test(tc, test_verdict_fold, 0,
	    (int)(sizeof(folds) / sizeof(folds[0])));
	tcase_add_test(tc, test_notes);
	tcase_add_test(tc, test_large_spooled);
	tcase_add_test(tc, test_spool_error);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}

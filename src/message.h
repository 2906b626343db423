/*
 * message.h - the message of one transaction: the data as received
 * (spooled past a memory limit), an index of its header block, and the
 * edits plugins make to it (API 2).
 *
 * Edits never copy the original: the message is a list of header fields
 * (each a span of the original or a new text) and a body (the original's,
 * or a replacement in its own spool).  message_data() applies the list
 * once, lazily, into a third spool (memory or file), and only when there
 * are edits: an unedited message is read where it was received.
 */
#ifndef PSMTPD_MESSAGE_H
#define PSMTPD_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "spool.h"

/* A header field as it stands: "Name: value", folded lines joined by LF. */
struct message_field {
	const char *text;	/* into the original, or == owned */
	size_t len;
	char *owned;		/* NULL for a span of the original */
};

struct message {
	struct spool orig;	/* as received */
	const char *data;	/* the original, after message_end */
	size_t len;
	bool ended;

	bool indexed;		/* fields/rest built from the original */
	struct message_field *f;
	size_t nf, capf;
	bool had_headers;	/* the original has a header block */
	bool has_rest;		/* lines after the header block */
	size_t rest;		/* where they start in the original */

	bool body_new;		/* the body was replaced */
	struct spool body;

	bool edited;		/* any edit: the view differs */
	bool dirty;		/* the view is out of date */
	struct spool view;
	const char *vdata;
	size_t vlen;
};

/* Limits of one header field given by a plugin. */
#define MESSAGE_NAME_MAX 128
#define MESSAGE_FIELD_MAX 65536

void message_init(struct message *m, const char *spool_dir, size_t limit);
/* The same for a reset message, its buffers kept (spool_place). */
void message_place(struct message *m, const char *spool_dir, size_t limit);
/* Forget the message (files closed); ready to receive the next. */
void message_reset(struct message *m);
void message_free(struct message *m);

/* Receiving: room for n bytes, then how many were written (spool.h). */
char *message_room(struct message *m, size_t n);
int message_commit(struct message *m, size_t n);
/* The last byte is in: 0, or -1 with errno. */
int message_end(struct message *m);
/* The size as received, and whether it went to a file. */
size_t message_size(const struct message *m);
bool message_spooled(const struct message *m);

/* The message with the edits applied; NULL with errno on a spool error,
 * "" before message_end. */
const char *message_data(struct message *m, size_t *len);
const char *message_body(struct message *m, size_t *len);

/* Header fields, as plugin.h's psmtpd_header_* say; -1 on bad input. */
size_t message_header_count(struct message *m, const char *name);
const char *message_header_get(struct message *m, const char *name,
    size_t i, size_t *len);
int message_header_add(struct message *m, size_t at, const char *name,
    const char *value);
int message_header_remove(struct message *m, const char *name, size_t i);
int message_header_replace(struct message *m, const char *name, size_t i,
    const char *value);
int message_body_replace(struct message *m, const char *p, size_t n);
int message_body_append(struct message *m, const char *p, size_t n);

/* Pure checks of what a plugin gives (name: ftext; value: no CR or NUL,
 * each LF followed by SP or HT, not ending in LF). */
bool message_valid_name(const char *name);
bool message_valid_value(const char *value);

#endif

/*
 * tverbs.c - a test plugin with verbs: XSTATS (new; counts this session's
 * messages in per-session plugin data) and VRFY (overrides the built-in;
 * declines with CONTINUE for "builtin" so the built-in answers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psmtpd/plugin.h>

static enum psmtpd_result
tverbs_xstats(psmtpd_session *s, const char *arg, void *d)
{
	size_t *count = psmtpd_session_get_data(s);
	const char *lines[] = { "stats", "messages" };
	char text[64];

	(void)arg;
	(void)d;
	if (count == NULL) {
		psmtpd_reply(s, "250 stats messages=0 greeting=%s",
		    psmtpd_session_greeting(s));
		return PSMTPD_REPLY;
	}
	lines[1] = text;
	snprintf(text, sizeof(text), "messages=%zu", *count);
	psmtpd_reply_lines(s, 250, lines, 2);
	return PSMTPD_REPLY;
}

static enum psmtpd_result
tverbs_vrfy(psmtpd_session *s, const char *arg, void *d)
{
	(void)d;
	if (arg != NULL && strcmp(arg, "builtin") == 0)
		return PSMTPD_CONTINUE;
	psmtpd_reply(s, "252 tverbs knows %s", arg != NULL ? arg : "nobody");
	return PSMTPD_REPLY;
}

static enum psmtpd_result
tverbs_message(psmtpd_session *s, void *d)
{
	size_t *count = psmtpd_session_get_data(s);

	(void)d;
	if (count == NULL) {
		count = calloc(1, sizeof(*count));
		if (count == NULL)
			return PSMTPD_CONTINUE;
		psmtpd_session_set_data(s, count, free);
	}
	(*count)++;
	return PSMTPD_CONTINUE;
}

static const struct psmtpd_command tverbs_commands[] = {
	{ "XSTATS", tverbs_xstats, "Syntax: XSTATS" },
	{ "VRFY", tverbs_vrfy, NULL },
	{ NULL, NULL, NULL },
};

const struct psmtpd_plugin psmtpd_plugin = {
	PSMTPD_PLUGIN_HEADER,
	.name = "tverbs",
	.version = "1",
	.process_message = tverbs_message,
	.commands = tverbs_commands,
};

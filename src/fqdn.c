/*
 * fqdn.c - the host's fully qualified name.
 */
#include "autoconfig.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fqdn.h"

void
fqdn_lookup(char *out, size_t size)
{
	char host[256];
	struct addrinfo hints = { .ai_flags = AI_CANONNAME,
	    .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;

	if (gethostname(host, sizeof(host)) != 0) {
		snprintf(out, size, "localhost");
		return;
	}
	host[sizeof(host) - 1] = '\0';
	snprintf(out, size, "%s", host);
	if (strchr(host, '.') != NULL)
		return;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return;
	if (res != NULL && res->ai_canonname != NULL &&
	    strchr(res->ai_canonname, '.') != NULL)
		snprintf(out, size, "%s", res->ai_canonname);
	freeaddrinfo(res);
}

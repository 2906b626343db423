/*
 * proxy_accept.h - the worker's side of the PROXY protocol: on a
 * listener with proxy_protocol = true, before anything else is read or
 * written (the greeting, a TLS handshake), check that the connection
 * comes from one of the listener's proxy_trusted balancers and read its
 * PROXY header (proxy_proto.c parses it), taking no byte past the
 * header.  The header's source then becomes the connection's peer, so
 * that the session, the plugins, the logs and the per-client limits see
 * the real client.
 */
#ifndef PSMTPD_PROXY_ACCEPT_H
#define PSMTPD_PROXY_ACCEPT_H

#include <sys/socket.h>

struct config_listener;

/*
 * fd: the accepted connection; *peer, *peerlen: its address, replaced by
 * the client's (kept for LOCAL, UNKNOWN and the families the session
 * cannot show); timeout: seconds for the whole header; listener: its name
 * for the log.  0, or -1 when the connection is to be closed at once, no
 * greeting sent: an untrusted sender, a malformed, truncated or oversized
 * header, none in time, or a read error (each logged with its reason).
 * A UNIX-socket peer (a unix: listener) is trusted: the socket's
 * permissions say who may connect.
 */
int proxy_accept(int fd, const struct config_listener *l, int timeout,
    const char *listener, struct sockaddr_storage *peer,
    socklen_t *peerlen);

#endif

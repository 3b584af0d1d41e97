/* "HOST:PORT" targets of the network outputs (--prometheus, --ipfix):
 * parsed once at open into a socket address, with errors a user can act
 * on. Forms: "198.18.0.1:9464", "[2001:2::1]:4739", ":9464" (the default
 * host), and for --ipfix host names ("collector:4739"). */
#ifndef FB_HOSTPORT_H
#define FB_HOSTPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct fb_hostport {
	struct sockaddr_storage ss;
	socklen_t len;
	int family; /* AF_INET or AF_INET6 */
	char text[80]; /* "127.0.0.1:9464", "[::1]:4739": for messages */
};

/* Parses s. def_host stands in for an empty host (NULL: a host is
 * required); numeric: the host must be an address, not a name (no
 * resolver at start). Returns 0, or -EINVAL with a one-line reason in err. */
int fb_hostport_parse(const char *s, const char *def_host, bool numeric, struct fb_hostport *hp,
		      char *err, size_t errlen);

#endif

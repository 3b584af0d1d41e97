/* Watches rtnetlink for the removal of the interfaces flowbatch captures on,
 * so a deleted interface is noticed at once and named on stderr. */
#ifndef FB_NETWATCH_H
#define FB_NETWATCH_H
#include <stddef.h>
#include <stdint.h>

/* Returns a socket fd subscribed to link changes, or -errno. */
int fb_netwatch_open(void);
/* Reads pending messages; returns the ifindex of a removed interface that
 * is in ifs[0..n), 0 if none, -ENOBUFS when the socket overran (a removal
 * may have been lost: check every interface), or another -errno. */
int fb_netwatch_read(int fd, const uint32_t *ifs, int n);

/* The interface of the default IPv4 (else IPv6) route, from /proc; 0 or
 * -ENOENT. */
int fb_default_route_iface(char *name, size_t len);

#endif

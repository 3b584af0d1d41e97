/* rtnetlink link watcher, and the default route's interface. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "netwatch.h"

int fb_netwatch_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int fb_netwatch_read(int fd, const uint32_t *ifs, int n)
{
	char buf[16384] __attribute__((aligned(8)));
	int gone = 0;

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0)
			/* an overrun may have eaten a removal: say so, the
			 * caller then checks every interface */
			return errno == EAGAIN ? gone : errno == ENOBUFS ? -ENOBUFS : -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			int i;

			/* a payload too short for ifinfomsg would read the next message */
			if (h->nlmsg_type != RTM_DELLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
				continue;
			for (i = 0; i < n; i++)
				if ((uint32_t)ifi->ifi_index == ifs[i])
					gone = ifi->ifi_index;
		}
	}
}

int fb_default_route_iface(char *name, size_t len)
{
	char line[512], ifn[64];
	unsigned long dst, mask, metric, best = ~0ul;
	unsigned flags;
	FILE *f = fopen("/proc/net/route", "r");
	int found = 0;

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%63s %lx %*x %x %*d %*d %lu %lx", ifn, &dst, &flags, &metric,
				   &mask) != 5)
				continue;
			if (dst || mask || !(flags & 1 /* RTF_UP */) || metric >= best)
				continue;
			best = metric;
			snprintf(name, len, "%s", ifn);
			found = 1;
		}
		fclose(f);
	}
	if (found)
		return 0;
	f = fopen("/proc/net/ipv6_route", "r");
	if (f) {
		char d[40];
		unsigned plen;

		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%32s %x %*s %*s %*s %lx %*s %*s %*s %63s", d, &plen, &metric, ifn) != 4)
				continue;
			if (plen || strcmp(d, "00000000000000000000000000000000") || !strcmp(ifn, "lo") ||
			    metric >= best)
				continue;
			best = metric;
			snprintf(name, len, "%s", ifn);
			found = 1;
		}
		fclose(f);
	}
	return found ? 0 : -ENOENT;
}

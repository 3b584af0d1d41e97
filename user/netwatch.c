/* rtnetlink link watcher. */
#include <errno.h>
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
			return errno == EAGAIN ? gone : errno == ENOBUFS ? gone : -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			int i;

			if (h->nlmsg_type != RTM_DELLINK)
				continue;
			for (i = 0; i < n; i++)
				if ((uint32_t)ifi->ifi_index == ifs[i])
					gone = ifi->ifi_index;
		}
	}
}

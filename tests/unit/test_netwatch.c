/* The rtnetlink link watcher (user/netwatch.c): crafted RTM_NEWLINK and
 * RTM_DELLINK messages fed through a datagram socketpair, which hands
 * fb_netwatch_read one datagram per recv just as a netlink socket does,
 * with no privilege and no interface to delete. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "netwatch.h"

static int sp[2] = { -1, -1 }; /* [0] read by fb_netwatch_read, [1] written here */

static void setup(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp), 0,
		     "socketpair: %s", strerror(errno));
}

static void teardown(void)
{
	close(sp[0]);
	close(sp[1]);
}

TestSuite(netwatch, .init = setup, .fini = teardown);

/* A datagram being built: link messages back to back, each padded to
 * NLMSG_ALIGNTO as the kernel sends them. */
struct dgram {
	uint8_t b[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t len;
};

/* One link message with an IFLA_IFNAME attribute, as the kernel's. */
static void add_link(struct dgram *d, uint16_t type, int ifindex)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(d->b + d->len);
	struct ifinfomsg *ifi;
	struct rtattr *rta;
	size_t len = NLMSG_LENGTH(sizeof(*ifi)) + RTA_SPACE(sizeof("veth0"));

	cr_assert_leq(d->len + NLMSG_ALIGN(len), sizeof(d->b));
	memset(h, 0, NLMSG_ALIGN(len));
	h->nlmsg_len = (uint32_t)len;
	h->nlmsg_type = type;
	ifi = NLMSG_DATA(h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	rta = (struct rtattr *)((uint8_t *)ifi + NLMSG_ALIGN(sizeof(*ifi)));
	rta->rta_type = IFLA_IFNAME;
	rta->rta_len = RTA_LENGTH(sizeof("veth0"));
	memcpy(RTA_DATA(rta), "veth0", sizeof("veth0"));
	d->len += NLMSG_ALIGN(len);
}

/* A message of only a header (no payload) of the given type. */
static void add_bare(struct dgram *d, uint16_t type)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(d->b + d->len);

	cr_assert_leq(d->len + NLMSG_HDRLEN, sizeof(d->b));
	memset(h, 0, NLMSG_HDRLEN);
	h->nlmsg_len = NLMSG_HDRLEN;
	h->nlmsg_type = type;
	d->len += NLMSG_HDRLEN;
}

static void send_dgram(const struct dgram *d)
{
	cr_assert_eq(send(sp[1], d->b, d->len, 0), (ssize_t)d->len, "send: %s", strerror(errno));
}

static void send_one(uint16_t type, int ifindex)
{
	struct dgram d = { .len = 0 };

	add_link(&d, type, ifindex);
	send_dgram(&d);
}

static const uint32_t IFS[] = { 3, 7, 12 };

Test(netwatch, nothing_pending_reads_zero)
{
	cr_expect_eq(fb_netwatch_read(sp[0], IFS, 3), 0);
}

Test(netwatch, removal_of_a_watched_interface)
{
	send_one(RTM_DELLINK, 7);
	cr_expect_eq(fb_netwatch_read(sp[0], IFS, 3), 7);
	/* everything was read: nothing left for the next call */
	cr_expect_eq(fb_netwatch_read(sp[0], IFS, 3), 0);
}

Test(netwatch, first_and_last_of_the_watched_list)
{
	send_one(RTM_DELLINK, 3);
	cr_expect_eq(fb_netwatch_read(sp[0], IFS, 3), 3);
	send_one(RTM_DELLINK, 12);
	cr_expect_eq(fb_netwatch_read(sp[0], IFS, 3), 12);
	/* n bounds the list: 12 is not among the first two */
	send_one(RTM_DELLINK, 12);
	cr_expect_eq(fb_netwatch_read(sp[0], IFS, 2), 0);
}

Test(netwatch, removal_of_another_interface_is_ignored)
{
	send_one(RTM_DELLINK, 4);
	cr_expect_eq(fb_netwatch_read(sp[0], IFS, 3), 0);
}

/* A new or changed link (up, down, renamed) is not a removal. */
Test(netwatch, newlink_is_not_a_removal)
{
	send_one(RTM_NEWLINK, 7);
	cr_expect_eq(fb_netwatch_read(sp[0], IFS, 3), 0);
}

/* Several messages in one datagram, as the kernel batches them. */
Test(netwatch, removal_after_other_messages_in_one_datagram)
{
	struct dgram d = { .len = 0 };

	add_link(&d, RTM_NEWLINK, 7);
	add_link(&d, RTM_DELLINK, 5);
	add_bare(&d, NLMSG_NOOP);
	add_link(&d, RTM_DELLINK, 12);
	add_link(&d, RTM_NEWLINK, 3);
	send_dgram(&d);
	cr_expect_eq(fb_netwatch_read(sp[0], IFS, 3), 12);
}

/* Several datagrams pending: all are read before returning. */
Test(netwatch, removal_in_a_later_datagram)
{
	send_one(RTM_NEWLINK, 3);
	send_one(RTM_DELLINK, 9);
	send_one(RTM_DELLINK, 3);
	send_one(RTM_NEWLINK, 12);
	cr_expect_eq(fb_netwatch_read(sp[0], IFS, 3), 3);
	cr_expect_eq(fb_netwatch_read(sp[0], IFS, 3), 0);
}

/* A DELLINK too short to hold its struct ifinfomsg names no interface:
 * the bytes after its header belong to the next message (here its type,
 * RTM_NEWLINK = 16, sits where an ifi_index would be read). */
Test(netwatch, dellink_without_payload_names_nothing)
{
	static const uint32_t watch16[] = { 16 };
	struct dgram d = { .len = 0 };

	add_bare(&d, RTM_DELLINK);
	add_link(&d, RTM_NEWLINK, 2);
	send_dgram(&d);
	cr_expect_eq(fb_netwatch_read(sp[0], watch16, 1), 0);
}

/* A message whose length runs past the datagram is not parsed. */
Test(netwatch, truncated_message_ignored)
{
	struct dgram d = { .len = 0 };

	add_link(&d, RTM_DELLINK, 7);
	((struct nlmsghdr *)d.b)->nlmsg_len = 4000;
	send_dgram(&d);
	cr_expect_eq(fb_netwatch_read(sp[0], IFS, 3), 0);
}

/* Errors other than "nothing more to read" come back as -errno. */
Test(netwatch, read_error_is_negative_errno)
{
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_expect_eq(fb_netwatch_read(p[0], IFS, 3), -ENOTSOCK);
	close(p[0]);
	close(p[1]);
	cr_expect_eq(fb_netwatch_read(-1, IFS, 3), -EBADF);
}

/* The real socket: subscribing to link changes needs no privilege. */
Test(netwatch, open_real_socket_nonblocking)
{
	int fd = fb_netwatch_open();

	cr_assert_geq(fd, 0, "fb_netwatch_open: %s", strerror(-fd));
	/* no interface is watched: whatever changes meanwhile, the answer is
	 * 0, and the non-blocking socket returns at once */
	cr_expect_eq(fb_netwatch_read(fd, IFS, 0), 0);
	close(fd);
}

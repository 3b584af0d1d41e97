/* See linktype.h. The table below is the whole policy: which ARPHRD_*
 * values flowbatch parses and how; everything not listed is refused. */
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linktype.h"

/* Values newer than some libc headers */
#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif
#ifndef ARPHRD_IP6GRE
#define ARPHRD_IP6GRE 823
#endif
#ifndef ARPHRD_NETLINK
#define ARPHRD_NETLINK 824
#endif
#ifndef ARPHRD_6LOWPAN
#define ARPHRD_6LOWPAN 825
#endif
#ifndef ARPHRD_VSOCKMON
#define ARPHRD_VSOCKMON 826
#endif
#ifndef ARPHRD_CAN
#define ARPHRD_CAN 280
#endif
#ifndef ARPHRD_MCTP
#define ARPHRD_MCTP 290
#endif

static const struct {
	unsigned int type;
	const char *name;
	enum fb_linkkind kind;
} types[] = {
	{ARPHRD_ETHER, "ether", FB_LINK_ETHERNET},
	{ARPHRD_LOOPBACK, "loopback", FB_LINK_LOOPBACK},
	/* no link header: the frame starts with the IP header */
	{ARPHRD_NONE, "none", FB_LINK_RAW_IP},       /* tun, WireGuard, xfrm */
	{ARPHRD_RAWIP, "rawip", FB_LINK_RAW_IP},     /* cellular modems */
	{ARPHRD_PPP, "ppp", FB_LINK_RAW_IP},
	{ARPHRD_TUNNEL, "ipip", FB_LINK_RAW_IP},     /* ipip, vti */
	{ARPHRD_TUNNEL6, "tunnel6", FB_LINK_RAW_IP}, /* ip6tnl, vti6 */
	{ARPHRD_SIT, "sit", FB_LINK_RAW_IP},
	{ARPHRD_IPGRE, "gre", FB_LINK_RAW_IP},
	{ARPHRD_IP6GRE, "ip6gre", FB_LINK_RAW_IP},
	{ARPHRD_SLIP, "slip", FB_LINK_RAW_IP},
	{ARPHRD_CSLIP, "cslip", FB_LINK_RAW_IP},
	/* link layers flowbatch does not read, named for the error */
	{ARPHRD_IEEE802, "ieee802", FB_LINK_UNSUPPORTED},
	{ARPHRD_INFINIBAND, "infiniband", FB_LINK_UNSUPPORTED},
	{ARPHRD_CAN, "can", FB_LINK_UNSUPPORTED},
	{ARPHRD_MCTP, "mctp", FB_LINK_UNSUPPORTED},
	{ARPHRD_HDLC, "hdlc", FB_LINK_UNSUPPORTED},
	{ARPHRD_X25, "x25", FB_LINK_UNSUPPORTED},
	{ARPHRD_IEEE80211, "ieee80211", FB_LINK_UNSUPPORTED},
	{ARPHRD_IEEE80211_PRISM, "ieee80211-prism", FB_LINK_UNSUPPORTED},
	{ARPHRD_IEEE80211_RADIOTAP, "ieee80211-radiotap", FB_LINK_UNSUPPORTED},
	{ARPHRD_IEEE802154, "ieee802154", FB_LINK_UNSUPPORTED},
	{ARPHRD_6LOWPAN, "6lowpan", FB_LINK_UNSUPPORTED},
	{ARPHRD_NETLINK, "netlink", FB_LINK_UNSUPPORTED},
	{ARPHRD_VSOCKMON, "vsockmon", FB_LINK_UNSUPPORTED},
	{ARPHRD_VOID, "void", FB_LINK_UNSUPPORTED},
};

#define NTYPES (sizeof(types) / sizeof(types[0]))

enum fb_linkkind fb_linktype_kind(unsigned int arphrd)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		if (types[i].type == arphrd)
			return types[i].kind;
	return FB_LINK_UNSUPPORTED;
}

const char *fb_linktype_name(unsigned int arphrd)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		if (types[i].type == arphrd)
			return types[i].name;
	return NULL;
}

/* sysfs shows the network namespace it was mounted in, which need not be
 * ours; the ioctl asks our own namespace, so it goes first */
static int read_sysfs(const char *ifname, unsigned int *arphrd)
{
	char path[64];
	unsigned int t;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/type", ifname);
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? -ENODEV : -errno;
	n = fscanf(f, "%u", &t);
	fclose(f);
	if (n != 1)
		return -EIO;
	*arphrd = t;
	return 0;
}

int fb_linktype_read(const char *ifname, unsigned int *arphrd)
{
	struct ifreq ifr;
	int fd, e;

	if (!ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return -ENODEV;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return read_sysfs(ifname, arphrd);
	/* the kernel puts dev->type in the address family */
	e = ioctl(fd, SIOCGIFHWADDR, &ifr) ? -errno : 0;
	close(fd);
	if (e == -ENODEV)
		return e;
	if (e)
		return read_sysfs(ifname, arphrd);
	*arphrd = ifr.ifr_hwaddr.sa_family;
	return 0;
}

enum fb_linkkind fb_linktype_of(const char *ifname, char *err, size_t errlen)
{
	enum fb_linkkind k;
	unsigned int t = 0;
	const char *name;
	int e;

	e = fb_linktype_read(ifname, &t);
	if (e) {
		snprintf(err, errlen, "cannot read the link type of %s: %s", ifname, strerror(-e));
		return FB_LINK_UNSUPPORTED;
	}
	k = fb_linktype_kind(t);
	if (k == FB_LINK_UNSUPPORTED) {
		name = fb_linktype_name(t);
		snprintf(err, errlen,
			 "cannot capture on %s: its link type %u (%s) is not one flowbatch reads "
			 "(Ethernet, loopback, or raw IP as on tun, WireGuard, ipip, gre, sit, ppp)",
			 ifname, t, name ? name : "unknown");
	}
	return k;
}

bool fb_linktype_any_raw_ip(const char (*ifnames)[16], int n)
{
	unsigned int t;
	int i;

	for (i = 0; i < n; i++)
		if (!fb_linktype_read(ifnames[i], &t) && fb_linktype_kind(t) == FB_LINK_RAW_IP)
			return true;
	return false;
}

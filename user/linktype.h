/* An interface's link type (ARPHRD_*), read at attach, and what it means for
 * flowbatch's parser: frames that start with an Ethernet header, frames
 * that start with the IP header, or a link layer flowbatch does not read
 * (refused at start rather than turned into made-up flows). No libbpf. */
#ifndef FB_LINKTYPE_H
#define FB_LINKTYPE_H
#include <stdbool.h>
#include <stddef.h>

enum fb_linkkind {
	FB_LINK_ETHERNET,    /* Ethernet header: veth, NICs, bridges, bonds, tap, Wi-Fi */
	FB_LINK_LOOPBACK,    /* lo: an all-zero Ethernet header, read as Ethernet */
	FB_LINK_RAW_IP,      /* IP header first: tun, WireGuard, ipip, gre, sit, ppp */
	FB_LINK_UNSUPPORTED, /* anything else: CAN, 802.11 monitor, InfiniBand, ... */
};

/* The kind of an ARPHRD_* value. */
enum fb_linkkind fb_linktype_kind(unsigned int arphrd);
/* A short name for an ARPHRD_* value ("ether", "none", "ipip",
 * "ieee80211-radiotap"), or NULL when it has none here. */
const char *fb_linktype_name(unsigned int arphrd);
/* Reads ifname's ARPHRD_* type (SIOCGIFHWADDR, else /sys/class/net); 0 or
 * -errno (-ENODEV: no such interface). */
int fb_linktype_read(const char *ifname, unsigned int *arphrd);
/* Reads and classifies ifname. For a link type flowbatch cannot read, or
 * when it cannot be read, returns FB_LINK_UNSUPPORTED and puts one line
 * (without "flowbatch: " and newline) saying why into err. */
enum fb_linkkind fb_linktype_of(const char *ifname, char *err, size_t errlen);
/* Whether any of the n interfaces is a raw-IP link: the raw-IP program
 * variants are loaded only then. Unreadable names count as not raw IP. */
bool fb_linktype_any_raw_ip(const char (*ifnames)[16], int n);

#endif

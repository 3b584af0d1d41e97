/* user/linktype: every ARPHRD_* value flowbatch names maps to the parser
 * that reads it, or is refused; reading an interface's type. */
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if_arp.h>
#include <string.h>

#include "linktype.h"

static const struct {
	unsigned int type;
	enum fb_linkkind kind;
	const char *name;
} cases[] = {
	{1, FB_LINK_ETHERNET, "ether"},        /* ARPHRD_ETHER */
	{772, FB_LINK_LOOPBACK, "loopback"},   /* ARPHRD_LOOPBACK */
	{0xFFFE, FB_LINK_RAW_IP, "none"},      /* ARPHRD_NONE: tun, WireGuard */
	{519, FB_LINK_RAW_IP, "rawip"},        /* ARPHRD_RAWIP */
	{512, FB_LINK_RAW_IP, "ppp"},          /* ARPHRD_PPP */
	{768, FB_LINK_RAW_IP, "ipip"},         /* ARPHRD_TUNNEL */
	{769, FB_LINK_RAW_IP, "tunnel6"},      /* ARPHRD_TUNNEL6 */
	{776, FB_LINK_RAW_IP, "sit"},          /* ARPHRD_SIT */
	{778, FB_LINK_RAW_IP, "gre"},          /* ARPHRD_IPGRE */
	{823, FB_LINK_RAW_IP, "ip6gre"},       /* ARPHRD_IP6GRE */
	{256, FB_LINK_RAW_IP, "slip"},         /* ARPHRD_SLIP */
	{32, FB_LINK_UNSUPPORTED, "infiniband"},
	{280, FB_LINK_UNSUPPORTED, "can"},
	{801, FB_LINK_UNSUPPORTED, "ieee80211"},
	{803, FB_LINK_UNSUPPORTED, "ieee80211-radiotap"},
	{804, FB_LINK_UNSUPPORTED, "ieee802154"},
	{824, FB_LINK_UNSUPPORTED, "netlink"}, /* nlmon */
	{0xFFFF, FB_LINK_UNSUPPORTED, "void"},
	{12345, FB_LINK_UNSUPPORTED, NULL},    /* unknown: refused, not guessed */
	{2, FB_LINK_UNSUPPORTED, NULL},        /* ARPHRD_EETHER: not Ethernet II */
};

Test(linktype, table)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = fb_linktype_name(cases[i].type);

		cr_expect_eq(fb_linktype_kind(cases[i].type), cases[i].kind, "type %u: kind %d, want %d",
			     cases[i].type, fb_linktype_kind(cases[i].type), cases[i].kind);
		if (cases[i].name)
			cr_expect(name && !strcmp(name, cases[i].name), "type %u: name %s, want %s",
				  cases[i].type, name ? name : "(null)", cases[i].name);
		else
			cr_expect_null(name, "type %u: name %s, want none", cases[i].type, name);
	}
}

/* the libc constants agree with the numbers above */
Test(linktype, libc_constants)
{
	cr_expect_eq(fb_linktype_kind(ARPHRD_ETHER), FB_LINK_ETHERNET);
	cr_expect_eq(fb_linktype_kind(ARPHRD_NONE), FB_LINK_RAW_IP);
	cr_expect_eq(fb_linktype_kind(ARPHRD_IPGRE), FB_LINK_RAW_IP);
	cr_expect_eq(fb_linktype_kind(ARPHRD_IEEE80211_RADIOTAP), FB_LINK_UNSUPPORTED);
}

/* lo exists in every network namespace */
Test(linktype, reads_loopback)
{
	unsigned int t = 0;
	char err[256] = "";

	cr_assert_eq(fb_linktype_read("lo", &t), 0);
	cr_expect_eq(t, ARPHRD_LOOPBACK, "lo: type %u", t);
	cr_expect_eq(fb_linktype_of("lo", err, sizeof(err)), FB_LINK_LOOPBACK);
	cr_expect_str_empty(err);
}

Test(linktype, missing_interface)
{
	unsigned int t = 0;
	char err[256] = "";

	cr_expect_eq(fb_linktype_read("fbnosuch0", &t), -ENODEV);
	cr_expect_eq(fb_linktype_read("", &t), -ENODEV);
	cr_expect_eq(fb_linktype_read("an-interface-name-too-long", &t), -ENODEV);
	cr_expect_eq(fb_linktype_of("fbnosuch0", err, sizeof(err)), FB_LINK_UNSUPPORTED);
	cr_expect(strstr(err, "fbnosuch0") != NULL, "error does not name the interface: %s", err);
	cr_expect(strchr(err, '\n') == NULL, "error is not one line: %s", err);
}

Test(linktype, any_raw_ip)
{
	const char names[2][16] = {"lo", "fbnosuch0"};

	cr_expect_not(fb_linktype_any_raw_ip(names, 2));
	cr_expect_not(fb_linktype_any_raw_ip(names, 0));
}

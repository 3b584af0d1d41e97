/* Key specs (-k) and flow keys built from records. */
#include <criterion/criterion.h>
#include <string.h>
#include "agg.h"
#include "helpers.h"

static struct fb_keyspec ks;
static char err[256];

static void parse_ok(const char *s)
{
	memset(err, 0, sizeof(err));
	cr_assert_eq(fb_keyspec_parse(s, &ks, err, sizeof(err)), 0, "'%s': %s", s, err);
}

static void parse_bad(const char *s, const char *mention)
{
	memset(err, 0, sizeof(err));
	cr_assert_eq(fb_keyspec_parse(s, &ks, err, sizeof(err)), -1, "'%s' should be rejected", s);
	cr_assert_neq(err[0], '\0');
	cr_assert_null(strchr(err, '\n'), "one line: %s", err);
	if (mention)
		cr_assert_not_null(strstr(err, mention), "'%s' should mention '%s'", err, mention);
}

/* ---- parsing -------------------------------------------------------------- */

Test(keyspec, default_list_has_every_field_and_full_prefixes)
{
	parse_ok(FB_KEYS_DEFAULT);
	cr_assert_eq(ks.fields, (uint32_t)(FB_K_IFACE | FB_K_DIR | FB_K_ETYPE | FB_K_PROTO | FB_K_SRC |
					   FB_K_DST | FB_K_SPORT | FB_K_DPORT));
	cr_assert_eq(ks.src4, 32);
	cr_assert_eq(ks.dst4, 32);
	cr_assert_eq(ks.src6, 128);
	cr_assert_eq(ks.dst6, 128);
}

#define FIELD_TEST(name, bit)                                  \
	Test(keyspec, field_##name)                            \
	{                                                      \
		parse_ok(#name);                               \
		cr_assert_eq(ks.fields, (uint32_t)(bit));      \
		cr_assert_eq(ks.src4, 32);                     \
		cr_assert_eq(ks.src6, 128);                    \
	}

FIELD_TEST(iface, FB_K_IFACE)
FIELD_TEST(dir, FB_K_DIR)
FIELD_TEST(etype, FB_K_ETYPE)
FIELD_TEST(proto, FB_K_PROTO)
FIELD_TEST(src, FB_K_SRC)
FIELD_TEST(dst, FB_K_DST)
FIELD_TEST(sport, FB_K_SPORT)
FIELD_TEST(dport, FB_K_DPORT)

Test(keyspec, order_does_not_matter)
{
	parse_ok("dport,src,proto");
	cr_assert_eq(ks.fields, (uint32_t)(FB_K_DPORT | FB_K_SRC | FB_K_PROTO));
}

Test(keyspec, v4_prefix_only_gives_v6_64)
{
	parse_ok("src/24,dst");
	cr_assert_eq(ks.fields, (uint32_t)(FB_K_SRC | FB_K_DST));
	cr_assert_eq(ks.src4, 24);
	cr_assert_eq(ks.src6, 64);
	cr_assert_eq(ks.dst4, 32);
	cr_assert_eq(ks.dst6, 128);
}

Test(keyspec, v4_and_v6_prefixes)
{
	parse_ok("dst/24/48");
	cr_assert_eq(ks.fields, (uint32_t)FB_K_DST);
	cr_assert_eq(ks.dst4, 24);
	cr_assert_eq(ks.dst6, 48);
	cr_assert_eq(ks.src4, 32);
	cr_assert_eq(ks.src6, 128);
}

Test(keyspec, prefix_zero)
{
	parse_ok("src/0/0");
	cr_assert_eq(ks.src4, 0);
	cr_assert_eq(ks.src6, 0);
	parse_ok("dst/0");
	cr_assert_eq(ks.dst4, 0);
	cr_assert_eq(ks.dst6, 64);
}

Test(keyspec, prefix_full_length)
{
	parse_ok("src/32/128,dst/32");
	cr_assert_eq(ks.src4, 32);
	cr_assert_eq(ks.src6, 128);
	cr_assert_eq(ks.dst4, 32);
}

Test(keyspec, v4_prefix_33_rejected)
{
	parse_bad("src/33", "'33'");
}

Test(keyspec, v6_prefix_129_rejected)
{
	parse_bad("dst/24/129", "'129'");
}

Test(keyspec, prefix_not_a_number_rejected)
{
	parse_bad("src/x", "'x'");
}

Test(keyspec, prefix_negative_rejected)
{
	parse_bad("src/-1", "'-1'");
}

Test(keyspec, prefix_empty_rejected)
{
	parse_bad("src/", "src");
	parse_bad("src/24/", "src");
}

Test(keyspec, prefix_trailing_junk_rejected)
{
	parse_bad("src/24x", "'24x'");
	parse_bad("src/24/48/1", "48/1");
	parse_bad("src/+24", "'+24'");
}

Test(keyspec, duplicate_key_rejected)
{
	parse_bad("src,dst,src", "'src'");
}

Test(keyspec, duplicate_key_with_prefix_rejected)
{
	parse_bad("dst/24,dst/16", "'dst'");
}

Test(keyspec, unknown_key_rejected)
{
	parse_bad("src,vlan", "'vlan'");
}

Test(keyspec, keys_are_case_sensitive)
{
	parse_bad("SRC", "'SRC'");
}

Test(keyspec, prefix_on_non_address_key_rejected)
{
	parse_bad("sport/16", "'sport'");
	parse_bad("iface/1", "'iface'");
}

Test(keyspec, empty_list_rejected)
{
	parse_bad("", NULL);
	parse_bad(",", NULL);
}

Test(keyspec, too_long_list_rejected)
{
	char big[400];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	parse_bad(big, NULL);
}

/* ---- building keys ---------------------------------------------------------- */

static struct fb_pkt pkt_v4(void)
{
	struct fb_pkt p = mkpkt(3, 7, 123, 40000, 1500);

	p.flags = FB_F_EGRESS | FB_F_VLAN;
	p.tcp_flags = 0x12;
	p.proto = 6;
	p.dport = 443;
	p.ifindex = 42;
	addr_set(p.src, "10.1.255.77");
	addr_set(p.dst, "192.168.203.9");
	return p;
}

static struct fb_pkt pkt_v6(void)
{
	struct fb_pkt p = pkt_v4();

	p.flags = FB_F_IPV6;
	p.ethertype = FB_ETH_P_IPV6;
	addr_set(p.src, "2001:db8:aaaa:ffff:1:2:3:4");
	addr_set(p.dst, "fe80::ffff:ffff:ffff:ffff");
	return p;
}

static void build(const char *spec, const struct fb_pkt *p, struct fb_key *k)
{
	parse_ok(spec);
	memset(k, 0xaa, sizeof(*k)); /* build must not rely on a zeroed key */
	fb_key_build(&ks, p, k);
}

static void assert_addr(const uint8_t got[16], const char *want)
{
	uint8_t w[16];
	char a[64], b[64];

	addr_set(w, want);
	inet_ntop(AF_INET6, got, a, sizeof(a));
	inet_ntop(AF_INET6, w, b, sizeof(b));
	cr_assert_eq(memcmp(got, w, 16), 0, "got %s, want %s", a, b);
}

Test(key_build, all_fields_copied)
{
	struct fb_pkt p = pkt_v4();
	struct fb_key k;

	build(FB_KEYS_DEFAULT, &p, &k);
	assert_addr(k.src, "10.1.255.77");
	assert_addr(k.dst, "192.168.203.9");
	cr_assert_eq(k.ifindex, 42);
	cr_assert_eq(k.sport, 40000);
	cr_assert_eq(k.dport, 443);
	cr_assert_eq(k.ethertype, FB_ETH_P_IP);
	cr_assert_eq(k.proto, 6);
	cr_assert_eq(k.dir, 1);
	cr_assert_eq(k.pad, 0);
}

Test(key_build, ingress_is_dir_0)
{
	struct fb_pkt p = pkt_v4();
	struct fb_key k;

	p.flags = FB_F_VLAN | FB_F_FRAG;
	build("dir", &p, &k);
	cr_assert_eq(k.dir, 0);
}

Test(key_build, fields_not_in_spec_are_zero)
{
	struct fb_pkt p = pkt_v4();
	struct fb_key k, want;

	build("proto,dport", &p, &k);
	memset(&want, 0, sizeof(want));
	want.proto = 6;
	want.dport = 443;
	cr_assert_eq(memcmp(&k, &want, sizeof(k)), 0);
}

Test(key_build, only_src_is_kept)
{
	struct fb_pkt p = pkt_v4();
	struct fb_key k, want;

	build("src", &p, &k);
	memset(&want, 0, sizeof(want));
	addr_set(want.src, "10.1.255.77");
	cr_assert_eq(memcmp(&k, &want, sizeof(k)), 0);
}

Test(key_build, v4_prefix_24)
{
	struct fb_pkt p = pkt_v4();
	struct fb_key k;

	build("src/24,dst/16", &p, &k);
	assert_addr(k.src, "10.1.255.0");
	assert_addr(k.dst, "192.168.0.0");
}

Test(key_build, v4_prefix_not_byte_aligned_20)
{
	struct fb_pkt p = pkt_v4();
	struct fb_key k;

	build("src/20", &p, &k);
	assert_addr(k.src, "10.1.240.0");
}

Test(key_build, v4_prefix_1_and_31)
{
	struct fb_pkt p = pkt_v4();
	struct fb_key k;

	build("dst/1,src/31", &p, &k);
	assert_addr(k.dst, "128.0.0.0");
	assert_addr(k.src, "10.1.255.76");
}

Test(key_build, v4_prefix_0_keeps_the_v4_mapping)
{
	struct fb_pkt p = pkt_v4();
	struct fb_key k;

	build("src/0", &p, &k);
	assert_addr(k.src, "0.0.0.0"); /* ::ffff:0.0.0.0, still an IPv4 key */
	cr_assert_eq(k.src[10], 0xff);
	cr_assert_eq(k.src[11], 0xff);
}

Test(key_build, v4_uses_v4_prefix_not_v6)
{
	struct fb_pkt p = pkt_v4();
	struct fb_key k;

	build("src/8/128", &p, &k);
	assert_addr(k.src, "10.0.0.0");
}

Test(key_build, v6_uses_v6_prefix_not_v4)
{
	struct fb_pkt p = pkt_v6();
	struct fb_key k;

	build("src/8/128", &p, &k);
	assert_addr(k.src, "2001:db8:aaaa:ffff:1:2:3:4");
}

Test(key_build, v6_prefix_48)
{
	struct fb_pkt p = pkt_v6();
	struct fb_key k;

	build("src/24/48", &p, &k);
	assert_addr(k.src, "2001:db8:aaaa::");
}

Test(key_build, v6_prefix_not_byte_aligned_63)
{
	struct fb_pkt p = pkt_v6();
	struct fb_key k;

	build("src/32/63,dst/32/63", &p, &k);
	assert_addr(k.src, "2001:db8:aaaa:fffe::");
	assert_addr(k.dst, "fe80::");
}

Test(key_build, v6_prefix_default_64_with_v4_prefix)
{
	struct fb_pkt p = pkt_v6();
	struct fb_key k;

	build("dst/24", &p, &k);
	assert_addr(k.dst, "fe80::");
	p.dst[7] = 0x5a;
	p.dst[8] = 0x5a;
	fb_key_build(&ks, &p, &k);
	cr_assert_eq(k.dst[7], 0x5a);
	cr_assert_eq(k.dst[8], 0);
}

Test(key_build, v6_prefix_0_is_all_zero)
{
	struct fb_pkt p = pkt_v6();
	struct fb_key k;
	static const uint8_t zero[16];

	build("src/32/0", &p, &k);
	cr_assert_eq(memcmp(k.src, zero, 16), 0);
}

Test(key_build, v6_prefix_127)
{
	struct fb_pkt p = pkt_v6();
	struct fb_key k;

	build("src/32/127", &p, &k);
	assert_addr(k.src, "2001:db8:aaaa:ffff:1:2:3:4");
	p.src[15] = 0x05;
	fb_key_build(&ks, &p, &k);
	cr_assert_eq(k.src[15], 0x04);
}

Test(key_build, masked_keys_hash_equal)
{
	struct fb_pkt a = pkt_v4(), b = pkt_v4();
	struct fb_key ka, kb;

	addr_set(b.src, "10.1.242.1");
	b.sport = 1; /* not in the spec */
	build("src/20,dport", &a, &ka);
	fb_key_build(&ks, &b, &kb);
	cr_assert_eq(memcmp(&ka, &kb, sizeof(ka)), 0);
	cr_assert_eq(fb_key_hash(&ka), fb_key_hash(&kb));
}

Test(key_build, different_keys_hash_differently)
{
	struct fb_pkt a = pkt_v4(), b = pkt_v4();
	struct fb_key ka, kb;

	b.dport = 444;
	build(FB_KEYS_DEFAULT, &a, &ka);
	fb_key_build(&ks, &b, &kb);
	cr_assert_neq(fb_key_hash(&ka), fb_key_hash(&kb));
}

/* Text helpers: addresses, units, JSON strings, protocol names, TCP flags. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "fmt.h"
#include "helpers.h"

static const char *addr(const char *in)
{
	static char buf[64];
	uint8_t a[16];

	addr_set(a, in);
	return fb_fmt_addr(a, buf, sizeof(buf));
}

static const char *si(uint64_t v)
{
	static char buf[32];

	return fb_fmt_si(v, buf, sizeof(buf));
}

static const char *bytes(uint64_t v)
{
	static char buf[32];

	return fb_fmt_bytes(v, buf, sizeof(buf));
}

static char *json_out;

static char *json(const char *s)
{
	size_t len;
	FILE *f;

	free(json_out);
	json_out = NULL;
	f = open_memstream(&json_out, &len);
	fb_json_str(f, s);
	fclose(f);
	return json_out;
}

static void json_fini(void)
{
	free(json_out);
	json_out = NULL;
}

/* ---- addresses ------------------------------------------------------------ */

Test(fmt, addr_v4_mapped_is_dotted_quad)
{
	cr_assert_str_eq(addr("198.18.0.2"), "198.18.0.2");
	cr_assert_str_eq(addr("0.0.0.0"), "0.0.0.0");
	cr_assert_str_eq(addr("255.255.255.255"), "255.255.255.255");
}

Test(fmt, addr_v6_rfc5952)
{
	cr_assert_str_eq(addr("2001:db8::1"), "2001:db8::1");
	cr_assert_str_eq(addr("2001:DB8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
	cr_assert_str_eq(addr("fe80::"), "fe80::");
	cr_assert_str_eq(addr("::1"), "::1");
	cr_assert_str_eq(addr("::"), "::");
	cr_assert_str_eq(addr("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"),
			 "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
}

Test(fmt, addr_is_v4)
{
	uint8_t a[16];

	addr_set(a, "10.0.0.1");
	cr_assert(fb_addr_is_v4(a));
	addr_set(a, "::");
	cr_assert_not(fb_addr_is_v4(a));
	addr_set(a, "::fffe:a00:1");
	cr_assert_not(fb_addr_is_v4(a));
	addr_set(a, "2001:db8::ffff:a00:1");
	cr_assert_not(fb_addr_is_v4(a));
}

/* ---- units --------------------------------------------------------------------- */

Test(fmt, si_below_1000_is_exact)
{
	cr_assert_str_eq(si(0), "0");
	cr_assert_str_eq(si(1), "1");
	cr_assert_str_eq(si(999), "999");
}

Test(fmt, si_boundaries)
{
	cr_assert_str_eq(si(1000), "1.0k");
	cr_assert_str_eq(si(1500), "1.5k");
	cr_assert_str_eq(si(12345), "12.3k");
	cr_assert_str_eq(si(99949), "99.9k");
	cr_assert_str_eq(si(99950), "100k");
	cr_assert_str_eq(si(123456), "123k");
	cr_assert_str_eq(si(999499), "999k");
	cr_assert_str_eq(si(1000000), "1.0M");
	cr_assert_str_eq(si(1000000000), "1.0G");
	cr_assert_str_eq(si(1000000000000ull), "1.0T");
}

Test(fmt, si_header_example)
{
	cr_assert_str_eq(si(1234567), "1.2M");
}

/* 999.5k rounds to 1000k: shown as 1.0M */
Test(fmt, si_rounding_carries_into_next_unit)
{
	cr_assert_str_eq(si(999500), "1.0M");
	cr_assert_str_eq(si(999999), "1.0M");
	cr_assert_str_eq(si(999999999), "1.0G");
}

Test(fmt, si_largest_unit)
{
	cr_assert_str_eq(si(UINT64_MAX), "18447P");
}

Test(fmt, bytes_below_1024_is_exact)
{
	cr_assert_str_eq(bytes(0), "0B");
	cr_assert_str_eq(bytes(999), "999B");
	cr_assert_str_eq(bytes(1000), "1000B");
	cr_assert_str_eq(bytes(1023), "1023B");
}

Test(fmt, bytes_boundaries)
{
	cr_assert_str_eq(bytes(1024), "1.0KiB");
	cr_assert_str_eq(bytes(1536), "1.5KiB");
	cr_assert_str_eq(bytes(10 * 1024), "10.0KiB");
	cr_assert_str_eq(bytes(1023 * 1024), "1023KiB");
	cr_assert_str_eq(bytes(1 << 20), "1.0MiB");
	cr_assert_str_eq(bytes(3ull << 30), "3.0GiB");
}

Test(fmt, bytes_rounding_carries_into_next_unit)
{
	cr_assert_str_eq(bytes((1 << 20) - 1), "1.0MiB");
	cr_assert_str_eq(bytes((1ull << 30) - 1), "1.0GiB");
}

/* ---- JSON strings -------------------------------------------------------------- */

Test(fmt, json_plain, .fini = json_fini)
{
	cr_assert_str_eq(json("eth0"), "\"eth0\"");
	cr_assert_str_eq(json(""), "\"\"");
}

Test(fmt, json_quote_and_backslash, .fini = json_fini)
{
	cr_assert_str_eq(json("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

Test(fmt, json_short_escapes, .fini = json_fini)
{
	cr_assert_str_eq(json("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
}

Test(fmt, json_control_chars_as_u00xx, .fini = json_fini)
{
	cr_assert_str_eq(json("\x01x\x1f\x1b"), "\"\\u0001x\\u001f\\u001b\"");
}

Test(fmt, json_utf8_and_del_pass_through, .fini = json_fini)
{
	cr_assert_str_eq(json("caf\xc3\xa9\x7f/"), "\"caf\xc3\xa9\x7f/\"");
}

/* ---- names and flags ---------------------------------------------------------------- */

Test(fmt, proto_names)
{
	cr_assert_str_eq(fb_proto_name(6), "tcp");
	cr_assert_str_eq(fb_proto_name(17), "udp");
	cr_assert_str_eq(fb_proto_name(1), "icmp");
	cr_assert_str_eq(fb_proto_name(58), "icmp6");
	cr_assert_str_eq(fb_proto_name(132), "sctp");
	cr_assert_null(fb_proto_name(0));
	cr_assert_null(fb_proto_name(255));
}

Test(fmt, tcp_flag_letters)
{
	char buf[16];

	cr_assert_str_eq(fb_fmt_tcp_flags(0, buf, sizeof(buf)), "");
	cr_assert_str_eq(fb_fmt_tcp_flags(0x02, buf, sizeof(buf)), "S");
	cr_assert_str_eq(fb_fmt_tcp_flags(0x12, buf, sizeof(buf)), "SA");
	cr_assert_str_eq(fb_fmt_tcp_flags(0x11, buf, sizeof(buf)), "FA");
	cr_assert_str_eq(fb_fmt_tcp_flags(0x04, buf, sizeof(buf)), "R");
	cr_assert_str_eq(fb_fmt_tcp_flags(0x18, buf, sizeof(buf)), "PA");
	cr_assert_str_eq(fb_fmt_tcp_flags(0xff, buf, sizeof(buf)), "FSRPAUEC");
}

Test(fmt, tcp_flags_truncated_to_buffer)
{
	char buf[3];

	cr_assert_str_eq(fb_fmt_tcp_flags(0xff, buf, sizeof(buf)), "FS");
}

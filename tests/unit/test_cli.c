/* Command line: every option, its defaults and its bad values. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "helpers.h"

static struct fb_config cfg;
static char err[256];
static char *out;
static size_t outlen;

static void cleanup(void)
{
	free(out);
	out = NULL;
}

TestSuite(cli, .fini = cleanup);
TestSuite(parse_value);

#define ARGS(...) ((const char *[]){ "flowbatch", __VA_ARGS__, NULL })

static enum fb_cli_result parse(const char **args)
{
	char *argv[64];
	int argc = 0;
	enum fb_cli_result r;
	FILE *f;

	for (; args[argc]; argc++)
		argv[argc] = (char *)args[argc];
	argv[argc] = NULL;
	free(out);
	out = NULL;
	outlen = 0;
	f = open_memstream(&out, &outlen);
	cr_assert_not_null(f);
	memset(err, 0, sizeof(err));
	memset(&cfg, 0xa5, sizeof(cfg));
	r = fb_cli_parse(argc, argv, &cfg, f, err, sizeof(err));
	fclose(f);
	return r;
}

static void expect_run(const char **args)
{
	enum fb_cli_result r = parse(args);

	cr_assert_eq(r, FB_CLI_RUN, "expected RUN, got %d (%s)", r, err);
	cr_assert_eq(outlen, 0, "nothing printed on a normal parse");
}

/* BAD, with a one-line message that names the offending text */
static void expect_bad(const char **args, const char *mention)
{
	enum fb_cli_result r = parse(args);

	cr_assert_eq(r, FB_CLI_BAD, "expected BAD, got %d", r);
	cr_assert_neq(err[0], '\0', "an error message");
	cr_assert_null(strchr(err, '\n'), "one line: '%s'", err);
	if (mention)
		cr_assert_not_null(strstr(err, mention), "'%s' should mention '%s'", err, mention);
	cr_assert_eq(outlen, 0, "nothing printed on the output stream");
}

/* ---- defaults ---------------------------------------------------------- */

Test(cli, defaults_without_options)
{
	expect_run(ARGS(NULL));
	cr_assert_eq(cfg.cap.n_ifaces, 0);
	cr_assert_eq(cfg.cap.hook, FB_HOOK_TC);
	cr_assert_eq(cfg.cap.dir, FB_DIR_BOTH);
	cr_assert_eq(cfg.interval_ns, 1 * SEC);
	cr_assert_eq(cfg.grace_ns, 5 * MS);
	cr_assert_str_eq(cfg.keys_str, FB_KEYS_DEFAULT);
	cr_assert_eq(cfg.keys.fields, 0xffu);
	cr_assert_eq(cfg.top, 0);
	cr_assert_eq(cfg.top_set, false);
	cr_assert_eq(cfg.output, FB_FMT_AUTO);
	cr_assert_eq(cfg.count, 0);
	cr_assert_eq(cfg.duration_ns, 0);
	cr_assert_eq(cfg.cap.ring_size, 0); /* chosen at start from the CPU count */
	cr_assert(!cfg.cap.shared_ring);
	cr_assert_eq(cfg.max_flows, 65536);
	cr_assert_eq(cfg.cap.force, false);
	cr_assert_eq(cfg.cap.tc_mode, FB_TC_AUTO);
	cr_assert_eq(cfg.cap.xdp_mode, FB_XDP_AUTO);
	cr_assert_eq(cfg.verbose, 0);
}

/* ---- -i ------------------------------------------------------------------ */

Test(cli, interface_short_and_long_repeatable)
{
	expect_run(ARGS("-i", "eth0", "--interface", "lo", "--interface=veth-a"));
	cr_assert_eq(cfg.cap.n_ifaces, 3);
	cr_assert_str_eq(cfg.cap.ifaces[0], "eth0");
	cr_assert_str_eq(cfg.cap.ifaces[1], "lo");
	cr_assert_str_eq(cfg.cap.ifaces[2], "veth-a");
}

Test(cli, interface_duplicate_rejected)
{
	expect_bad(ARGS("-i", "eth0", "-i", "lo", "-i", "eth0"), "eth0");
}

Test(cli, interface_name_of_15_chars_accepted)
{
	expect_run(ARGS("-i", "abcdefghijklmno"));
	cr_assert_str_eq(cfg.cap.ifaces[0], "abcdefghijklmno");
}

Test(cli, interface_name_of_16_chars_rejected)
{
	expect_bad(ARGS("-i", "abcdefghijklmnop"), "abcdefghijklmnop");
}

Test(cli, interface_name_empty_rejected)
{
	expect_bad(ARGS("-i", ""), "''");
}

Test(cli, interface_name_with_slash_rejected)
{
	expect_bad(ARGS("-i", "a/b"), "a/b");
}

Test(cli, interface_at_most_16)
{
	const char *a[40] = { "flowbatch" };
	char names[17][8];
	int i, n = 1;

	for (i = 0; i < 17; i++) {
		snprintf(names[i], sizeof(names[i]), "if%d", i);
		a[n++] = "-i";
		a[n++] = names[i];
	}
	a[n] = NULL;
	expect_bad(a, "16");
	a[n - 2] = NULL; /* 16 of them are fine */
	expect_run(a);
	cr_assert_eq(cfg.cap.n_ifaces, 16);
	cr_assert_str_eq(cfg.cap.ifaces[15], "if15");
}

/* ---- --hook, --direction -------------------------------------------------- */

Test(cli, hook_xdp)
{
	expect_run(ARGS("--hook", "xdp"));
	cr_assert_eq(cfg.cap.hook, FB_HOOK_XDP);
	cr_assert_eq(cfg.cap.dir, FB_DIR_BOTH);
}

Test(cli, hook_tc)
{
	expect_run(ARGS("--hook=tc"));
	cr_assert_eq(cfg.cap.hook, FB_HOOK_TC);
}

Test(cli, hook_bad_value)
{
	expect_bad(ARGS("--hook", "tcx"), "'tcx'");
	cr_assert_not_null(strstr(err, "--hook"), "%s", err);
}

Test(cli, direction_values)
{
	expect_run(ARGS("--direction", "in"));
	cr_assert_eq(cfg.cap.dir, FB_DIR_IN);
	expect_run(ARGS("--direction", "out"));
	cr_assert_eq(cfg.cap.dir, FB_DIR_OUT);
	expect_run(ARGS("--direction", "both"));
	cr_assert_eq(cfg.cap.dir, FB_DIR_BOTH);
}

Test(cli, direction_bad_value)
{
	expect_bad(ARGS("--direction", "IN"), "'IN'");
}

Test(cli, hook_xdp_with_direction_out_rejected)
{
	expect_bad(ARGS("--hook", "xdp", "--direction", "out"), "--direction out");
}

Test(cli, hook_xdp_with_direction_in_accepted)
{
	expect_run(ARGS("--direction", "in", "--hook", "xdp"));
	cr_assert_eq(cfg.cap.hook, FB_HOOK_XDP);
	cr_assert_eq(cfg.cap.dir, FB_DIR_IN);
}

/* ---- -t ------------------------------------------------------------------ */

Test(cli, interval_250ms)
{
	expect_run(ARGS("-t", "250ms"));
	cr_assert_eq(cfg.interval_ns, 250 * MS);
}

Test(cli, interval_long_form_2m)
{
	expect_run(ARGS("--interval=2m"));
	cr_assert_eq(cfg.interval_ns, 120 * SEC);
}

Test(cli, interval_fractional_seconds)
{
	expect_run(ARGS("-t", "1.5s"));
	cr_assert_eq(cfg.interval_ns, 1500 * MS);
}

Test(cli, interval_lower_bound_10ms)
{
	expect_run(ARGS("-t", "10ms", "--grace", "0"));
	cr_assert_eq(cfg.interval_ns, 10 * MS);
	expect_bad(ARGS("-t", "9ms"), "'9ms'");
	expect_bad(ARGS("-t", "9999999ns"), "'9999999ns'");
}

Test(cli, interval_upper_bound_1h)
{
	expect_run(ARGS("-t", "1h"));
	cr_assert_eq(cfg.interval_ns, 3600 * SEC);
	expect_run(ARGS("-t", "60m"));
	cr_assert_eq(cfg.interval_ns, 3600 * SEC);
	expect_bad(ARGS("-t", "3601s"), "'3601s'");
	expect_bad(ARGS("-t", "2h"), "'2h'");
}

Test(cli, interval_bad_values)
{
	static const char *const bad[] = { "", "abc", "5x", "-1s", "1sx", "1 s", "s", "0", ".s" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[32];

		snprintf(want, sizeof(want), "'%s'", bad[i]);
		expect_bad(ARGS("-t", bad[i]), want);
		cr_assert_not_null(strstr(err, "-t"), "%s", err);
	}
}

/* ---- -D, --grace ------------------------------------------------------------ */

Test(cli, duration_value)
{
	expect_run(ARGS("-D", "1.5m"));
	cr_assert_eq(cfg.duration_ns, 90 * SEC);
}

Test(cli, duration_zero_rejected)
{
	expect_bad(ARGS("--duration", "0s"), "'0s'");
}

Test(cli, duration_bad_value)
{
	expect_bad(ARGS("-D", "10 s"), "'10 s'");
}

Test(cli, grace_value)
{
	expect_run(ARGS("--grace", "20ms"));
	cr_assert_eq(cfg.grace_ns, 20 * MS);
	expect_run(ARGS("--grace", "0"));
	cr_assert_eq(cfg.grace_ns, 0);
}

Test(cli, grace_above_1s_rejected)
{
	expect_bad(ARGS("-t", "1h", "--grace", "1001ms"), "'1001ms'");
}

Test(cli, grace_not_shorter_than_interval_rejected)
{
	expect_bad(ARGS("-t", "100ms", "--grace", "100ms"), "--grace");
	expect_run(ARGS("-t", "100ms", "--grace", "99ms"));
}

/* ---- -k ------------------------------------------------------------------ */

Test(cli, keys_parsed_into_spec)
{
	expect_run(ARGS("-k", "src/24,dport"));
	cr_assert_str_eq(cfg.keys_str, "src/24,dport");
	cr_assert_eq(cfg.keys.fields, (uint32_t)(FB_K_SRC | FB_K_DPORT));
	cr_assert_eq(cfg.keys.src4, 24);
}

Test(cli, keys_bad_spec_rejected)
{
	expect_bad(ARGS("--keys", "src,vlan"), "'vlan'");
}

Test(cli, keys_too_long_rejected)
{
	char big[300];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_bad(ARGS("-k", big), "-k");
}

/* ---- -n, -o, -c ---------------------------------------------------------- */

Test(cli, top_value)
{
	expect_run(ARGS("-n", "5"));
	cr_assert_eq(cfg.top, 5);
	cr_assert_eq(cfg.top_set, true);
}

Test(cli, top_zero_means_all_and_is_set)
{
	expect_run(ARGS("--top", "0"));
	cr_assert_eq(cfg.top, 0);
	cr_assert_eq(cfg.top_set, true);
}

Test(cli, top_bounds)
{
	expect_run(ARGS("-n", "1000000"));
	cr_assert_eq(cfg.top, 1000000);
	expect_bad(ARGS("-n", "1000001"), "'1000001'");
	expect_bad(ARGS("-n", "-1"), "'-1'");
	expect_bad(ARGS("-n", "5k"), "'5k'");
}

Test(cli, output_values)
{
	expect_run(ARGS("-o", "table"));
	cr_assert_eq(cfg.output, FB_FMT_TABLE);
	expect_run(ARGS("--output", "jsonl"));
	cr_assert_eq(cfg.output, FB_FMT_JSONL);
}

Test(cli, output_bad_value)
{
	expect_bad(ARGS("-o", "json"), "'json'");
	cr_assert_not_null(strstr(err, "--output"), "%s", err);
}

Test(cli, count_value)
{
	expect_run(ARGS("-c", "3"));
	cr_assert_eq(cfg.count, 3);
}

Test(cli, count_zero_rejected)
{
	expect_bad(ARGS("-c", "0"), "'0'");
}

Test(cli, count_bad_values)
{
	expect_bad(ARGS("-c", "x"), "'x'");
	expect_bad(ARGS("--count", "+3"), "'+3'");
	expect_bad(ARGS("-c", "18446744073709551616"), "'18446744073709551616'");
}

/* ---- --ring-size ----------------------------------------------------------- */

Test(cli, ring_size_suffixes)
{
	expect_run(ARGS("--ring-size", "4k"));
	cr_assert_eq(cfg.cap.ring_size, 4096);
	expect_run(ARGS("--ring-size", "4096"));
	cr_assert_eq(cfg.cap.ring_size, 4096);
	expect_run(ARGS("--ring-size", "64K"));
	cr_assert_eq(cfg.cap.ring_size, 65536);
	expect_run(ARGS("--ring-size", "16M"));
	cr_assert_eq(cfg.cap.ring_size, 16u << 20);
	expect_run(ARGS("--ring-size", "1G"));
	cr_assert_eq(cfg.cap.ring_size, 1u << 30);
	expect_run(ARGS("--ring-size", "2MiB"));
	cr_assert_eq(cfg.cap.ring_size, 2u << 20);
}

Test(cli, ring_size_below_4k_rejected)
{
	expect_bad(ARGS("--ring-size", "2k"), "'2k'");
	expect_bad(ARGS("--ring-size", "2048"), "'2048'");
}

Test(cli, ring_size_above_1G_rejected)
{
	expect_bad(ARGS("--ring-size", "2G"), "'2G'");
}

Test(cli, ring_size_not_power_of_two_rejected)
{
	expect_bad(ARGS("--ring-size", "12k"), "'12k'");
	expect_bad(ARGS("--ring-size", "5000"), "'5000'");
}

Test(cli, ring_size_bad_text_rejected)
{
	expect_bad(ARGS("--ring-size", "4x"), "'4x'");
	expect_bad(ARGS("--ring-size", "k"), "'k'");
	expect_bad(ARGS("--ring-size", "4kk"), "'4kk'");
	expect_bad(ARGS("--ring-size", "-4k"), "'-4k'");
}

/* (2^34 + 1) GiB wraps to exactly 1 GiB in 64 bits */
Test(cli, ring_size_overflowing_multiplier_rejected)
{
	expect_bad(ARGS("--ring-size", "17179869185G"), "'17179869185G'");
}

/* ---- --max-flows -------------------------------------------------------- */

Test(cli, max_flows_value)
{
	expect_run(ARGS("--max-flows", "1000"));
	cr_assert_eq(cfg.max_flows, 1000);
}

Test(cli, max_flows_bounds)
{
	expect_run(ARGS("--max-flows", "1"));
	cr_assert_eq(cfg.max_flows, 1);
	expect_run(ARGS("--max-flows", "16777216"));
	cr_assert_eq(cfg.max_flows, 16777216);
	expect_bad(ARGS("--max-flows", "0"), "'0'");
	expect_bad(ARGS("--max-flows", "16777217"), "'16777217'");
	expect_bad(ARGS("--max-flows", "64k"), "'64k'");
}

/* ---- flags and modes ---------------------------------------------------- */

Test(cli, force_flag)
{
	expect_run(ARGS("--force"));
	cr_assert_eq(cfg.cap.force, true);
}

Test(cli, verbose_counts)
{
	expect_run(ARGS("-v", "--verbose", "-vv"));
	cr_assert_eq(cfg.verbose, 4);
}

Test(cli, tc_attach_values)
{
	expect_run(ARGS("--tc-attach", "tcx"));
	cr_assert_eq(cfg.cap.tc_mode, FB_TC_TCX);
	expect_run(ARGS("--tc-attach", "clsact"));
	cr_assert_eq(cfg.cap.tc_mode, FB_TC_CLSACT);
	expect_run(ARGS("--tc-attach", "auto"));
	cr_assert_eq(cfg.cap.tc_mode, FB_TC_AUTO);
	expect_bad(ARGS("--tc-attach", "qdisc"), "'qdisc'");
}

Test(cli, xdp_mode_values)
{
	expect_run(ARGS("--xdp-mode", "native"));
	cr_assert_eq(cfg.cap.xdp_mode, FB_XDP_NATIVE);
	expect_run(ARGS("--xdp-mode", "generic"));
	cr_assert_eq(cfg.cap.xdp_mode, FB_XDP_GENERIC);
	expect_run(ARGS("--xdp-mode", "auto"));
	cr_assert_eq(cfg.cap.xdp_mode, FB_XDP_AUTO);
	expect_bad(ARGS("--xdp-mode", "skb"), "'skb'");
}

Test(cli, combined_short_options)
{
	expect_run(ARGS("-vt250ms", "-ieth0", "-c2"));
	cr_assert_eq(cfg.verbose, 1);
	cr_assert_eq(cfg.interval_ns, 250 * MS);
	cr_assert_str_eq(cfg.cap.ifaces[0], "eth0");
	cr_assert_eq(cfg.count, 2);
}

/* ---- errors in the command line itself --------------------------------- */

Test(cli, unknown_long_option)
{
	expect_bad(ARGS("--bogus"), "--bogus");
}

Test(cli, unknown_short_option)
{
	expect_bad(ARGS("-Z"), "-Z");
}

Test(cli, missing_value_short)
{
	expect_bad(ARGS("-t"), "-t");
	cr_assert_not_null(strstr(err, "needs a value"), "%s", err);
}

Test(cli, missing_value_long_only_option)
{
	expect_bad(ARGS("--ring-size"), "--ring-size");
	cr_assert_not_null(strstr(err, "needs a value"), "%s", err);
}

Test(cli, flag_given_a_value_rejected)
{
	expect_bad(ARGS("--force=yes"), "--force");
}

Test(cli, unexpected_positional_argument)
{
	expect_bad(ARGS("eth0"), "'eth0'");
}

Test(cli, unexpected_positional_between_options)
{
	expect_bad(ARGS("-v", "stray", "-t", "1s"), "'stray'");
}

/* ---- --help, --version ---------------------------------------------------- */

Test(cli, help_prints_usage_to_given_stream)
{
	static const char *const longs[] = { "--interface", "--hook", "--direction", "--interval",
					     "--keys", "--top", "--output", "--count", "--duration",
					     "--ring-size", "--max-flows", "--force", "--tc-attach",
					     "--xdp-mode", "--grace", "--verbose", "--help", "--version" };
	size_t i;

	cr_assert_eq(parse(ARGS("--help")), FB_CLI_EXIT_OK);
	cr_assert_not_null(out);
	cr_assert_eq(strncmp(out, "Usage: flowbatch", 16), 0, "%s", out);
	for (i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
		cr_assert_not_null(strstr(out, longs[i]), "help lacks %s", longs[i]);
	cr_assert_not_null(strstr(out, "-i, --interface IFACE"));
	cr_assert_eq(out[outlen - 1], '\n');
}

Test(cli, help_short_stops_parsing)
{
	cr_assert_eq(parse(ARGS("-h", "--bogus")), FB_CLI_EXIT_OK);
	cr_assert_eq(strncmp(out, "Usage: flowbatch", 16), 0);
}

Test(cli, version_prints_one_line)
{
	cr_assert_eq(parse(ARGS("--version")), FB_CLI_EXIT_OK);
	cr_assert_str_eq(out, "flowbatch " FB_VERSION "\n");
}

Test(cli, version_short)
{
	cr_assert_eq(parse(ARGS("-V")), FB_CLI_EXIT_OK);
	cr_assert_str_eq(out, "flowbatch " FB_VERSION "\n");
}

/* A parse that stopped in the middle of "-hv" must not leak into the next one. */
Test(cli, parse_twice_starts_fresh)
{
	cr_assert_eq(parse(ARGS("-hv")), FB_CLI_EXIT_OK);
	expect_run(ARGS("-c", "2"));
	cr_assert_eq(cfg.verbose, 0);
	cr_assert_eq(cfg.count, 2);
}

Test(cli, parse_after_error_starts_fresh)
{
	expect_bad(ARGS("-Zv"), "-Z");
	expect_run(ARGS("-t", "2s"));
	cr_assert_eq(cfg.verbose, 0);
	cr_assert_eq(cfg.interval_ns, 2 * SEC);
}

/* ---- the value parsers directly ----------------------------------------- */

Test(parse_value, duration_units)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} ok[] = {
		{ "250ms", 250000000ull }, { "1s", 1000000000ull },	  { "2m", 120000000000ull },
		{ "1.5s", 1500000000ull }, { "1h", 3600000000000ull },	  { "500us", 500000ull },
		{ "7ns", 7 },		   { "3", 3000000000ull },	  { "0.25", 250000000ull },
		{ ".5s", 500000000ull },   { "0", 0 },			  { "0.001ms", 1000 },
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 12345;

		cr_assert_eq(fb_parse_duration(ok[i].s, &v), 0, "'%s' should parse", ok[i].s);
		cr_assert_eq(v, ok[i].ns, "'%s' -> %llu", ok[i].s, (unsigned long long)v);
	}
}

Test(parse_value, duration_bad)
{
	static const char *const bad[] = { "",	  "abc", "5x",	"-1s", "1sx", "1S",   "s",
					   " 1s", "1s ", "1e400s", "nan", "inf", "1.5.s", "+1s" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 777;

		cr_assert_eq(fb_parse_duration(bad[i], &v), -1, "'%s' should be rejected", bad[i]);
		cr_assert_eq(v, 777, "'%s' left the output alone", bad[i]);
	}
	cr_assert_eq(fb_parse_duration(NULL, &(uint64_t){ 0 }), -1);
}

Test(parse_value, duration_huge_rejected)
{
	uint64_t v;

	cr_assert_eq(fb_parse_duration("277000h", &v), 0); /* 9.97e17 ns */
	cr_assert_eq(v, 277000ull * 3600 * SEC);
	cr_assert_eq(fb_parse_duration("278000h", &v), -1); /* 1.0008e18 ns */
}

Test(parse_value, size_suffixes)
{
	uint64_t v;

	cr_assert_eq(fb_parse_size("4096", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(fb_parse_size("64k", &v), 0);
	cr_assert_eq(v, 64u << 10);
	cr_assert_eq(fb_parse_size("16M", &v), 0);
	cr_assert_eq(v, 16u << 20);
	cr_assert_eq(fb_parse_size("1g", &v), 0);
	cr_assert_eq(v, 1u << 30);
	cr_assert_eq(fb_parse_size("4KiB", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(fb_parse_size("8kB", &v), 0);
	cr_assert_eq(v, 8192);
}

Test(parse_value, size_bad)
{
	static const char *const bad[] = { "", "k", "4x", "4kk", "4kiB2", "-1", " 4k", "4 k", "0x1000" };
	size_t i;
	uint64_t v;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(fb_parse_size(bad[i], &v), -1, "'%s' should be rejected", bad[i]);
}

Test(parse_value, size_result_above_1TiB_rejected)
{
	uint64_t v;

	cr_assert_eq(fb_parse_size("1024G", &v), 0);
	cr_assert_eq(v, 1ull << 40);
	cr_assert_eq(fb_parse_size("1025G", &v), -1);
	cr_assert_eq(fb_parse_size("17179869185G", &v), -1); /* wraps to 1G */
	cr_assert_eq(fb_parse_size("18446744073709551615", &v), -1);
}

Test(parse_value, uint_bounds)
{
	uint64_t v = 0;

	cr_assert_eq(fb_parse_uint("5", 1, 10, &v), 0);
	cr_assert_eq(v, 5);
	cr_assert_eq(fb_parse_uint("1", 1, 10, &v), 0);
	cr_assert_eq(fb_parse_uint("10", 1, 10, &v), 0);
	cr_assert_eq(v, 10);
	cr_assert_eq(fb_parse_uint("0", 1, 10, &v), -1);
	cr_assert_eq(fb_parse_uint("11", 1, 10, &v), -1);
	cr_assert_eq(fb_parse_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, UINT64_MAX);
}

Test(parse_value, uint_junk_rejected)
{
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1x", "0x10", "18446744073709551616" };
	size_t i;
	uint64_t v;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(fb_parse_uint(bad[i], 0, UINT64_MAX, &v), -1, "'%s' should be rejected",
			     bad[i]);
	cr_assert_eq(fb_parse_uint(NULL, 0, 1, &v), -1);
}

Test(cli, ring_mode)
{
	char *shared[] = { "flowbatch", "--ring", "shared", NULL };
	char *percpu[] = { "flowbatch", "--ring", "percpu", NULL };
	char *bad[] = { "flowbatch", "--ring", "many", NULL };

	cr_assert_eq(fb_cli_parse(3, shared, &cfg, stdout, err, sizeof(err)), FB_CLI_RUN);
	cr_assert(cfg.cap.shared_ring);
	cr_assert_eq(fb_cli_parse(3, percpu, &cfg, stdout, err, sizeof(err)), FB_CLI_RUN);
	cr_assert(!cfg.cap.shared_ring);
	cr_assert_eq(fb_cli_parse(3, bad, &cfg, stdout, err, sizeof(err)), FB_CLI_BAD);
	cr_assert(strstr(err, "'many'") && strstr(err, "--ring"), "message: %s", err);
}

/* ---- settling defaults that depend on the outputs ------------------------ */

Test(cli, resolve_table_alone_keeps_top_20_in_the_view)
{
	expect_run(ARGS("-i", "lo"));
	cr_assert_eq(fb_config_resolve(&cfg, true), 0);
	cr_assert_eq(cfg.output, FB_FMT_TABLE);
	cr_assert_eq(cfg.top, 20);
	cr_assert_eq(cfg.table_rows, 0);
}

Test(cli, resolve_table_with_other_outputs_keeps_every_row)
{
	expect_run(ARGS("-i", "lo", "-w", "/tmp/x.jsonl"));
	cr_assert_eq(fb_config_resolve(&cfg, true), 0);
	cr_assert_eq(cfg.top, 0, "the file gets every row");
	cr_assert_eq(cfg.table_rows, 20, "the table cuts its own");
	cr_assert_eq(cfg.n_outs, 2);
	cr_assert_str_eq(cfg.outs[1].kind, "file");
}

Test(cli, resolve_pipe_gets_every_row_and_n_cuts_for_all)
{
	expect_run(ARGS("-i", "lo"));
	cr_assert_eq(fb_config_resolve(&cfg, false), 0);
	cr_assert_eq(cfg.output, FB_FMT_JSONL);
	cr_assert_eq(cfg.top, 0);
	expect_run(ARGS("-i", "lo", "-n", "5", "--ipfix", "127.0.0.1:4739"));
	cr_assert_eq(fb_config_resolve(&cfg, true), 0);
	cr_assert_eq(cfg.top, 5);
	cr_assert_eq(cfg.table_rows, 0);
}

Test(cli, events_alone_need_no_interface)
{
	expect_run(ARGS("--events", "drops"));
	cr_assert_eq(fb_config_resolve(&cfg, false), 0);
	cr_assert_eq(cfg.cap.n_ifaces, 0);
	cr_assert_neq(cfg.events, 0);
}

/* Command line: one table of options gives parsing, defaults and --help.
 * Parsing fills a struct fb_config and never exits or prints by itself. */
#ifndef FB_CLI_H
#define FB_CLI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "agg.h"

#define FB_MAX_IFACES 16
#define FB_IFNAMSIZ 16

enum fb_hook { FB_HOOK_TC, FB_HOOK_XDP };
enum fb_dir { FB_DIR_IN = 1, FB_DIR_OUT = 2, FB_DIR_BOTH = 3 };
enum fb_output { FB_OUT_AUTO, FB_OUT_TABLE, FB_OUT_JSONL };
enum fb_tc_mode { FB_TC_AUTO, FB_TC_TCX, FB_TC_CLSACT };
enum fb_xdp_mode { FB_XDP_AUTO, FB_XDP_NATIVE, FB_XDP_GENERIC };

struct fb_config {
	char ifaces[FB_MAX_IFACES][FB_IFNAMSIZ];
	int n_ifaces; /* 0: use the default route's interface */
	enum fb_hook hook;
	enum fb_dir dir;
	uint64_t interval_ns;
	uint64_t grace_ns;
	char keys_str[256];
	struct fb_keyspec keys;
	uint32_t top; /* 0 = all */
	bool top_set;
	enum fb_output output;
	uint64_t count; /* 0 = unlimited */
	uint64_t duration_ns; /* 0 = unlimited */
	uint64_t ring_size; /* bytes per ring; 0 = choose from the CPU count */
	bool shared_ring; /* one ring for all CPUs instead of one per CPU */
	uint32_t max_flows;
	bool force;
	enum fb_tc_mode tc_mode;
	enum fb_xdp_mode xdp_mode;
	int verbose;
};

enum fb_cli_result { FB_CLI_RUN = 0, FB_CLI_EXIT_OK = 1, FB_CLI_BAD = -1 };

/* Fills cfg from argv. FB_CLI_EXIT_OK after --help/--version (printed to
 * out); FB_CLI_BAD with a one-line reason in err. */
enum fb_cli_result fb_cli_parse(int argc, char **argv, struct fb_config *cfg, FILE *out,
				char *err, size_t errlen);

/* "250ms", "1s", "2m", "1h", "500us"; bare numbers are seconds. */
int fb_parse_duration(const char *s, uint64_t *ns);
/* "4096", "64k", "16M", "1G" (binary multiples). */
int fb_parse_size(const char *s, uint64_t *bytes);
/* decimal, no sign, no junk, within [min, max] */
int fb_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v);

#endif

/* Text helpers shared by the sinks: addresses, units, JSON strings, and the
 * conversion from kernel (monotonic) time to wall-clock time. */
#ifndef FB_FMT_H
#define FB_FMT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Formats a 16-byte address: dotted quad when v4-mapped, else RFC 5952. */
const char *fb_fmt_addr(const uint8_t a[16], char *buf, size_t len);
bool fb_addr_is_v4(const uint8_t a[16]);
/* 1234567 -> "1.2M"; base 1000 */
const char *fb_fmt_si(uint64_t v, char *buf, size_t len);
/* bytes with binary units: 1536 -> "1.5KiB" */
const char *fb_fmt_bytes(uint64_t v, char *buf, size_t len);
/* Writes the JSON form of one byte of a string into out (1 to 6 chars:
 * quote, backslash and control characters escaped); returns its length. */
size_t fb_json_esc(char *out, unsigned char c);
/* Writes s as a JSON string, quotes included. */
void fb_json_str(FILE *f, const char *s);
const char *fb_proto_name(uint8_t proto); /* "tcp", or NULL if unnamed */
/* TCP flags as letters in bit order, FSRPAUEC: SYN|ACK -> "SA" */
const char *fb_fmt_tcp_flags(uint8_t flags, char *buf, size_t len);

struct fb_ifnames; /* ifindex -> name, filled by the capture side */
typedef const char *(*fb_ifname_fn)(void *ctx, uint32_t ifindex);

/* What every sink needs besides the batch itself. */
struct fb_out_ctx {
	uint32_t key_fields; /* enum fb_key_field: which key fields exist */
	int64_t mono_to_epoch_ns; /* add to a CLOCK_MONOTONIC time */
	fb_ifname_fn ifname;
	void *ifname_ctx;
};

#endif

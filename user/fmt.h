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

/* Add to a CLOCK_MONOTONIC time (the kernel's timestamps) to get Unix
 * epoch nanoseconds; read once at start. */
int64_t fb_mono_to_epoch_ns(void);
/* CLOCK_MONOTONIC now, in ns: the clock of bpf_ktime_get_ns. */
uint64_t fb_now_ns(void);

/* Packet semantics every output shares, from a flow key and the key
 * fields in use. A row is IP when its EtherType says so (or when EtherType
 * is not a key field but the row has an IP protocol or addresses); only IP
 * rows have addresses and ports. ICMP is protocol 1 over IPv4 and 58 over
 * IPv6, nothing else; its type and code travel in sport and dport. */
struct fb_key;
bool fb_key_is_ip(const struct fb_key *k, uint32_t key_fields);
bool fb_key_is_ipv6(const struct fb_key *k, uint32_t key_fields);
bool fb_key_is_icmp(const struct fb_key *k, uint32_t key_fields);

#endif

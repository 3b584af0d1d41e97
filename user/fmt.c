/* Text helpers shared by the sinks. */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>
#include "agg.h"
#include "fmt.h"

bool fb_addr_is_v4(const uint8_t a[16])
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(a, pfx, 12);
}

const char *fb_fmt_addr(const uint8_t a[16], char *buf, size_t len)
{
	if (fb_addr_is_v4(a))
		return inet_ntop(AF_INET, a + 12, buf, len) ? buf : "?";
	return inet_ntop(AF_INET6, a, buf, len) ? buf : "?";
}

static const char *scaled(uint64_t v, unsigned base, const char *const *units, char *buf, size_t len)
{
	double d = (double)v;
	int u = 0;

	if (v < base) {
		snprintf(buf, len, "%llu%s", (unsigned long long)v, units[0]);
		return buf;
	}
	while (d >= base && units[u + 1]) {
		d /= base;
		u++;
	}
	/* 999.7k would print as "1000k": carry into the next unit */
	if (d >= base - 0.5 && units[u + 1]) {
		d /= base;
		u++;
	}
	snprintf(buf, len, d < 99.95 ? "%.1f%s" : "%.0f%s", d, units[u]); /* not "100.0k" */
	return buf;
}

const char *fb_fmt_si(uint64_t v, char *buf, size_t len)
{
	static const char *const u[] = { "", "k", "M", "G", "T", "P", NULL };

	return scaled(v, 1000, u, buf, len);
}

const char *fb_fmt_bytes(uint64_t v, char *buf, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", NULL };

	return scaled(v, 1024, u, buf, len);
}

size_t fb_json_esc(char *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	static const char named[] = { ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r' };

	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c >= 0x20) {
		out[0] = (char)c;
		return 1;
	}
	out[0] = '\\';
	if (c < sizeof(named) && named[c]) {
		out[1] = named[c];
		return 2;
	}
	memcpy(out + 1, "u00", 3);
	out[4] = hex[c >> 4];
	out[5] = hex[c & 15];
	return 6;
}

void fb_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char e[6];

	fputc('"', f);
	for (; *p; p++)
		fwrite(e, 1, fb_json_esc(e, *p), f);
	fputc('"', f);
}

const char *fb_proto_name(uint8_t proto)
{
	switch (proto) {
	case 1: return "icmp";
	case 2: return "igmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 47: return "gre";
	case 50: return "esp";
	case 51: return "ah";
	case 58: return "icmp6";
	case 89: return "ospf";
	case 132: return "sctp";
	case 136: return "udplite";
	default: return NULL;
	}
}

const char *fb_fmt_tcp_flags(uint8_t flags, char *buf, size_t len)
{
	static const char names[] = "FSRPAUEC";
	size_t n = 0;
	int i;

	for (i = 0; i < 8 && n + 1 < len; i++)
		if (flags & (1u << i))
			buf[n++] = names[i];
	buf[n] = '\0';
	return buf;
}

bool fb_key_is_ipv6(const struct fb_key *k, uint32_t key_fields)
{
	if (key_fields & FB_K_ETYPE)
		return k->ethertype == FB_ETH_P_IPV6;
	/* without EtherType in the key, the addresses tell (v4-mapped or not) */
	if (key_fields & FB_K_SRC)
		return !fb_addr_is_v4(k->src);
	if (key_fields & FB_K_DST)
		return !fb_addr_is_v4(k->dst);
	return false;
}

bool fb_key_is_ip(const struct fb_key *k, uint32_t key_fields)
{
	static const uint8_t zero[16];

	if (key_fields & FB_K_ETYPE)
		return k->ethertype == FB_ETH_P_IP || k->ethertype == FB_ETH_P_IPV6;
	/* a non-IP frame has protocol 0 and all-zero addresses in its key */
	if ((key_fields & FB_K_PROTO) && k->proto)
		return true;
	if ((key_fields & FB_K_SRC) && memcmp(k->src, zero, 16))
		return true;
	if ((key_fields & FB_K_DST) && memcmp(k->dst, zero, 16))
		return true;
	return !(key_fields & (FB_K_PROTO | FB_K_SRC | FB_K_DST));
}

bool fb_key_is_icmp(const struct fb_key *k, uint32_t key_fields)
{
	if (!(key_fields & FB_K_PROTO) || !fb_key_is_ip(k, key_fields))
		return false;
	if (k->proto == 1)
		return !fb_key_is_ipv6(k, key_fields) || !(key_fields & (FB_K_ETYPE | FB_K_SRC | FB_K_DST));
	if (k->proto == 58)
		return fb_key_is_ipv6(k, key_fields) || !(key_fields & (FB_K_ETYPE | FB_K_SRC | FB_K_DST));
	return false;
}

int64_t fb_mono_to_epoch_ns(void)
{
	struct timespec r, m1, m2;

	/* the wall clock read between two monotonic reads */
	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	return ((int64_t)r.tv_sec * 1000000000 + r.tv_nsec) -
	       (((int64_t)m1.tv_sec * 1000000000 + m1.tv_nsec) / 2 +
		((int64_t)m2.tv_sec * 1000000000 + m2.tv_nsec) / 2);
}

uint64_t fb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Text helpers shared by the sinks. */
#include <arpa/inet.h>
#include <string.h>
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

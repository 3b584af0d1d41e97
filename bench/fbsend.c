/* fbsend: a small, fast traffic generator for flowbatch's tests and
 * benchmarks. It builds one Ethernet frame (UDP, TCP, ICMP, SCTP over IPv4
 * or IPv6, or ARP) once, copies it into a batch of buffers, and sends the
 * batch with sendmmsg on an AF_PACKET socket, changing only the source port
 * (ICMP: the echo identifier) and the L4 checksum from frame to frame when
 * --flows asks for several flows. It stops after -n frames or -T seconds,
 * whichever comes first, and retries frames the kernel refused for lack of
 * room (ENOBUFS, EAGAIN), so "sent N" means N frames left the socket.
 *
 * Addresses are confined to the benchmarking ranges 198.18.0.0/15 (RFC 2544)
 * and 2001:2::/48 (RFC 5180); anything else is refused.
 *
 * Exit status: 0 all frames sent, 1 time limit hit or send error,
 * 2 bad command line. */
#define _GNU_SOURCE /* sendmmsg */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define MAX_FRAME 9216
#define MAX_BATCH 1024
#define MAX_FLOWS (1u << 24)

enum proto { P_UDP4, P_TCP4, P_ICMP4, P_SCTP4, P_UDP6, P_TCP6, P_ICMP6, P_ARP };

static const struct {
	const char *name;
	bool v6;
	uint8_t ipproto; /* 0 for ARP */
	unsigned l4len;  /* fixed L4 header bytes we write */
} protos[] = {
	[P_UDP4] = { "udp4", false, 17, 8 },  [P_TCP4] = { "tcp4", false, 6, 20 },
	[P_ICMP4] = { "icmp4", false, 1, 8 }, [P_SCTP4] = { "sctp4", false, 132, 12 },
	[P_UDP6] = { "udp6", true, 17, 8 },   [P_TCP6] = { "tcp6", true, 6, 20 },
	[P_ICMP6] = { "icmp6", true, 58, 8 }, [P_ARP] = { "arp", false, 0, 28 },
};
#define NPROTOS (sizeof(protos) / sizeof(protos[0]))

struct cfg {
	const char *iface;
	uint64_t count;
	uint64_t pps;
	double seconds;
	uint8_t dst_mac[6], src_mac[6];
	bool src_mac_set;
	enum proto proto;
	const char *src_s, *dst_s;
	uint8_t src[16], dst[16]; /* IPv4 uses the first 4 bytes */
	uint16_t sport, dport;
	uint32_t flows;
	unsigned size;
	uint8_t tcp_flags;
	int vlan; /* -1: none */
	unsigned batch;
	bool bypass;
};

/* The frame template and where the per-flow fields live in it. */
struct tmpl {
	uint8_t buf[MAX_FRAME];
	unsigned len;
	unsigned l4_off;     /* start of the L4 header (ARP: of the ARP body) */
	int var_off;         /* offset of the 16-bit field that varies per flow, -1: none */
	int csum_off;        /* offset of the 16-bit Internet checksum, -1: none (SCTP: CRC) */
	uint32_t csum_base;  /* unfolded sum with the varying field and checksum zeroed */
	uint32_t per_port;   /* flows the source port alone can tell apart; past that
			      * the destination port (right after it) counts up too */
	uint16_t dport_base;
	bool udp;            /* a computed 0 is sent as 0xffff */
	bool sctp;
	uint16_t var_base;   /* the varying field's value for flow 0 */
	uint32_t *crc;       /* SCTP: per-flow CRC32c, computed once */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: fbsend -i IFACE -n COUNT [OPTIONS]\n"
		"Sends crafted Ethernet frames with AF_PACKET + sendmmsg.\n\n"
		"  -i, --interface IFACE   send on IFACE (required)\n"
		"  -n, --count N           frames to send (required)\n"
		"  -r, --rate PPS          frames per second, 0 = as fast as possible (default 0)\n"
		"  -T, --time SECONDS      give up after this long (default 10)\n"
		"      --dst-mac MAC       destination MAC (default ff:ff:ff:ff:ff:ff)\n"
		"      --src-mac MAC       source MAC (default the interface's)\n"
		"  -p, --proto P           udp4|tcp4|icmp4|sctp4|udp6|tcp6|icmp6|arp (default udp4)\n"
		"      --src ADDR          source address (198.18.0.0/15 or 2001:2::/48)\n"
		"      --dst ADDR          destination address (same ranges)\n"
		"      --sport N           source port (default 1024)\n"
		"      --dport N           destination port (default 9)\n"
		"      --flows N           cycle the source port (ICMP: echo id) over N values, then the\n"
		"                          destination port too (default 1)\n"
		"      --size BYTES        frame length without FCS (default 64)\n"
		"      --tcp-flags FLAGS   letters S A F R P U (default S)\n"
		"      --vlan ID           add an 802.1Q tag with VLAN ID\n"
		"      --batch N           frames per sendmmsg (default 64, max %d)\n"
		"      --qdisc-bypass      skip the qdisc layer and TC egress (PACKET_QDISC_BYPASS)\n"
		"  -h, --help              show this help\n\n"
		"Prints 'sent N in S.SSS s (R pps)'. Exit 0 when all frames were sent,\n"
		"1 when the time limit came first or sending failed, 2 for a bad command line.\n",
		MAX_BATCH);
}

static void die_usage(const char *fmt, const char *arg)
{
	fputs("fbsend: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t parse_u64(const char *s, uint64_t min, uint64_t max, const char *what)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		die_usage("invalid %s", what);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		die_usage("invalid or out of range %s", what);
	return v;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[6];
	char tail;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static uint8_t parse_tcp_flags(const char *s)
{
	uint8_t f = 0;

	if (!strcmp(s, "none") || !strcmp(s, "0"))
		return 0;
	if (!*s)
		die_usage("empty --tcp-flags%s (letters S A F R P U, or 'none')", "");
	for (; *s; s++) {
		switch (*s) {
		case 'F': case 'f': f |= 0x01; break;
		case 'S': case 's': f |= 0x02; break;
		case 'R': case 'r': f |= 0x04; break;
		case 'P': case 'p': f |= 0x08; break;
		case 'A': case 'a': f |= 0x10; break;
		case 'U': case 'u': f |= 0x20; break;
		default: die_usage("invalid --tcp-flags '%s' (letters S A F R P U)", s);
		}
	}
	return f;
}

/* 198.18.0.0/15 or 2001:2::/48 only */
static void parse_addr(const char *s, bool v6, uint8_t *out, const char *opt)
{
	static const uint8_t pfx6[6] = { 0x20, 0x01, 0x00, 0x02, 0x00, 0x00 };

	memset(out, 0, 16);
	if (v6) {
		if (inet_pton(AF_INET6, s, out) != 1)
			die_usage("%s needs an IPv6 address for this protocol", opt);
		if (memcmp(out, pfx6, sizeof(pfx6))) {
			fprintf(stderr, "fbsend: refusing %s %s: only 2001:2::/48 is allowed\n", opt, s);
			exit(2);
		}
	} else {
		if (inet_pton(AF_INET, s, out) != 1)
			die_usage("%s needs an IPv4 address for this protocol", opt);
		if (out[0] != 198 || (out[1] & 0xfe) != 18) {
			fprintf(stderr, "fbsend: refusing %s %s: only 198.18.0.0/15 is allowed\n", opt, s);
			exit(2);
		}
	}
}

enum { O_DSTMAC = 256, O_SRCMAC, O_SRC, O_DST, O_SPORT, O_DPORT, O_FLOWS, O_SIZE, O_TCPFLAGS,
       O_VLAN, O_BATCH, O_BYPASS };

static void parse_args(int argc, char **argv, struct cfg *c)
{
	static const struct option lo[] = {
		{ "interface", 1, NULL, 'i' }, { "count", 1, NULL, 'n' },
		{ "rate", 1, NULL, 'r' },      { "time", 1, NULL, 'T' },
		{ "proto", 1, NULL, 'p' },     { "help", 0, NULL, 'h' },
		{ "dst-mac", 1, NULL, O_DSTMAC }, { "src-mac", 1, NULL, O_SRCMAC },
		{ "src", 1, NULL, O_SRC },     { "dst", 1, NULL, O_DST },
		{ "sport", 1, NULL, O_SPORT }, { "dport", 1, NULL, O_DPORT },
		{ "flows", 1, NULL, O_FLOWS }, { "size", 1, NULL, O_SIZE },
		{ "tcp-flags", 1, NULL, O_TCPFLAGS }, { "vlan", 1, NULL, O_VLAN },
		{ "batch", 1, NULL, O_BATCH }, { "qdisc-bypass", 0, NULL, O_BYPASS },
		{ NULL, 0, NULL, 0 },
	};
	bool have_n = false;
	char *end;
	size_t k;
	int o;

	memset(c, 0, sizeof(*c));
	c->seconds = 10;
	memset(c->dst_mac, 0xff, 6);
	c->proto = P_UDP4;
	c->sport = 1024;
	c->dport = 9;
	c->flows = 1;
	c->size = 64;
	c->tcp_flags = 0x02;
	c->vlan = -1;
	c->batch = 64;

	opterr = 0;
	while ((o = getopt_long(argc, argv, ":i:n:r:T:p:h", lo, NULL)) != -1) {
		switch (o) {
		case 'i':
			if (!*optarg || strlen(optarg) >= IFNAMSIZ)
				die_usage("invalid interface name '%s'", optarg);
			c->iface = optarg;
			break;
		case 'n':
			c->count = parse_u64(optarg, 0, UINT64_MAX / 2, "-n COUNT");
			have_n = true;
			break;
		case 'r':
			c->pps = parse_u64(optarg, 0, 1000000000ull, "-r PPS");
			break;
		case 'T':
			errno = 0;
			c->seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(c->seconds > 0) || c->seconds > 86400)
				die_usage("invalid -T '%s' (seconds, > 0)", optarg);
			break;
		case 'p':
			for (k = 0; k < NPROTOS; k++)
				if (!strcmp(optarg, protos[k].name))
					break;
			if (k == NPROTOS)
				die_usage("unknown protocol '%s' (udp4 tcp4 icmp4 sctp4 udp6 tcp6 icmp6 arp)",
					  optarg);
			c->proto = (enum proto)k;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case O_DSTMAC:
			if (parse_mac(optarg, c->dst_mac))
				die_usage("invalid --dst-mac '%s'", optarg);
			break;
		case O_SRCMAC:
			if (parse_mac(optarg, c->src_mac))
				die_usage("invalid --src-mac '%s'", optarg);
			c->src_mac_set = true;
			break;
		case O_SRC:
			c->src_s = optarg;
			break;
		case O_DST:
			c->dst_s = optarg;
			break;
		case O_SPORT:
			c->sport = (uint16_t)parse_u64(optarg, 0, 65535, "--sport");
			break;
		case O_DPORT:
			c->dport = (uint16_t)parse_u64(optarg, 0, 65535, "--dport");
			break;
		case O_FLOWS:
			c->flows = (uint32_t)parse_u64(optarg, 1, MAX_FLOWS, "--flows (1 to 16777216)");
			break;
		case O_SIZE:
			c->size = (unsigned)parse_u64(optarg, 1, MAX_FRAME, "--size");
			break;
		case O_TCPFLAGS:
			c->tcp_flags = parse_tcp_flags(optarg);
			break;
		case O_VLAN:
			c->vlan = (int)parse_u64(optarg, 0, 4094, "--vlan (0 to 4094)");
			break;
		case O_BATCH:
			c->batch = (unsigned)parse_u64(optarg, 1, MAX_BATCH, "--batch (1 to 1024)");
			break;
		case O_BYPASS:
			c->bypass = true;
			break;
		case ':':
			die_usage("option %s needs a value", argv[optind - 1]);
			break;
		default:
			die_usage("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (!c->iface)
		die_usage("-i IFACE is required%s", "");
	if (!have_n)
		die_usage("-n COUNT is required%s", "");
	parse_addr(c->src_s ? c->src_s : protos[c->proto].v6 ? "2001:2::2" : "198.18.0.2",
		   protos[c->proto].v6, c->src, "--src");
	parse_addr(c->dst_s ? c->dst_s : protos[c->proto].v6 ? "2001:2::1" : "198.18.0.1",
		   protos[c->proto].v6, c->dst, "--dst");
	/* flows beyond the source ports left count the destination port up */
	if (protos[c->proto].ipproto == 1 || protos[c->proto].ipproto == 58) {
		if (c->flows > 65536)
			die_usage("ICMP has 65536 echo identifiers: at most that many --flows%s", "");
	} else if ((uint64_t)c->dport + (c->flows - 1) / (65536u - c->sport) > 65535) {
		die_usage("--flows needs more ports than --sport/--dport leave%s", "");
	}
}

/* ---- checksums ------------------------------------------------------- */

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t crc32c_tab[256];

static void crc32c_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc32c_tab[i] = c;
	}
}

static uint32_t crc32c(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	while (len--)
		c = crc32c_tab[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* ---- the frame ------------------------------------------------------- */

static unsigned min_size(const struct cfg *c)
{
	unsigned l2 = 14 + (c->vlan >= 0 ? 4 : 0);

	if (c->proto == P_ARP)
		return l2 + 28;
	return l2 + (protos[c->proto].v6 ? 40 : 20) + protos[c->proto].l4len;
}

static void build(const struct cfg *c, struct tmpl *t)
{
	uint8_t *b = t->buf, *l3, *l4;
	unsigned off = 12, l4len, iplen;
	bool v6 = protos[c->proto].v6;
	uint8_t ipproto = protos[c->proto].ipproto;
	uint32_t s = 0;

	memset(t, 0, sizeof(*t));
	t->len = c->size;
	t->var_off = t->csum_off = -1;
	memcpy(b, c->dst_mac, 6);
	memcpy(b + 6, c->src_mac, 6);
	if (c->vlan >= 0) {
		put16(b + off, ETH_P_8021Q);
		put16(b + off + 2, (uint16_t)c->vlan);
		off += 4;
	}
	if (c->proto == P_ARP) {
		put16(b + off, ETH_P_ARP);
		l3 = b + off + 2;
		put16(l3, 1);          /* Ethernet */
		put16(l3 + 2, ETH_P_IP);
		l3[4] = 6;
		l3[5] = 4;
		put16(l3 + 6, 1);      /* request */
		memcpy(l3 + 8, c->src_mac, 6);
		memcpy(l3 + 14, c->src, 4);
		memcpy(l3 + 24, c->dst, 4); /* target MAC stays zero */
		t->l4_off = (unsigned)(l3 - b);
		return;                 /* padding stays zero */
	}
	put16(b + off, v6 ? ETH_P_IPV6 : ETH_P_IP);
	l3 = b + off + 2;
	iplen = c->size - (unsigned)(l3 - b);
	if (v6) {
		l3[0] = 0x60;
		put16(l3 + 4, (uint16_t)(iplen - 40));
		l3[6] = ipproto;
		l3[7] = 64;
		memcpy(l3 + 8, c->src, 16);
		memcpy(l3 + 24, c->dst, 16);
		l4 = l3 + 40;
	} else {
		l3[0] = 0x45;
		put16(l3 + 2, (uint16_t)iplen);
		put16(l3 + 6, 0x4000); /* DF */
		l3[8] = 64;
		l3[9] = ipproto;
		memcpy(l3 + 12, c->src, 4);
		memcpy(l3 + 16, c->dst, 4);
		put16(l3 + 10, (uint16_t)~fold(sum16(l3, 20, 0)));
		l4 = l3 + 20;
	}
	l4len = c->size - (unsigned)(l4 - b);
	t->l4_off = (unsigned)(l4 - b);
	/* payload: a recognisable pattern */
	for (off = protos[c->proto].l4len; off < l4len; off++)
		l4[off] = (uint8_t)(0xa5 ^ off);

	t->dport_base = c->dport;
	switch (c->proto) {
	case P_UDP4:
	case P_UDP6:
		put16(l4 + 2, c->dport);
		put16(l4 + 4, (uint16_t)l4len);
		t->var_off = (int)t->l4_off;
		t->csum_off = (int)t->l4_off + 6;
		t->udp = true;
		t->var_base = c->sport;
		t->per_port = 65536u - c->sport;
		break;
	case P_TCP4:
	case P_TCP6:
		put16(l4 + 2, c->dport);
		put32(l4 + 4, 0x46420001u); /* sequence number */
		l4[12] = 5 << 4;
		l4[13] = c->tcp_flags;
		put16(l4 + 14, 65535);
		t->var_off = (int)t->l4_off;
		t->csum_off = (int)t->l4_off + 16;
		t->var_base = c->sport;
		t->per_port = 65536u - c->sport;
		break;
	case P_SCTP4:
		put16(l4 + 2, c->dport);
		put32(l4 + 4, 0x46420001u); /* verification tag */
		t->var_off = (int)t->l4_off;
		t->sctp = true;
		t->var_base = c->sport;
		t->per_port = 65536u - c->sport;
		break;
	case P_ICMP4:
	case P_ICMP6:
		l4[0] = c->proto == P_ICMP4 ? 8 : 128; /* echo request */
		put16(l4 + 6, 1);                      /* sequence */
		t->var_off = (int)t->l4_off + 4;       /* identifier */
		t->csum_off = (int)t->l4_off + 2;
		t->var_base = c->sport;
		break;
	case P_ARP:
		break;
	}
	/* the varying field is written per flow; sum everything else now */
	if (t->csum_off >= 0) {
		if (c->proto != P_ICMP4) { /* pseudo-header */
			if (v6) {
				s = sum16(c->src, 16, s);
				s = sum16(c->dst, 16, s);
				s += l4len >> 16;
				s += l4len & 0xffff;
				s += ipproto;
			} else {
				s = sum16(c->src, 4, s);
				s = sum16(c->dst, 4, s);
				s += ipproto;
				s += l4len;
			}
		}
		t->csum_base = sum16(l4, l4len, s);
	}
}

/* Writes flow i's varying field(s) and checksum into frame f. */
static void set_flow(const struct tmpl *t, uint8_t *f, uint32_t i)
{
	uint32_t d = t->per_port ? i / t->per_port : 0; /* destination port step */
	uint16_t v = (uint16_t)(t->var_base + (t->per_port ? i % t->per_port : i)), ck;

	if (t->var_off < 0)
		return;
	put16(f + t->var_off, v);
	if (t->per_port)
		put16(f + t->var_off + 2, (uint16_t)(t->dport_base + d));
	if (t->csum_off >= 0) {
		/* the template's sum holds dport_base: a step of d adds d */
		ck = (uint16_t)~fold(t->csum_base + v + d);
		if (!ck && t->udp)
			ck = 0xffff;
		put16(f + t->csum_off, ck);
	} else if (t->sctp) {
		uint32_t crc;

		/* little endian on the wire (RFC 9260 appendix A) */
		if (t->crc) {
			crc = t->crc[i];
		} else {
			memset(f + t->l4_off + 8, 0, 4);
			crc = crc32c(f + t->l4_off, t->len - t->l4_off);
		}
		f[t->l4_off + 8] = (uint8_t)crc;
		f[t->l4_off + 9] = (uint8_t)(crc >> 8);
		f[t->l4_off + 10] = (uint8_t)(crc >> 16);
		f[t->l4_off + 11] = (uint8_t)(crc >> 24);
	}
}

/* ---- sending ---------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int open_socket(const struct cfg *c, uint8_t *mac)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr;
	int one = 1, fd, ifindex;

	ifindex = (int)if_nametoindex(c->iface);
	if (!ifindex) {
		fprintf(stderr, "fbsend: no such interface '%s'\n", c->iface);
		return -1;
	}
	/* protocol 0: this socket only sends, it never receives */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "fbsend: AF_PACKET socket: %s%s\n", strerror(errno),
			errno == EPERM ? " (needs root or CAP_NET_RAW)" : "");
		return -1;
	}
	sll.sll_ifindex = ifindex;
	sll.sll_protocol = 0;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "fbsend: bind to %s: %s\n", c->iface, strerror(errno));
		close(fd);
		return -1;
	}
	/* by default frames take the normal transmit path, TC egress included,
	 * so flowbatch can watch them leave too; --qdisc-bypass skips it */
	if (c->bypass && setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		fprintf(stderr, "fbsend: PACKET_QDISC_BYPASS: %s (ignored)\n", strerror(errno));
	if (!c->src_mac_set) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->iface);
		if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
			fprintf(stderr, "fbsend: cannot read %s's MAC address: %s\n", c->iface,
				strerror(errno));
			close(fd);
			return -1;
		}
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	return fd;
}

int main(int argc, char **argv)
{
	static struct tmpl t;
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	static uint32_t slot_flow[MAX_BATCH]; /* flow each batch slot now holds */
	uint8_t *frames;
	struct cfg c;
	uint64_t sent = 0, t0, deadline, now, gap_ns = 0;
	uint32_t flow = 0, nflows;
	unsigned burst, i, backoff = 0;
	bool timed_out = false, failed = false;
	double secs;
	int fd;

	parse_args(argc, argv, &c);
	if (c.size < min_size(&c)) {
		fprintf(stderr, "fbsend: --size %u is too small: %s%s needs at least %u bytes\n", c.size,
			protos[c.proto].name, c.vlan >= 0 ? " with a VLAN tag" : "", min_size(&c));
		return 2;
	}
	fd = open_socket(&c, c.src_mac);
	if (fd < 0)
		return 1;
	crc32c_init();
	build(&c, &t);

	/* one buffer per batch slot, all flow 0 to begin with; sending only
	 * rewrites a slot's varying field and checksum when its flow changes */
	frames = aligned_alloc(64, (size_t)c.batch * ((t.len + 63) & ~63u));
	if (!frames) {
		fprintf(stderr, "fbsend: out of memory\n");
		return 1;
	}
	for (i = 0; i < c.batch; i++) {
		uint8_t *f = frames + (size_t)i * ((t.len + 63) & ~63u);

		memcpy(f, t.buf, t.len);
		set_flow(&t, f, 0);
		iov[i].iov_base = f;
		iov[i].iov_len = t.len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	nflows = t.var_off >= 0 ? c.flows : 1;
	if (t.sctp && nflows > 1) {
		uint32_t *crc = calloc(nflows, sizeof(*crc));
		uint8_t *f = iov[0].iov_base;

		if (!crc) {
			fprintf(stderr, "fbsend: out of memory\n");
			return 1;
		}
		for (i = 0; i < nflows; i++) {
			set_flow(&t, f, i);
			crc[i] = (uint32_t)f[t.l4_off + 8] | (uint32_t)f[t.l4_off + 9] << 8 |
				 (uint32_t)f[t.l4_off + 10] << 16 | (uint32_t)f[t.l4_off + 11] << 24;
		}
		set_flow(&t, f, 0);
		t.crc = crc;
	}

	if (c.pps)
		gap_ns = 1000000000ull / c.pps ? 1000000000ull / c.pps : 1;
	t0 = now_ns();
	deadline = t0 + (uint64_t)(c.seconds * 1e9);
	while (sent < c.count) {
		uint64_t want = c.count - sent;
		int r;

		now = now_ns();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		if (c.pps) {
			/* frames due by now, at most a batch */
			uint64_t due = (now - t0) / gap_ns + 1;

			if (due <= sent) {
				uint64_t at = t0 + sent * gap_ns;

				sleep_until(at < deadline ? at : deadline);
				continue;
			}
			if (due - sent < want)
				want = due - sent;
		}
		burst = want < c.batch ? (unsigned)want : c.batch;
		if (nflows > 1) {
			uint32_t f2 = flow;

			for (i = 0; i < burst; i++) {
				if (slot_flow[i] != f2) {
					set_flow(&t, iov[i].iov_base, f2);
					slot_flow[i] = f2;
				}
				if (++f2 == nflows)
					f2 = 0;
			}
		}
		r = sendmmsg(fd, msgs, burst, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				/* the receiver is behind: give it a moment, growing to 1ms */
				struct timespec ts = { 0, 1000L << (backoff < 10 ? backoff : 10) };

				backoff++;
				nanosleep(&ts, NULL);
				continue;
			}
			fprintf(stderr, "fbsend: sendmmsg on %s: %s\n", c.iface, strerror(errno));
			failed = true;
			break;
		}
		backoff = 0;
		sent += (unsigned)r;
		if (nflows > 1)
			flow = (uint32_t)((flow + (unsigned)r) % nflows);
	}
	secs = (double)(now_ns() - t0) / 1e9;
	printf("sent %" PRIu64 " in %.3f s (%.0f pps)\n", sent, secs, secs > 0 ? (double)sent / secs : 0.0);
	fflush(stdout);
	if (timed_out)
		fprintf(stderr, "fbsend: time limit of %gs reached after %" PRIu64 " of %" PRIu64 " frames\n",
			c.seconds, sent, c.count);
	close(fd);
	free(t.crc);
	free(frames);
	return timed_out || failed ? 1 : 0;
}

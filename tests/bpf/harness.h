/* Shared pieces of the BPF test suite: a fresh skeleton per test, a small
 * frame builder, and runners that push a frame through the packet programs
 * with BPF_PROG_TEST_RUN and read back the records and counters.
 *
 * Every test runs in its own process (criterion forks), so the skeleton, its
 * maps and the CPU pinning below never leak from one test to the next. */
#ifndef FLOWBATCH_TESTS_BPF_HARNESS_H
#define FLOWBATCH_TESTS_BPF_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <criterion/criterion.h>

#include "flowbatch/record.h"

/* Set before fbt_open to load the shared-ring layout (--ring shared). */
extern bool fbt_shared_ring;

/* Record layout in the ring: an 8-byte kernel header, then the record,
 * rounded up to 8 bytes (BPF_RINGBUF_HDR_SZ in linux/bpf.h). */
#define FBT_SLOT (8 + sizeof(struct fb_pkt))
#define FBT_MAX_RECS 4096
#define FBT_RING_DEFAULT (64 * 1024)

#define FBT_RET_XDP_PASS 2
#define FBT_RET_TC_UNSPEC (-1)

#define ETH_P_LLDP_ 0x88CC

/* Documentation addresses (RFC 5737, RFC 3849) used by every builder. */
extern const uint8_t SRC4[4], DST4[4], SRC6[16], DST6[16];

enum fbt_prog {
	FBT_XDP,
	FBT_TC_IN,
	FBT_TC_OUT,
	FBT_NPROGS,
};

/* ---- per-test BPF state ---------------------------------------------- */

/* Opens and loads a fresh skeleton with ring_bytes of ring (0: default) and
 * the given watermark/kick_step (0: keep the program's defaults), and pins
 * the test to the CPU it is on so per-CPU seq numbers are predictable.
 * Skips the test when BPF is unavailable (not root, or EPERM), or with
 * FLOWBATCH_REQUIRE_PRIV=1 fails it at its first BPF call. */
void fbt_open(size_t ring_bytes, uint64_t watermark, uint64_t kick_step);
/* criterion .init / .fini: fbt_open with defaults, and teardown */
void fbt_init(void);
void fbt_fini(void);

int fbt_cpu(void);
size_t fbt_page_size(void);

/* Runs prog once per repeat on data (len bytes) with BPF_PROG_TEST_RUN;
 * returns the syscall result (0 or -errno). Asserts nothing. */
int fbt_run_raw(enum fbt_prog prog, const void *data, size_t len, int repeat,
		uint32_t *retval, void *out, uint32_t *out_len);

/* Runs prog once and asserts the verdict (XDP_PASS / TC_ACT_UNSPEC) and that
 * the frame came out byte for byte as it went in. */
void fbt_run_checked(enum fbt_prog prog, const void *data, size_t len, int repeat);

/* Drains every ring with flowbatch's own reader (user/ring.c) and returns
 * the number of records read; the first max go into recs. Asserts that no
 * record was bad (other type or length), that every ring is empty after,
 * and that there were at most max. */
size_t fbt_drain(struct fb_pkt *recs, size_t max);

/* Sums fb_counters over all possible CPUs. */
struct fb_counters fbt_counters(void);

/* Asserts the summed counters, naming the one that differs. */
void fbt_expect_counters(uint64_t seen, uint64_t lost, uint64_t parse_err);

/* ---- frame builder --------------------------------------------------- */

struct frame {
	uint8_t b[2048];
	size_t len;
	size_t l3;  /* offset of the IP header, for the length fix-up */
	int l3_ver; /* 0 (none), 4 or 6 */
	int fixed;  /* lengths and checksum already filled in */
};

void f_bytes(struct frame *f, const void *p, size_t n);
void f_fill(struct frame *f, uint8_t v, size_t n);
void f_be16(struct frame *f, uint16_t v);
/* Ethernet: fixed MACs, then the (outer) ethertype or 802.3 length */
void f_eth(struct frame *f, uint16_t ethertype);
/* The rest of a VLAN tag after its TPID: TCI, then the next ethertype */
void f_vlan(struct frame *f, uint16_t vid, uint16_t ethertype);
/* IPv4 from SRC4 to DST4; frag is the flags+offset field (host order);
 * opts (optlen a multiple of 4, up to 40) follows the fixed header. */
void f_ipv4(struct frame *f, uint8_t proto, uint16_t frag, const void *opts, size_t optlen);
void f_ipv6(struct frame *f, uint8_t nh);
/* Hop-by-hop / routing / destination options: 8 * (len8 + 1) bytes */
void f_ext6(struct frame *f, uint8_t nh, uint8_t len8);
/* Fragment header; offset in 8-byte units */
void f_frag6(struct frame *f, uint8_t nh, uint16_t offset, int more);
void f_udp(struct frame *f, uint16_t sport, uint16_t dport);
void f_tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags);
void f_sctp(struct frame *f, uint16_t sport, uint16_t dport);
void f_icmp(struct frame *f, uint8_t type, uint8_t code);
/* Fills in IP lengths and the IPv4 checksum for the whole frame, then cuts
 * it to n bytes, as a capture with a short snap length or a malformed sender
 * would deliver it: the length fields still describe the full packet. */
void f_cut(struct frame *f, size_t n);
void f_fix(struct frame *f);

/* ---- expected records ------------------------------------------------ */

/* A record with only the parsed fields set; the run-dependent ones (type,
 * cpu, seq, ifindex, ts_ns, wire_len) are checked by fbt_check_frame. */
struct fb_pkt want_none(uint16_t ethertype);
struct fb_pkt want_ip4(uint8_t proto);
struct fb_pkt want_ip6(uint8_t proto);

/* Runs the frame through fb_xdp, fb_tc_in and fb_tc_out in turn (the parser
 * is shared; the programs differ in context, length and direction) and
 * asserts each record field by field against want (fb_tc_out with
 * FB_F_EGRESS added), the verdicts, the unchanged frame, seq 1, 2, 3 and the
 * counters: seen 3, lost 0, parse_err 3 or 0 as want has FB_F_PARSE_ERR. */
void fbt_check_frame(struct frame *f, const struct fb_pkt *want);

/* The same for a frame whose ethertype is IPv4 (IPv6) but which holds fewer
 * than 20 (40) bytes after Ethernet. Recent kernels (6.18 here) refuse such
 * frames for skb programs in BPF_PROG_TEST_RUN with EINVAL before running
 * anything, so a TC run that gets EINVAL is left out; fb_xdp always runs,
 * and the parser it exercises is the one the TC programs share. */
void fbt_check_frame_short_l3(struct frame *f, const struct fb_pkt *want);

/* Asserts one record against want; what names the run in messages. */
void fbt_expect_pkt(const struct fb_pkt *r, const struct fb_pkt *want, const char *what);

/* Runs the program called name (any of the skeleton's, e.g. fb_tc_in_l3)
 * once on data, with ctx (a struct __sk_buff or xdp_md, ctx_len bytes) or
 * NULL; returns the syscall result (0 or -errno). Asserts nothing. */
int fbt_run_prog(const char *name, const void *data, size_t len, const void *ctx, size_t ctx_len,
		 uint32_t *retval);

#endif

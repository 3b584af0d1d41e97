/* Loading flowbatch's BPF programs and attaching them to interfaces:
 * XDP links and tcx links where the kernel has them, a clsact qdisc with
 * flowbatch's own filters otherwise. The only module besides ring that
 * speaks libbpf. */
#ifndef FB_CAPTURE_H
#define FB_CAPTURE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flowbatch/record.h"

#define FB_MAX_IFACES 16
#define FB_IFNAMSIZ 16

enum fb_hook { FB_HOOK_TC, FB_HOOK_XDP };
enum fb_dir { FB_DIR_IN = 1, FB_DIR_OUT = 2, FB_DIR_BOTH = 3 };
enum fb_tc_mode { FB_TC_AUTO, FB_TC_TCX, FB_TC_CLSACT };
enum fb_xdp_mode { FB_XDP_AUTO, FB_XDP_NATIVE, FB_XDP_GENERIC };

/* What capture needs to know, and nothing else of the configuration. */
struct fb_capture_opts {
	char ifaces[FB_MAX_IFACES][FB_IFNAMSIZ];
	int n_ifaces; /* 0: no packet capture (events only) */
	enum fb_hook hook;
	enum fb_dir dir;
	uint64_t ring_size; /* bytes per ring; 0 = choose from the CPU count */
	bool shared_ring; /* one ring for all CPUs instead of one per CPU */
	bool force; /* replace another program's XDP attachment */
	enum fb_tc_mode tc_mode;
	enum fb_xdp_mode xdp_mode;
	uint32_t events; /* enum fb_event_bit: kernel event families to load */
};

struct fb_capture;

/* Opens, configures and loads the programs. On failure logs one line
 * saying why and returns NULL with errno set. The options are copied. */
struct fb_capture *fb_capture__open(const struct fb_capture_opts *o);
/* Attaches to every configured interface; on failure logs one line, leaves
 * nothing attached and returns -errno. */
int fb_capture__attach(struct fb_capture *c);
/* Removes every attachment (idempotent). */
void fb_capture__detach(struct fb_capture *c);
void fb_capture__free(struct fb_capture *c);

/* Rings to drain: one per CPU, or one shared ring (--ring shared). */
uint32_t fb_capture__nrings(const struct fb_capture *c);
uint64_t fb_capture__ring_size(const struct fb_capture *c);
/* Bytes per ring: --ring-size, else 8 MiB per CPU (16 MiB shared), capped
 * at ~256 MiB in all. */
uint64_t fb_default_ring_size(const struct fb_capture_opts *o, uint32_t ncpus);
uint32_t fb_capture__ncpus(const struct fb_capture *c);
/* Per-CPU counters of one record type into percpu[ncpus]; 0 or -errno. */
int fb_capture__counters(void *c, uint8_t type, struct fb_counters *percpu);
/* Ring map descriptors, nrings of them. */
const int *fb_capture__ring_fds(const struct fb_capture *c);
/* An attached interface went away: forget its attachments. Returns how
 * many attached interfaces are left. */
int fb_capture__iface_gone(struct fb_capture *c, uint32_t ifindex);
/* Attached interfaces, for names in output and link-removal watching. */
int fb_capture__ifaces(const struct fb_capture *c, const uint32_t **ifindexes);
const char *fb_capture__ifname(void *c, uint32_t ifindex);
/* --events: the kernel's name of a drop reason, or NULL (fb_reason_name_fn,
 * c is the capture); events of a family the kernel skipped because its
 * program was already running on that CPU (in no ledger). */
const char *fb_capture__drop_reason(void *c, uint32_t reason);
uint64_t fb_capture__events_missed(const struct fb_capture *c, uint32_t family_bit);
/* How each hook was attached, for the start-up line: "tcx", "clsact", "xdp/native" */
const char *fb_capture__method(const struct fb_capture *c);

#endif

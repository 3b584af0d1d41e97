/* Loading flowbatch's BPF programs and attaching them to interfaces:
 * XDP links and tcx links where the kernel has them, a clsact qdisc with
 * flowbatch's own filters otherwise. The only module besides ring that
 * speaks libbpf. */
#ifndef FB_CAPTURE_H
#define FB_CAPTURE_H
#include <stddef.h>
#include <stdint.h>
#include "cli.h"
#include "flowbatch/record.h"

struct fb_capture;

/* Opens, configures and loads the programs. NULL with a reason in err and
 * errno set on failure. */
struct fb_capture *fb_capture__open(const struct fb_config *cfg, char *err, size_t errlen);
/* Attaches to every configured interface; on failure nothing stays attached.
 * Returns 0 or -errno with a reason in err. */
int fb_capture__attach(struct fb_capture *c, char *err, size_t errlen);
/* Removes every attachment (idempotent). */
void fb_capture__detach(struct fb_capture *c);
void fb_capture__free(struct fb_capture *c);

/* Rings to drain: one per CPU, or one shared ring (--ring shared). */
uint32_t fb_capture__nrings(const struct fb_capture *c);
int fb_capture__ring_fd(const struct fb_capture *c, uint32_t i);
uint64_t fb_capture__ring_size(const struct fb_capture *c);
/* Bytes per ring: --ring-size, else 8 MiB per CPU (16 MiB shared), capped
 * at ~256 MiB in all. */
uint64_t fb_default_ring_size(const struct fb_config *cfg, uint32_t ncpus);
uint32_t fb_capture__ncpus(const struct fb_capture *c);
/* Per-CPU counters into percpu[ncpus]; sum may be NULL. */
int fb_capture__counters(const struct fb_capture *c, struct fb_counters *percpu,
			 struct fb_counters *sum);
/* Attached interfaces, for names in output and link-removal watching. */
int fb_capture__ifaces(const struct fb_capture *c, const uint32_t **ifindexes);
const char *fb_capture__ifname(void *c, uint32_t ifindex);
/* How each hook was attached, for the start-up line: "tcx", "clsact", "xdp/native" */
const char *fb_capture__method(const struct fb_capture *c);

/* The interface of the default IPv4 (else IPv6) route; 0 or -errno. */
int fb_default_route_iface(char *name, size_t len);

#endif

/* Stand-in for "another program's XDP": passes everything. Tests attach it
 * with `ip link set dev X xdp obj build/xdp_pass.bpf.o sec xdp`. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int other_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

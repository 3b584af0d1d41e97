/* Test helper: prints the names of the BPF programs attached to an
 * interface's tcx ingress and egress hooks, one per line, so tests can tell
 * what is attached to their own interface (bpftool 7.1 cannot). */
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#define BPF_TCX_INGRESS_ 46
#define BPF_TCX_EGRESS_ 47

int main(int argc, char **argv)
{
	int types[2] = { BPF_TCX_INGRESS_, BPF_TCX_EGRESS_ }, t;
	unsigned ifindex;

	if (argc != 2 || !(ifindex = if_nametoindex(argv[1]))) {
		fprintf(stderr, "usage: tcxq IFACE (an existing interface)\n");
		return 2;
	}
	for (t = 0; t < 2; t++) {
		__u32 ids[64], cnt = 64, i;

		if (bpf_prog_query((int)ifindex, (enum bpf_attach_type)types[t], 0, NULL, ids, &cnt))
			continue; /* no tcx on this kernel: nothing attached that way */
		for (i = 0; i < cnt; i++) {
			struct bpf_prog_info info;
			__u32 len = sizeof(info);
			int fd = bpf_prog_get_fd_by_id(ids[i]);

			memset(&info, 0, sizeof(info));
			if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
				printf("%s %s\n", t ? "egress" : "ingress", info.name);
			if (fd >= 0)
				close(fd);
		}
	}
	return 0;
}

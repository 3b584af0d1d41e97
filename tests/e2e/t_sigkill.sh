#!/bin/bash
# SIGKILL cannot be caught, yet nothing stays behind: with tcx links (hook tc)
# and with an XDP link plus a tcx egress link (--hook xdp), the links die
# with the process, so the interface is left clean and every program
# flowbatch loaded is freed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_flows.sh"
need_tools
e2e_setup

for hook in tc xdp; do
	fb_start -i "$HOST_IF" -o jsonl -D 30s --direction both --hook "$hook"
	wait_links "$FB_PID" 2
	ids=$(fb_prog_ids "$FB_PID")
	links=$(cat /proc/"$FB_PID"/fdinfo/* 2>/dev/null | awk '/^link_id:/ { print $2 }' | tr '\n' ' ')
	[ "$hook" = xdp ] && { ip link show dev "$HOST_IF" | grep -q 'prog/xdp' || fail "no XDP program on $HOST_IF while running"; }
	# some traffic while it runs, then the kill
	send -p udp4 --src "$PEER_IP" --dst "$HOST_IP" -n 100
	kill -KILL "$FB_PID"
	wait_exit "$FB_PID" 5
	[ "$FB_RC" = 137 ] || fail "[$hook] expected death by SIGKILL (137), got $FB_RC"
	assert_progs_gone $ids
	if command -v bpftool >/dev/null; then
		for l in $links; do
			bpftool link show id "$l" >/dev/null 2>&1 && fail "[$hook] BPF link $l still exists"
		done
	fi
	assert_detached "$HOST_IF"
	echo "[$hook] killed; programs $ids and links $links gone"
done

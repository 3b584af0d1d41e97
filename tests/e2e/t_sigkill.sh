#!/bin/bash
# SIGKILL cannot be caught, yet nothing stays behind: with tcx links (hook tc)
# and with an XDP link plus a tcx egress link (--hook xdp), the links die
# with the process, so the interface is left clean and every program and
# link flowbatch held is freed.
. "$(dirname "$0")/lib.sh"
need fbsend
e2e_setup

for hook in tc xdp; do
	fb_start -i "$HOST_IF" -o jsonl -D 30s --direction both --hook "$hook"
	wait_attached "$FB_PID" "$HOST_IF" 2
	ids=$(bpf_ids "$FB_PID")
	[ "$(echo "$ids" | grep -o 'link:' | wc -l)" -ge 2 ] || fail "[$hook] fewer than 2 BPF links held: $ids"
	[ "$hook" = xdp ] && { ip link show dev "$HOST_IF" | grep -q 'prog/xdp' || fail "no XDP program on $HOST_IF while running"; }
	# some traffic while it runs, then the kill
	send -p udp4 -n 100
	fb_stop KILL 5
	[ "$RC" = 137 ] || fail "[$hook] expected death by SIGKILL (137), got $RC"
	# shellcheck disable=SC2086
	assert_released $ids
	assert_detached "$HOST_IF"
	echo "[$hook] killed; $ids gone"
done

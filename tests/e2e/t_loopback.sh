#!/bin/bash
# Loopback keeps working: flowbatch on the lo of the test's own namespace
# (an Ethernet-typed link whose header is all zeros) counts a known number
# of UDP datagrams exactly, once sent (out) and once received (in), with
# addresses and ports, on TC and on XDP (generic: lo has no driver mode).
. "$(dirname "$0")/lib.sh"
need python3
e2e_setup
LO_IP=198.18.$((ID % 250)).9
ip -n "$NS" addr add "$LO_IP/32" dev lo || fail "cannot add $LO_IP to lo in $NS"
ip -n "$NS" link set lo up

# N datagrams of P payload bytes from and to LO_IP, port 7300 -> 7301
N=300 P=100
sendlo() {
	ip netns exec "$NS" "$PY" - "$LO_IP" "$N" "$P" <<'PYEOF' || fail "sending on lo failed"
import socket, sys
ip, n, p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind((ip, 7301))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((ip, 7300))
for _ in range(n):
    s.sendto(b"x" * p, (ip, 7301))
    r.recv(2048)
PYEOF
}

# bytes of one datagram on lo: zeroed Ethernet header, IPv4, UDP, payload
B=$(( (14 + 20 + 8 + P) * N ))
for hook in tc xdp; do
	if [ $hook = xdp ]; then
		fb_start --netns -i lo -o jsonl --hook xdp --xdp-mode generic --direction in -t 500ms
	else
		fb_start --netns -i lo -o jsonl --hook tc -t 500ms
	fi
	sleep 0.3
	for _ in $(seq 1 50); do
		grep -q '"type":"batch"' "$OUT" && break
		is_running "$FB_PID" || break
		sleep 0.1
	done
	assert_running "$FB_PID" "[$hook] flowbatch ended before the sends"
	sendlo
	sleep 0.7
	fb_stop INT 5
	[ "$RC" = 0 ] || fail "[$hook] exit $RC: $(cat "$ERR")"
	flow="proto=17 src_addr=$LO_IP dst_addr=$LO_IP src_port=7300 dst_port=7301 packets=$N bytes=$B"
	if [ $hook = tc ]; then
		check --summary "$ERR" --flow "iface=lo dir=in $flow" --flow "iface=lo dir=out $flow"
	else
		check --summary "$ERR" --flow "iface=lo dir=in $flow"
	fi
done
exit 0

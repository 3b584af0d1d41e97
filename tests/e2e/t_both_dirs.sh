#!/bin/bash
# --direction both over TC: packets the host sends show up as dir "out" with
# the host's addresses. ping from the namespace: 5 echo requests in, 5 echo
# replies out (98-byte frames each way); and 300 UDP frames the host sends on
# $HOST_IF with fbsend (AF_PACKET transmit passes TC egress) counted exactly
# as dir "out", next to 200 UDP frames received as dir "in".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_flows.sh"
need_tools
e2e_setup

fb_start -i "$HOST_IF" -o jsonl -D 3s --direction both
wait_links "$FB_PID" 2
ids=$(fb_prog_ids "$FB_PID")

send -p udp4 --src "$PEER_IP" --dst "$HOST_IP" --sport 1111 --dport 9 -n 200 --size 111
o=$("$FBSEND" -i "$HOST_IF" --dst-mac "$PEER_MAC" -T 5 -p udp4 --src "$HOST_IP" --dst "$PEER_IP" \
	--sport 2222 --dport 9 -n 300 --size 222 2>&1) || fail "fbsend on $HOST_IF: $o"
pingspec=()
if command -v ping >/dev/null; then
	ip netns exec "$NS" ping -n -q -c 5 -i 0.2 -W 2 "$HOST_IP" >"$TMP/ping.txt" 2>&1 ||
		fail "ping from $NS to $HOST_IP failed: $(cat "$TMP/ping.txt")"
	grep -q '5 packets transmitted, 5 received' "$TMP/ping.txt" || fail "ping: $(cat "$TMP/ping.txt")"
	pingspec=(
		--flow "iface=$HOST_IF dir=in proto=1 src_addr=$PEER_IP dst_addr=$HOST_IP icmp_type=8 icmp_code=0 packets=5 bytes=490"
		--flow "iface=$HOST_IF dir=out proto=1 src_addr=$HOST_IP dst_addr=$PEER_IP icmp_type=0 icmp_code=0 packets=5 bytes=490"
	)
else
	echo "note: no ping here; the echo request/reply part is skipped"
fi

assert_running "$FB_PID"
wait_exit "$FB_PID" 10
[ "$FB_RC" = 0 ] || fail "flowbatch exited with $FB_RC: $(cat "$ERR")"
check --summary "$ERR" --max-other 100 "${pingspec[@]}" \
	--flow "iface=$HOST_IF dir=in proto=17 src_addr=$PEER_IP dst_addr=$HOST_IP src_port=1111 dst_port=9 packets=200 bytes=22200" \
	--flow "iface=$HOST_IF dir=out proto=17 src_addr=$HOST_IP dst_addr=$PEER_IP src_port=2222 dst_port=9 packets=300 bytes=66600" \
	--flow "dir=out proto=17 src_addr=$PEER_IP packets=0" \
	--flow "dir=in src_addr=$HOST_IP packets=0"
assert_detached "$HOST_IF"
assert_progs_gone $ids

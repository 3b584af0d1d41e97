#!/bin/bash
# --direction both over TC: packets the host sends show up as dir "out" with
# the host's addresses. ping from the namespace: 5 echo requests in, 5 echo
# replies out (98-byte frames each way); and 300 UDP frames the host sends on
# $HOST_IF with fbsend (AF_PACKET transmit passes TC egress) counted exactly
# as dir "out", next to 200 UDP frames received as dir "in".
. "$(dirname "$0")/lib.sh"
need python3 fbsend
e2e_setup

fb_start -i "$HOST_IF" -o jsonl -D 3s --direction both
wait_attached "$FB_PID" "$HOST_IF" 2
ids=$(bpf_ids "$FB_PID")

send -p udp4 --sport 1111 --dport 9 -n 200 --size 111
send_out -p udp4 --sport 2222 --dport 9 -n 300 --size 222
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
	skip_check "echo requests and replies (no ping)"
fi

assert_running "$FB_PID"
fb_wait 10
check --summary "$ERR" --max-other 100 "${pingspec[@]}" \
	--flow "iface=$HOST_IF dir=in proto=17 src_addr=$PEER_IP dst_addr=$HOST_IP src_port=1111 dst_port=9 packets=200 bytes=22200" \
	--flow "iface=$HOST_IF dir=out proto=17 src_addr=$HOST_IP dst_addr=$PEER_IP src_port=2222 dst_port=9 packets=300 bytes=66600" \
	--flow "dir=out proto=17 src_addr=$PEER_IP packets=0" \
	--flow "dir=in src_addr=$HOST_IP packets=0"
assert_detached "$HOST_IF"
# shellcheck disable=SC2086
assert_released $ids

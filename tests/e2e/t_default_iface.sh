#!/bin/bash
# Without -i, flowbatch watches the interface of the default route. Inside
# the test's namespace the default route goes out $PEER_IF, so frames sent
# to it from the root side must show up there, counted exactly.
. "$(dirname "$0")/lib.sh"
need python3 fbsend
e2e_setup
ip -n "$NS" route add default via "$HOST_IP" dev "$PEER_IF" || fail "cannot add a default route in $NS"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1

fb_start --netns -o jsonl --direction in -D 3s
wait_attached "$FB_PID" "$PEER_IF"
ids=$(bpf_ids "$FB_PID")
send_out -p udp4 --sport 4000 --dport 4001 --size 77 -n 123 -r 2000
fb_wait 10
check --summary "$ERR" \
	--flow "src_addr=$HOST_IP src_port=4000 packets=123 bytes=$((123 * 77))" \
	--flow "iface=$PEER_IF dir=in src_addr=$HOST_IP src_port=4000 packets=123 bytes=$((123 * 77))"
assert_detached "$PEER_IF"
# shellcheck disable=SC2086
assert_released $ids
echo "ok: default route interface $PEER_IF"

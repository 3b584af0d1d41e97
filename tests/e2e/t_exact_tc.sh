#!/bin/bash
# Exact per-flow packet and byte counts on TC ingress (tcx links): UDP, TCP,
# ICMP and SCTP over IPv4, UDP, TCP and ICMPv6 over IPv6, each with its own
# frame size; per-batch ledger, summary "ledger exact", nothing left attached.
# t_exact_xdp.sh sources this file with --hook xdp: arguments are extra
# flowbatch options.
. "$(dirname "$0")/lib.sh"
need python3 fbsend
e2e_setup
h6=$(canon6 "$HOST_IP6")
p6=$(canon6 "$PEER_IP6")
fb_start -i "$HOST_IF" -o jsonl -D 3s --direction in "$@"
wait_attached "$FB_PID" "$HOST_IF"
ids=$(bpf_ids "$FB_PID")

# frame sizes differ per protocol and several are odd (bytes = packets x size)
send -p udp4 --sport 1024 --dport 9 --flows 4 -n 1000 --size 101
send -p tcp4 --sport 2000 --dport 9 -n 300 --size 74
send -p icmp4 -n 200 --size 99
send -p sctp4 --sport 5000 --dport 9 -n 50 --size 82
# 802.1Q-tagged: TC sees the tag moved into skb metadata, XDP sees it in
# the frame; both must count the same 105 bytes
send -p udp4 --vlan 7 --sport 6000 --dport 9 -n 60 --size 105
send -p udp6 --sport 3000 --dport 9 --flows 2 -n 400 --size 121
send -p tcp6 --sport 4000 --dport 9 -n 120 --size 87
send -p icmp6 -n 150 --size 90
assert_running "$FB_PID"

fb_wait 10
v4="iface=$HOST_IF dir=in etype=2048 src_addr=$PEER_IP dst_addr=$HOST_IP"
v6="iface=$HOST_IF dir=in etype=34525 src_addr=$p6 dst_addr=$h6"
check --summary "$ERR" --last-partial true --max-other 100 \
	--flow "$v4 proto=17 src_port=1024 dst_port=9 packets=250 bytes=25250" \
	--flow "$v4 proto=17 src_port=1025 dst_port=9 packets=250 bytes=25250" \
	--flow "$v4 proto=17 src_port=1026 dst_port=9 packets=250 bytes=25250" \
	--flow "$v4 proto=17 src_port=1027 dst_port=9 packets=250 bytes=25250" \
	--flow "$v4 proto=6 src_port=2000 dst_port=9 packets=300 bytes=22200 tcp_flags=2" \
	--flow "$v4 proto=1 icmp_type=8 icmp_code=0 packets=200 bytes=19800" \
	--flow "$v4 proto=132 src_port=5000 dst_port=9 packets=50 bytes=4100" \
	--flow "$v4 proto=17 src_port=6000 dst_port=9 packets=60 bytes=6300" \
	--flow "$v6 proto=17 src_port=3000 dst_port=9 packets=200 bytes=24200" \
	--flow "$v6 proto=17 src_port=3001 dst_port=9 packets=200 bytes=24200" \
	--flow "$v6 proto=6 src_port=4000 dst_port=9 packets=120 bytes=10440 tcp_flags=2" \
	--flow "$v6 proto=58 icmp_type=128 icmp_code=0 packets=150 bytes=13500"
assert_detached "$HOST_IF"
# shellcheck disable=SC2086
assert_released $ids

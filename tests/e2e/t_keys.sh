#!/bin/bash
# -k src/24,proto: two sources in one /24 (and two in one IPv6 /64) fold into
# one row each, printed as the prefix's address, with the summed count and
# no port, destination or interface fields. -n 1: one top row plus a
# "rest":true row, and together they hold every packet of the batch.
. "$(dirname "$0")/lib.sh"
need python3 fbsend
e2e_setup
net4=${PEER_IP%.*}
other4=$net4.3
other6=${PEER_IP6%::*}::3
net6=$(canon6 "${PEER_IP6%::*}::")

# 1. -k src/24,proto: one row per (prefix, proto) and batch, addresses masked
fb_start -i "$HOST_IF" -o jsonl -D 2s --direction in -k src/24,proto
wait_attached "$FB_PID" "$HOST_IF"
ids=$(bpf_ids "$FB_PID")
send -p udp4 -n 300 --size 100
send -p udp4 --src "$other4" --sport 3333 -n 200 --size 100
send -p tcp4 --src "$other4" -n 50 --size 60
send -p udp6 -n 70 --size 90
send -p udp6 --src "$other6" -n 30 --size 90
assert_running "$FB_PID"
fb_wait 10
check --summary "$ERR" --max-other 50 \
	--absent src_port,dst_port,icmp_type,icmp_code,dst_addr,iface,dir,etype \
	--unique batch,src_addr,proto --masked "src_addr=$net4.0/24" --masked "src_addr=$net6/64" \
	--flow "src_addr=$net4.0 proto=17 packets=500 bytes=50000" \
	--flow "src_addr=$net4.0 proto=6 packets=50 bytes=3000" \
	--flow "src_addr=$net6 proto=17 packets=100 bytes=9000"
# shellcheck disable=SC2086
assert_released $ids

# 2. -n 1: the biggest flow (by bytes) and one rest row carrying no key
# field, holding the other two flows (150 packets, plus at most 50 of
# stray traffic); a -t 3s batch is at least 1.5s long, longer than -D 1s:
# one batch, so both rows add up to the batch row
fb_start -i "$HOST_IF" -o jsonl -D 1s -t 3s --direction in -n 1
wait_attached "$FB_PID" "$HOST_IF"
ids=$(bpf_ids "$FB_PID")
send -p udp4 --sport 1000 -n 300 --size 200
send -p udp4 --sport 2000 -n 100 --size 100
send -p udp4 --sport 3000 -n 50 --size 100
assert_running "$FB_PID"
fb_wait 10
check --summary "$ERR" --batches 1 --max-other 0 \
	--flow "proto=17 src_addr=$PEER_IP src_port=1000 dst_port=9 packets=300 bytes=60000 rows=1" \
	--flow "rest=true rows=1 packets=150..200 flows=2.. absent=src_addr,dst_addr,src_port,proto"
assert_detached "$HOST_IF"
# shellcheck disable=SC2086
assert_released $ids

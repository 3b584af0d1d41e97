#!/bin/bash
# Two interfaces at once with --hook xdp --direction both (XDP for received,
# TC for sent): exact counts per interface and direction. Then a reader that
# goes away (| head -1): flowbatch ends quietly with 0 and detaches.
. "$(dirname "$0")/lib.sh"
need python3 fbsend
e2e_setup
# a second pair into the same namespace
H2="fbi$ID"
P2="fbj$ID"
e2e_pair "$H2" "$P2"
for i in "$HOST_IF" "$H2"; do sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1"; done
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
H2_MAC=$(cat "/sys/class/net/$H2/address")

fb_start -i "$HOST_IF" -i "$H2" --hook xdp --direction both -o jsonl -D 3s -k iface,dir,proto,sport
# XDP and TC egress on each
wait_attached "$FB_PID" "$HOST_IF" 2
wait_attached "$FB_PID" "$H2" 2
ids=$(bpf_ids "$FB_PID")
send -p udp4 --sport 7001 --dport 9 --size 80 -n 111
send_via "$NS" "$P2" "$H2_MAC" -p udp4 --src "$PEER_IP" --dst "$HOST_IP" --sport 7002 --dport 9 --size 90 -n 222
send_via - "$H2" "$PEER_MAC" -p udp4 --src "$HOST_IP" --dst "$PEER_IP" --sport 7003 --dport 9 --size 100 -n 333
assert_running "$FB_PID"
fb_wait 10
# each port's packets all on one interface and direction
check --summary "$ERR" \
	--flow "src_port=7001 packets=111" --flow "iface=$HOST_IF dir=in src_port=7001 packets=111 bytes=8880" \
	--flow "src_port=7002 packets=222" --flow "iface=$H2 dir=in src_port=7002 packets=222 bytes=19980" \
	--flow "src_port=7003 packets=333" --flow "iface=$H2 dir=out src_port=7003 packets=333 bytes=33300"
assert_detached "$HOST_IF"
assert_detached "$H2"
# shellcheck disable=SC2086
assert_released $ids

# the reader goes away: exit 0, nothing left
send_bg -p udp4 -n 400 -r 200 -T 5
timeout 10 "$FB" -i "$HOST_IF" -t 100ms -o jsonl 2>"$TMP/pipe.err" | head -1 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || fail "with its reader gone flowbatch exited $rc (want 0): $(cat "$TMP/pipe.err")"
[ ! -s "$TMP/pipe.err" ] || fail "with its reader gone flowbatch wrote: $(cat "$TMP/pipe.err")"
assert_detached "$HOST_IF"
echo "ok: closed pipe: exit 0, detached"

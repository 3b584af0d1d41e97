#!/bin/bash
# Two interfaces, one deleted mid-run: flowbatch goes on with the other,
# says so in one stderr line naming the removed one, marks it "gone" in
# the batch rows' "ifaces" object (the other "up"), keeps counting the
# other exactly, and ends (exit 1, as for any removal) only when the last
# one goes too.
. "$(dirname "$0")/lib.sh"

need root python3 fbsend
e2e_setup
quiet_link
IF2="fbi$ID" PEER2="fbj$ID"
e2e_pair "$IF2" "$PEER2"
sysctl -qw "net.ipv6.conf.$IF2.disable_ipv6=1"
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$PEER2.disable_ipv6=1"
MAC2=$(cat "/sys/class/net/$IF2/address")

fb_start -i "$HOST_IF" -i "$IF2" -o jsonl -t 250ms -D 30s --direction in
wait_attached "$FB_PID" "$HOST_IF" 1
wait_attached "$FB_PID" "$IF2" 1
send -p udp4 --sport 5000 --dport 9 -n 100 --size 100
send_via "$NS" "$PEER2" "$MAC2" -p udp4 --src 198.19.0.2 --dst 198.19.0.1 --sport 6000 --dport 9 -n 80 --size 90
sleep 0.3 # a batch with both up

ip link del "$IF2" || fail "cannot delete $IF2"
for _ in $(seq 1 30); do
	grep -q "$IF2" "$ERR" && break
	sleep 0.1
done
sleep 0.3
assert_running "$FB_PID" "flowbatch stopped when one of its two interfaces went away: $(cat "$ERR")"
[ "$(grep -c "$IF2" "$ERR")" = 1 ] || fail "want one stderr line naming $IF2, got: $(cat "$ERR")"
grep -q "^flowbatch: .*$IF2" "$ERR" || fail "the line naming $IF2 does not start 'flowbatch: ': $(cat "$ERR")"
grep -q "$HOST_IF" "$ERR" && fail "stderr names $HOST_IF, which is still there: $(cat "$ERR")"

send -p udp4 --sport 5001 --dport 9 -n 50 --size 120
sleep 0.4 # a batch after the removal
assert_running "$FB_PID"
ip link del "$HOST_IF" || fail "cannot delete $HOST_IF"
wait_exit "$FB_PID" 5
[ "$RC" = 1 ] || fail "flowbatch exited $RC once no interface was left, want 1: $(cat "$ERR")"

v4="dir=in etype=2048 proto=17"
# --max-other: the second pair comes up with IPv6 on (e2e_pair), and may send
# a neighbour solicitation or two of its own. The "ifaces" object of every
# batch row names both; some batch has both up, a later one $IF2 gone (and
# fbcheck holds that a gone interface never comes back)
check --last-partial true --max-other 4 --ifaces "$HOST_IF,$IF2" \
	--ifaces-seen "$HOST_IF=up,$IF2=up" --ifaces-seen "$HOST_IF=up,$IF2=gone" \
	--flow "iface=$HOST_IF $v4 src_port=5000 packets=100 bytes=10000" \
	--flow "iface=$HOST_IF $v4 src_port=5001 packets=50 bytes=6000" \
	--flow "iface=$IF2 $v4 src_port=6000 packets=80 bytes=7200"
exit 0

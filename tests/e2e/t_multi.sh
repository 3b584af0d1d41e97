#!/bin/bash
# Two interfaces at once with --hook xdp --direction both (XDP for received,
# TC for sent): exact counts per interface and direction. Then a reader that
# goes away (| head -1): flowbatch ends quietly with 0 and detaches.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_flows.sh"
need_tools
e2e_setup
# a second pair into the same namespace
H2="fbi$ID"
P2="fbj$ID"
trap 'ip link del "$H2" 2>/dev/null; e2e_cleanup' EXIT
ip link add "$H2" type veth peer name "$P2" netns "$NS" || fail "cannot add a second veth pair"
ip link set "$H2" up
ip -n "$NS" link set "$P2" up
for i in "$HOST_IF" "$H2"; do sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1"; done
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
H2_MAC=$(cat "/sys/class/net/$H2/address")

fb_start -i "$HOST_IF" -i "$H2" --hook xdp --direction both -o jsonl -D 3s -k iface,dir,proto,sport
wait_links "$FB_PID" 4 # XDP and TC egress on each
ip netns exec "$NS" "$FBSEND" -i "$PEER_IF" --dst-mac "$HOST_MAC" -p udp4 --src "$PEER_IP" --dst "$HOST_IP" \
	--sport 7001 --dport 9 --size 80 -n 111 -T 5 >/dev/null || fail "send 1"
ip netns exec "$NS" "$FBSEND" -i "$P2" --dst-mac "$H2_MAC" -p udp4 --src "$PEER_IP" --dst "$HOST_IP" \
	--sport 7002 --dport 9 --size 90 -n 222 -T 5 >/dev/null || fail "send 2"
"$FBSEND" -i "$H2" --dst-mac "$PEER_MAC" -p udp4 --src "$HOST_IP" --dst "$PEER_IP" \
	--sport 7003 --dport 9 --size 100 -n 333 -T 5 >/dev/null || fail "send 3"
assert_running "$FB_PID"
wait_exit "$FB_PID" 10
[ "$FB_RC" = 0 ] || fail "flowbatch exited $FB_RC: $(cat "$ERR")"
got=$("$PY" - "$OUT" <<'PY'
import json, sys
tot = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["type"] == "flow" and o.get("src_port") in (7001, 7002, 7003):
        k = (o["iface"][:3], o["dir"], o["src_port"])
        tot[k] = tot.get(k, 0) + o["packets"]
print(" ".join("%s/%s/%d=%d" % (k + (v,)) for k, v in sorted(tot.items())))
PY
)
want="fbh/in/7001=111 fbi/in/7002=222 fbi/out/7003=333"
[ "$got" = "$want" ] || fail "per interface and direction: got '$got', want '$want'"
grep -q "ledger exact" "$ERR" || fail "summary: $(cat "$ERR")"
assert_detached "$HOST_IF"
assert_detached "$H2"

# the reader goes away: exit 0, nothing left
e2e_bg ip netns exec "$NS" "$FBSEND" -i "$PEER_IF" --dst-mac "$HOST_MAC" -p udp4 --src "$PEER_IP" \
	--dst "$HOST_IP" -n 400 -r 200 -T 5 >/dev/null 2>&1
timeout 10 "$FB" -i "$HOST_IF" -t 100ms -o jsonl 2>"$TMP/pipe.err" | head -1 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || fail "with its reader gone flowbatch exited $rc (want 0): $(cat "$TMP/pipe.err")"
[ ! -s "$TMP/pipe.err" ] || fail "with its reader gone flowbatch wrote: $(cat "$TMP/pipe.err")"
assert_detached "$HOST_IF"
echo "ok: $got; closed pipe: exit 0, detached"

#!/bin/bash
# Without -i, flowbatch watches the interface of the default route. Inside
# the test's namespace the default route goes out $PEER_IF, so frames sent
# to it from the root side must show up there, counted exactly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_flows.sh"
need_tools
e2e_setup
ip -n "$NS" route add default via "$HOST_IP" dev "$PEER_IF" || fail "cannot add a default route in $NS"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1

OUT_NS="$TMP/ns.jsonl"
e2e_bg ip netns exec "$NS" "$FB" -o jsonl --direction in -D 3s >"$OUT_NS" 2>"$ERR"
pid=$!
# bounded wait for its links (the netns exec'd process holds them)
for _ in $(seq 1 100); do
	[ "$(fb_links "$pid")" -ge 1 ] && break
	kill -0 "$pid" 2>/dev/null || fail "flowbatch ended early: $(cat "$ERR")"
	sleep 0.05
done
[ "$(fb_links "$pid")" -ge 1 ] || fail "flowbatch did not attach within 5s"
"$FBSEND" -i "$HOST_IF" --dst-mac "$PEER_MAC" -p udp4 --src "$HOST_IP" --dst "$PEER_IP" \
	--sport 4000 --dport 4001 --size 77 -n 123 -r 2000 -T 5 >/dev/null || fail "fbsend failed"
wait "$pid"
rc=$?
[ "$rc" -eq 0 ] || fail "flowbatch exited $rc: $(cat "$ERR")"
got=$("$PY" - "$OUT_NS" "$PEER_IF" "$HOST_IP" <<'PY'
import json, sys
path, iface, src = sys.argv[1:]
pk = by = 0
for line in open(path):
    o = json.loads(line)
    if o["type"] == "flow" and o.get("src_addr") == src and o.get("src_port") == 4000:
        if o.get("iface") != iface:
            sys.exit("flow on %r, want %r" % (o.get("iface"), iface))
        pk += o["packets"]; by += o["bytes"]
print(pk, by)
PY
) || fail "$got"
[ "$got" = "123 $((123 * 77))" ] || fail "counted '$got' on the default route's interface, want '123 $((123 * 77))'"
grep -q "ledger exact" "$ERR" || fail "summary: $(cat "$ERR")"
echo "ok: default route interface $PEER_IF, $got"

#!/bin/bash
# -k src/24,proto: two sources in one /24 (and two in one IPv6 /64) fold into
# one row each, printed as the prefix's address, with the summed count and
# no port, destination or interface fields. -n 1: one top row plus a
# "rest":true row, and together they hold every packet of the batch.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_flows.sh"
need_tools
e2e_setup
net4=${PEER_IP%.*}
other4=$net4.3
other6=${PEER_IP6%::*}::3
net6=$(canon6 "${PEER_IP6%::*}::")

# 1. -k src/24,proto
fb_start -i "$HOST_IF" -o jsonl -D 2s --direction in -k src/24,proto
wait_links "$FB_PID" 1
send -p udp4 --src "$PEER_IP" --dst "$HOST_IP" -n 300 --size 100
send -p udp4 --src "$other4" --dst "$HOST_IP" --sport 3333 -n 200 --size 100
send -p tcp4 --src "$other4" --dst "$HOST_IP" -n 50 --size 60
send -p udp6 --src "$PEER_IP6" --dst "$HOST_IP6" -n 70 --size 90
send -p udp6 --src "$other6" --dst "$HOST_IP6" -n 30 --size 90
assert_running "$FB_PID"
wait_exit "$FB_PID" 10
[ "$FB_RC" = 0 ] || fail "flowbatch exited with $FB_RC: $(cat "$ERR")"
check --summary "$ERR" --max-other 50 \
	--absent src_port,dst_port,icmp_type,icmp_code,dst_addr,iface,dir,etype \
	--flow "src_addr=$net4.0 proto=17 packets=500 bytes=50000" \
	--flow "src_addr=$net4.0 proto=6 packets=50 bytes=3000" \
	--flow "src_addr=$net6 proto=17 packets=100 bytes=9000"
# one row per (prefix, proto) and batch
"$PY" - "$OUT" "$net4.0" <<'PYEOF' || fail "src/24 rows are not one per batch"
import json, sys
seen = set()
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["type"] == "flow" and not o.get("rest"):
        k = (o["batch"], o.get("src_addr"), o.get("proto"))
        if k in seen:
            sys.exit("duplicate row %r" % (k,))
        seen.add(k)
        if o.get("src_addr", "").startswith(sys.argv[2].rsplit(".", 1)[0] + ".") and o["src_addr"] != sys.argv[2]:
            sys.exit("unmasked address %s" % o["src_addr"])
PYEOF

# 2. -n 1: the biggest flow (by bytes) and a rest row
fb_start -i "$HOST_IF" -o jsonl -D 1s -t 3s --direction in -n 1
wait_links "$FB_PID" 1
send -p udp4 --src "$PEER_IP" --dst "$HOST_IP" --sport 1000 -n 300 --size 200
send -p udp4 --src "$PEER_IP" --dst "$HOST_IP" --sport 2000 -n 100 --size 100
send -p udp4 --src "$PEER_IP" --dst "$HOST_IP" --sport 3000 -n 50 --size 100
assert_running "$FB_PID"
wait_exit "$FB_PID" 10
[ "$FB_RC" = 0 ] || fail "flowbatch exited with $FB_RC: $(cat "$ERR")"
# a -t 3s batch is at least 1.5s long, longer than -D 1s: one batch
check --summary "$ERR" --batches 1 \
	--flow "proto=17 src_addr=$PEER_IP src_port=1000 dst_port=9 packets=300 bytes=60000"
"$PY" - "$OUT" <<'PYEOF' || fail "-n 1 output is wrong"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
top = [r for r in rows if r["type"] == "flow" and not r.get("rest")]
rest = [r for r in rows if r["type"] == "flow" and r.get("rest")]
batch = [r for r in rows if r["type"] == "batch"]
if len(top) != 1 or top[0].get("src_port") != 1000:
    sys.exit("expected one top row (src_port 1000): %r" % top)
if len(rest) != 1:
    sys.exit("expected one rest row: %r" % rest)
r = rest[0]
if r["packets"] < 150 or r["packets"] > 150 + 50 or r["packets"] + 300 != batch[0]["packets"]:
    sys.exit("rest row has %d packets; batch %d" % (r["packets"], batch[0]["packets"]))
if r["bytes"] + 60000 != batch[0]["bytes"] or r.get("flows", 0) < 2:
    sys.exit("rest row %r vs batch %r" % (r, batch[0]))
for k in ("src_addr", "dst_addr", "src_port", "proto"):
    if k in r:
        sys.exit("rest row carries key field %s" % k)
print("top 1: 300 packets; rest: %d packets in %d flows" % (r["packets"], r["flows"]))
PYEOF
assert_detached "$HOST_IF"

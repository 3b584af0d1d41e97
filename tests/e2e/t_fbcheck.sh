#!/bin/bash
# The output checker itself (fbcheck.py): a well-formed output passes, and
# every kind of fault it is there to catch makes it fail: broken ledgers,
# numbering and windows, schema errors, losses, missed expectations, a
# summary that disagrees. Needs no root and no network.
. "$(dirname "$0")/lib.sh"
need python3

# A good output: batch 1 with two flows, batch 2 (partial) with one top flow,
# a rest row and an overflow row.
F='"type":"flow","tcp_flags":0,"time_flow_start_ns":5,"time_flow_end_ns":6'
B='"type":"batch","ring_lost":0,"parse_errors":0,"late":0,"processing_ms":0.1,"delay_ms":5.2'
good() {
	cat <<JSON
{$F,"batch":1,"start_ms":1000,"end_ms":2000,"proto":17,"src_addr":"198.18.0.2","src_port":1,"packets":10,"bytes":640}
{$F,"batch":1,"start_ms":1000,"end_ms":2000,"proto":17,"src_addr":"198.18.0.3","src_port":1,"packets":5,"bytes":500}
{$B,"batch":1,"start_ms":1000,"end_ms":2000,"seen":15,"packets":15,"bytes":1140,"flows":2,"overflow":0,"partial":false}
{$F,"batch":2,"start_ms":2000,"end_ms":3000,"proto":17,"src_addr":"198.18.0.2","src_port":1,"packets":7,"bytes":700}
{$F,"batch":2,"start_ms":2000,"end_ms":3000,"rest":true,"flows":3,"packets":4,"bytes":400}
{$F,"batch":2,"start_ms":2000,"end_ms":3000,"overflow":true,"packets":2,"bytes":128}
{$B,"batch":2,"start_ms":2000,"end_ms":3000,"seen":13,"packets":13,"bytes":1228,"flows":4,"overflow":2,"partial":true}
JSON
}
SUM='flowbatch: 2 batches: seen 28 = packets 28 + ring lost 0; parse errors 0, late 0, overflow 2; kernel counted seen 28, lost 0 (ledger exact)'
n=0

# ok|bad NAME SED [ARGS...]: the good output edited by SED (sed -E script)
# must pass (ok) or fail (bad) "fbcheck.py check" with ARGS
ok() { run 0 "$@"; }
bad() { run 1 "$@"; }
run() {
	local want=$1 name=$2 script=$3 rc
	shift 3
	good | sed -E "$script" >"$TMP/out.jsonl"
	echo "$SUM" >"$TMP/err.txt"
	"$PY" "$FBCHECK" check "$TMP/out.jsonl" "$@" >"$TMP/o" 2>&1
	rc=$?
	[ "$rc" = "$want" ] || fail "$name: fbcheck exited $rc, want $want: $(cat "$TMP/o")"
	[ "${E2E_PRINT:-0}" = 1 ] && echo "$name: $(tail -1 "$TMP/o")"
	n=$((n + 1))
}

ok "good output" '' --summary "$TMP/err.txt" --batches 2 --last-partial true --max-other 0 \
	--flow "src_addr=198.18.0.2 packets=17 bytes=1340 rows=2" --flow "src_addr=198.18.0.3 packets=5" \
	--flow "rest=true flows=3 packets=4" --flow "overflow=true packets=2" \
	--unique batch,src_addr --masked src_addr=198.18.0.2/32 --masked src_addr=198.19.0.0/16 --absent dst_addr
ok "records: seen = records + lost" '3s/"seen":15/"seen":15,"records":15/; 7s/"seen":13/"seen":14,"records":13,"ring_lost":1/; 7s/"ring_lost":0,//' --allow-lost
bad "records: ledger off" '3s/"seen":15/"seen":15,"records":14/'
bad "seen != packets + lost" '3s/"seen":15/"seen":16/'
bad "flow rows do not add up" '1s/"packets":10/"packets":9/'
bad "bytes do not add up" '1s/"bytes":640/"bytes":641/'
bad "flows count" '7s/"flows":4/"flows":5/'
bad "overflow count" '7s/"overflow":2/"overflow":1/'
bad "batch numbering" '7s/"batch":2/"batch":3/'
bad "a batch dropped by an output" '4,7s/"batch":2/"batch":3/; 7s/"flows":4/"flows":4,"outputs_dropped":1/'
ok "event family ledger" '3s/"flows":2/"flows":2,"drops_seen":5,"drops_records":4,"drops_lost":1/; 7s/"flows":4/"flows":4,"drops_seen":0,"drops_records":0,"drops_lost":0/' --allow-lost
bad "event family lost" '3s/"flows":2/"flows":2,"drops_seen":5,"drops_records":4,"drops_lost":1/; 7s/"flows":4/"flows":4,"drops_seen":0,"drops_records":0,"drops_lost":0/'
bad "event family ledger off" '3s/"flows":2/"flows":2,"drops_seen":5,"drops_records":4,"drops_lost":0/; 7s/"flows":4/"flows":4,"drops_seen":0,"drops_records":0,"drops_lost":0/'
bad "event family in one batch only" '3s/"flows":2/"flows":2,"drops_seen":5,"drops_records":5,"drops_lost":0/'
bad "flow row of another batch" '4s/"batch":2/"batch":1/'
bad "windows not contiguous" '4,7s/"start_ms":2000/"start_ms":2001/'
bad "flow window differs" '4s/"end_ms":3000/"end_ms":2999/'
bad "partial not last" '3s/"partial":false/"partial":true/'
bad "flows after the last batch" '7d'
bad "no batch rows" '/"type":"batch"/d'
bad "empty output" 'd'
bad "not JSON" '2s/^\{/[/'
bad "unknown row type" '1s/"type":"flow"/"type":"flaw"/'
bad "packets not an integer" '1s/"packets":10/"packets":"10"/'
bad "bad address" '1s/198\.18\.0\.2/198.18.0.256/'
bad "port out of range" '1s/"src_port":1/"src_port":65536/'
bad "unknown field not a counter" '1s/"proto":17/"proto":17,"colour":"red"/'
ok "unknown counter field" '3s/"flows":2/"flows":2,"bad_records":0/'
ok "interface states" '3s/"flows":2/"flows":2,"ifaces":{"fbh1":"up","fbh2":"up"}/; 7s/"flows":4/"flows":4,"ifaces":{"fbh1":"up","fbh2":"gone"}/'
bad "interface state unknown" '3s/"flows":2/"flows":2,"ifaces":{"fbh1":"up","fbh2":"removed"}/'
bad "interface states not strings" '3s/"flows":2/"flows":2,"ifaces":{"fbh1":1}/'
bad "rest row with a key" '5s/"rest":true/"rest":true,"proto":17/'
bad "rest row without flows" '5s/"flows":3,//'
bad "no partial field" '3s/,"partial":false//'
bad "ring_lost" '3s/"seen":15/"seen":16/; 3s/"ring_lost":0/"ring_lost":1/'
ok "ring_lost allowed" '3s/"seen":15/"seen":16/; 3s/"ring_lost":0/"ring_lost":1/' --allow-lost --min-lost 1
bad "min-lost" '' --min-lost 1
bad "parse_errors" '3s/"parse_errors":0/"parse_errors":1/'
bad "flow packets" '' --flow "src_addr=198.18.0.2 packets=16"
bad "flow bytes" '' --flow "src_addr=198.18.0.2 packets=17 bytes=1339"
bad "flow range" '' --flow "src_addr=198.18.0.2 packets=18.."
ok "flow range" '' --flow "src_addr=198.18.0.2 packets=10..17 rows=1.."
bad "tcp_flags" '' --flow "src_addr=198.18.0.2 packets=17 tcp_flags=2"
bad "absent in spec" '' --flow "rest=true rows=1 absent=flows"
bad "spec expecting nothing" '' --flow "src_addr=198.18.0.2"
bad "max-other" '' --flow "src_addr=198.18.0.2 packets=17" --max-other 10
bad "batches" '' --batches 3
bad "last partial" '' --last-partial false
bad "absent" '' --absent src_port
bad "seen total" '' --seen 27
bad "unique" '' --unique src_port
bad "masked" '' --masked src_addr=198.18.0.0/24
bad "summary disagrees" '3s/"seen":15/"seen":16/; 3s/"ring_lost":0/"ring_lost":1/' --allow-lost --summary "$TMP/err.txt"
SUM=${SUM/= packets/= records}
ok "summary counting records" '3s/"seen":15/"seen":15,"records":15/' --summary "$TMP/err.txt"
bad "summary counting records disagrees" '3s/"seen":15/"seen":16,"records":16/; 3s/"packets":15/"packets":16/; 1s/"packets":10/"packets":11/' --summary "$TMP/err.txt"
SUM=${SUM/ledger exact/LEDGER MISMATCH}
bad "summary not exact" '' --summary "$TMP/err.txt"
echo "ok: $n cases"

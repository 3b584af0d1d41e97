#!/bin/bash
# The output checker itself (fbcheck.py): a well-formed output passes, and
# every kind of fault it is there to catch makes it fail: broken ledgers,
# numbering and windows, schema errors, losses, missed expectations, a
# summary that disagrees; for each subcommand: check (packets and --events
# output), value, files (-w files against stdout, rotation), live (a gzip
# file being written) and nfdump. Needs no root and no network.
. "$(dirname "$0")/lib.sh"
need python3 jq zcat gzip

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

GEN=good

# expect WANT NAME CMD ARGS...: "fbcheck.py CMD ARGS" exits WANT
expect() {
	local want=$1 name=$2 rc
	shift 2
	"$PY" "$FBCHECK" "$@" >"$TMP/o" 2>&1
	rc=$?
	[ "$rc" = "$want" ] || fail "$name: fbcheck exited $rc, want $want: $(cat "$TMP/o")"
	[ "${E2E_PRINT:-0}" = 1 ] && echo "$name: $(tail -1 "$TMP/o")"
	n=$((n + 1))
}

# ok|bad NAME SED [ARGS...]: the output of $GEN edited by SED (sed -E
# script) must pass (ok) or fail (bad) "fbcheck.py check" with ARGS
ok() { run 0 "$@"; }
bad() { run 1 "$@"; }
run() {
	local want=$1 name=$2 script=$3
	shift 3
	$GEN | sed -E "$script" >"$TMP/out.jsonl"
	printf '%s\n' "$SUM" >"$TMP/err.txt"
	expect "$want" "$name" check "$TMP/out.jsonl" "$@"
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
ok "event family ledger" '3s/"flows":2/"flows":2,"rtt_seen":5,"rtt_records":4,"rtt_lost":1/; 7s/"flows":4/"flows":4,"rtt_seen":0,"rtt_records":0,"rtt_lost":0/' --allow-lost
bad "event family lost" '3s/"flows":2/"flows":2,"rtt_seen":5,"rtt_records":4,"rtt_lost":1/; 7s/"flows":4/"flows":4,"rtt_seen":0,"rtt_records":0,"rtt_lost":0/'
bad "event family ledger off" '3s/"flows":2/"flows":2,"rtt_seen":5,"rtt_records":4,"rtt_lost":0/; 7s/"flows":4/"flows":4,"rtt_seen":0,"rtt_records":0,"rtt_lost":0/'
bad "event family in one batch only" '3s/"flows":2/"flows":2,"rtt_seen":5,"rtt_records":5,"rtt_lost":0/'
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
IF1='"ifaces":{"fbh1":"up","fbh2":"up"}' IF2='"ifaces":{"fbh1":"up","fbh2":"gone"}'
ok "interface states" '3s/"flows":2/"flows":2,"ifaces":{"fbh1":"up","fbh2":"up"}/; 7s/"flows":4/"flows":4,"ifaces":{"fbh1":"up","fbh2":"gone"}/'
bad "interface state unknown" '3s/"flows":2/"flows":2,"ifaces":{"fbh1":"up","fbh2":"removed"}/'
bad "interface back after gone" "3s/\"flows\":2/\"flows\":2,$IF2/; 7s/\"flows\":4/\"flows\":4,$IF1/"
bad "interfaces differ between batches" "3s/\"flows\":2/\"flows\":2,$IF1/; 7s/\"flows\":4/\"flows\":4,\"ifaces\":{\"fbh1\":\"up\"}/"
ok "--ifaces, --ifaces-seen" "3s/\"flows\":2/\"flows\":2,$IF1/; 7s/\"flows\":4/\"flows\":4,$IF2/" \
	--ifaces fbh2,fbh1 --ifaces-seen fbh1=up,fbh2=up --ifaces-seen "fbh1=up fbh2=gone"
bad "--ifaces" "3s/\"flows\":2/\"flows\":2,$IF1/; 7s/\"flows\":4/\"flows\":4,$IF2/" --ifaces fbh1
bad "--ifaces-seen" "3s/\"flows\":2/\"flows\":2,$IF1/; 7s/\"flows\":4/\"flows\":4,$IF2/" --ifaces-seen fbh1=gone,fbh2=gone
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
# options that hold for every flow row, and for the last batch row
ok "--every" '' --every "has=packets,bytes absent=dst_addr" --every "tcp_flags=0,2"
bad "--every: a value" '' --every "proto=17"
bad "--every: a field" '' --every "has=src_addr"
ok "--last" '' --last partial=true --last flows=4
bad "--last: a value" '' --last flows=3
bad "--last: no such field" '' --last outputs_dropped=0
ok "--row as --flow" '' --row "src_addr=198.18.0.2 packets=17 max:bytes=700 min:bytes=640 sum:time_flow_start_ns=10"
bad "--row: max" '' --row "src_addr=198.18.0.2 max:bytes=..699"
bad "--row: min of a field no row has" '' --row "src_addr=198.18.0.2 min:rtt_min_us=0.."
bad "--row: a type without rows" '' --row "type=drop rows=1"
good >"$TMP/cut.jsonl"
truncate -s -1 "$TMP/cut.jsonl"
expect 1 "no newline after the last line" check "$TMP/cut.jsonl"

# value: aggregates over the rows a spec selects, after every check
good >"$TMP/out.jsonl"
value() {
	local name=$1 want=$2
	shift 2
	expect 0 "$name" value "$TMP/out.jsonl" "$@"
	[ "$(cat "$TMP/o")" = "$want" ] || fail "$name: value printed '$(cat "$TMP/o")', want '$want'"
}
value "value: sums" "17 1340 2" sum:packets,sum:bytes,rows "src_addr=198.18.0.2"
value "value: min and max" "5 10" min:packets,max:packets
value "value: rest row" "3" sum:flows "rest=true"
expect 1 "value: no row has the field" value "$TMP/out.jsonl" max:rtt_max_us
expect 1 "value: a bad aggregate" value "$TMP/out.jsonl" avg:packets
good | sed '1s/"packets":10/"packets":9/' >"$TMP/bad.jsonl"
expect 1 "value: a broken ledger" value "$TMP/bad.jsonl" rows

# --events output: flow rows with the families' fields, tcp_state and drop
# rows, each family's ledger in the batch row and its own summary line
GEN=evgood
E='"type":"flow","batch":1,"start_ms":1000,"end_ms":2000,"tcp_flags":24,"time_flow_start_ns":5,"time_flow_end_ns":6'
W='"batch":1,"start_ms":1000,"end_ms":2000'
evgood() {
	cat <<JSON
{$E,"proto":6,"src_addr":"198.18.0.2","dst_addr":"198.18.0.1","src_port":40000,"dst_port":80,"packets":10,"bytes":640,"tcp_opens":1,"tcp_closes":1,"tcp_failed":0,"tcp_duration_us":1500,"rtt_min_us":100,"rtt_mean_us":150,"rtt_max_us":200,"rtt_samples":4,"drops":2,"drop_bytes":120}
{$E,"proto":6,"src_addr":"198.18.0.1","dst_addr":"198.18.0.2","src_port":80,"dst_port":40000,"packets":5,"bytes":300,"rtt_samples":0}
{"type":"tcp_state",$W,"from":"SYN_SENT","to":"ESTABLISHED","count":1}
{"type":"tcp_state",$W,"from":"ESTABLISHED","to":"FIN_WAIT1","count":2}
{"type":"drop",$W,"reason":"NO_SOCKET","reason_code":3,"proto":6,"src_addr":"198.18.0.2","dst_addr":"198.18.0.1","src_port":40000,"dst_port":80,"packets":2,"bytes":120}
{"type":"drop",$W,"reason":"77","reason_code":77,"packets":1,"bytes":0}
{"type":"batch",$W,"seen":15,"records":15,"packets":15,"bytes":940,"flows":2,"ring_lost":0,"parse_errors":0,"late":0,"unknown":0,"overflow":0,"tcp_seen":3,"tcp_records":3,"tcp_lost":0,"rtt_seen":4,"rtt_records":4,"rtt_lost":0,"drops_seen":3,"drops_records":3,"drops_lost":0,"processing_ms":0.1,"delay_ms":5.2,"partial":true,"outputs_dropped":0,"ifaces":{"fbh1":"up"}}
JSON
}
SUMS=('flowbatch: 1 batches: seen 15 = records 15 + ring lost 0; parse errors 0, late 0, overflow 0; kernel counted seen 15, lost 0 (ledger exact)'
	'flowbatch: tcp events: seen 3 = records 3 + ring lost 0; kernel counted seen 3, lost 0 (ledger exact)'
	'flowbatch: rtt events: seen 4 = records 4 + ring lost 0; kernel counted seen 4, lost 0 (ledger exact)'
	'flowbatch: drops events: seen 3 = records 3 + ring lost 0; kernel counted seen 3, lost 0 (ledger exact)')
SUM=$(printf '%s\n' "${SUMS[@]}")
ok "events: good output" '' --summary "$TMP/err.txt" --events drops,rtt,tcp --max-other 0 \
	--row "type=drop reason=NO_SOCKET proto=6 src_port=40000 packets=2 bytes=120" \
	--row "type=drop reason=77 rows=1 packets=1" \
	--row "type=tcp_state from=SYN_SENT to=ESTABLISHED sum:count=1" \
	--row "src_port=40000 sum:drops=2 sum:tcp_opens=1 max:rtt_max_us=200 min:rtt_min_us=50..100 max:tcp_duration_us=1..9999" \
	--row "src_port=80 sum:rtt_samples=0 sum:tcp_opens=0" --masked src_addr=198.18.0.2/32
bad "events: --events" '' --events drops,tcp
bad "events: --events-only with flows" '' --events-only
bad "events: tcp_state counts != tcp_records" '3s/"count":1/"count":2/'
bad "events: drop rows past drops_records" '6s/"packets":1/"packets":2/'
bad "events: drop rows short of drops_records" '6d'
ok "events: an overflow row completes the drop rows" '6s/"reason":"77","reason_code":77,/"overflow":1,/'
bad "events: an overflow row with a tuple" '6s/"reason":"77","reason_code":77,/"overflow":1,"proto":6,/'
bad "events: two tcp_state rows of one key" '4s/"from":"ESTABLISHED"/"from":"SYN_SENT"/; 4s/"to":"FIN_WAIT1"/"to":"ESTABLISHED"/; 4s/"count":2/"count":1/; 7s/"tcp_seen":3,"tcp_records":3/"tcp_seen":2,"tcp_records":2/'
bad "events: two drop rows of one key" '6s/"reason":"77","reason_code":77/"reason":"NO_SOCKET","reason_code":3,"proto":6,"src_addr":"198.18.0.2","dst_addr":"198.18.0.1","src_port":40000,"dst_port":80/'
bad "events: a drop row without a reason" '6s/"reason":"77",//'
bad "events: a number as reason, another code" '6s/"reason":"77"/"reason":"78"/'
bad "events: a drop row with a direction" '6s/"packets":1/"dir":"in","packets":1/'
bad "events: a row of an unknown family" '3s/"tcp_state"/"tcp_stat"/'
bad "events: family lost" '7s/"drops_seen":3/"drops_seen":4/; 7s/"drops_lost":0/"drops_lost":1/'
ok "events: family lost allowed" '7s/"drops_seen":3/"drops_seen":4/; 7s/"drops_lost":0/"drops_lost":1/' --allow-lost
bad "events: family ledger off" '7s/"rtt_seen":4/"rtt_seen":5/'
bad "events: a family without records" '7s/"rtt_records":4,//'
bad "events: tcp_state row, no tcp ledger" '1s/"tcp_opens":1,"tcp_closes":1,"tcp_failed":0,"tcp_duration_us":1500,//; 7s/"tcp_seen":3,"tcp_records":3,"tcp_lost":0,//'
bad "events: flow field, no family ledger" '7s/"rtt_seen":4,"rtt_records":4,"rtt_lost":0,//'
bad "events: a family's fields not together" '1s/"tcp_failed":0,//'
bad "events: an optional field alone" '1s/"tcp_opens":1,"tcp_closes":1,"tcp_failed":0,//'
bad "events: duration, no close" '1s/"tcp_closes":1/"tcp_closes":0/'
bad "events: RTT out of order" '1s/"rtt_min_us":100/"rtt_min_us":160/'
bad "events: RTT without samples" '1s/"rtt_samples":4/"rtt_samples":0/'
bad "events: samples without RTT" '2s/"rtt_samples":0/"rtt_samples":1/'
bad "events: drops 0" '1s/"drops":2/"drops":0/'
bad "events: --row sum" '' --row "type=drop reason=NO_SOCKET packets=3"
bad "events: --row max" '' --row "src_port=40000 max:rtt_max_us=..199"
bad "events: --masked drop row" '' --masked src_addr=198.18.0.0/24
SUM=$(printf '%s\n' "${SUMS[@]:0:3}")
bad "events: summary without a family" '' --summary "$TMP/err.txt"
SUM=$(printf '%s\n' "${SUMS[@]}" 'flowbatch: retrans events: seen 0 = records 0 + ring lost 0; kernel counted seen 0, lost 0 (ledger exact)')
bad "events: summary with another family" '' --summary "$TMP/err.txt"
SUM=$(printf '%s\n' "${SUMS[@]}" | sed 's/seen 4 = records 4/seen 5 = records 5/; s/counted seen 4/counted seen 5/')
bad "events: family summary disagrees" '' --summary "$TMP/err.txt"
SUM=$(printf '%s\n' "${SUMS[@]}" | sed 's/kernel counted seen 3, lost 0 (ledger exact)/kernel counted seen 4, lost 0 (LEDGER MISMATCH)/')
bad "events: family summary not exact" '' --summary "$TMP/err.txt"
# --events alone: no flow rows, no interfaces, no packet summary line
SUM=$(printf '%s\n' "${SUMS[@]:1}")
NOPKT='1,2d; 7s/"seen":15,"records":15,"packets":15,"bytes":940,"flows":2/"seen":0,"records":0,"packets":0,"bytes":0,"flows":0/; 7s/,"ifaces":\{[^}]*\}//'
ok "events only" "$NOPKT" --events-only --summary "$TMP/err.txt"
bad "events only: a packet summary expected" "$NOPKT" --summary "$TMP/err.txt"
bad "events only: interfaces" "$NOPKT; 7s/\}$/,\"ifaces\":{\"fbh1\":\"up\"}}/" --events-only
SUM=$(printf '%s\n' "${SUMS[@]}")
bad "events only: a packet summary" "$NOPKT" --events-only --summary "$TMP/err.txt"

# files: the -w files of one output against stdout. Four 1 s batches, one
# flow row each, as JSON Lines (whole, and per batch) and as CSV.
four() {
	local k
	for k in 1 2 3 4; do
		echo "{\"type\":\"flow\",\"batch\":$k,\"start_ms\":${k}000,\"end_ms\":$((k + 1))000,\"proto\":17,\"src_addr\":\"198.18.0.2\",\"src_port\":$k,\"packets\":$((k * 10)),\"bytes\":$((k * 1000)),\"tcp_flags\":0,\"time_flow_start_ns\":5,\"time_flow_end_ns\":6}"
		echo "{\"type\":\"batch\",\"batch\":$k,\"start_ms\":${k}000,\"end_ms\":$((k + 1))000,\"seen\":$((k * 10)),\"packets\":$((k * 10)),\"bytes\":$((k * 1000)),\"flows\":1,\"ring_lost\":0,\"parse_errors\":0,\"late\":0,\"overflow\":0,\"processing_ms\":0.1,\"delay_ms\":5.2,\"partial\":$([ $k = 4 ] && echo true || echo false)}"
	done
}
fourcsv() {
	local k
	echo "type,batch,start_ms,end_ms,proto,src_addr,src_port,packets,bytes,tcp_flags,time_flow_start_ns,time_flow_end_ns,rest,flows,overflow,seen,ring_lost,parse_errors,late,processing_ms,delay_ms,partial"
	for k in 1 2 3 4; do
		echo "flow,$k,${k}000,$((k + 1))000,17,198.18.0.2,$k,$((k * 10)),$((k * 1000)),0,5,6,,,,,,,,,,"
		echo "batch,$k,${k}000,$((k + 1))000,,,,$((k * 10)),$((k * 1000)),,,,,1,0,$((k * 10)),0,0,0,0.1,5.2,$([ $k = 4 ] && echo true || echo false)"
	done
}
D="$TMP/files"
mkdir -p "$D"
four >"$D/stdout.jsonl"
for k in 1 2 3 4; do four | sed -n "$((2 * k - 1)),$((2 * k))p" >"$D/b$k.jsonl"; done
cat "$D/b1.jsonl" "$D/b2.jsonl" >"$D/b12.jsonl"
cat "$D/b2.jsonl" "$D/b3.jsonl" >"$D/b23.jsonl"
cat "$D/b3.jsonl" "$D/b4.jsonl" >"$D/b34.jsonl"
cat "$D/b2.jsonl" "$D/b3.jsonl" "$D/b4.jsonl" >"$D/b234.jsonl"
cat "$D/b1.jsonl" "$D/b3.jsonl" >"$D/b13.jsonl"
fourcsv >"$D/all.csv"
gzip -c "$D/all.csv" >"$D/all.csv.gz"
# gzip: one member per batch, or one member for all
for k in 1 2 3 4; do gzip -c "$D/b$k.jsonl"; done >"$D/members.jsonl.gz"
gzip -c "$D/stdout.jsonl" >"$D/one.jsonl.gz"
files() { expect "$1" "$2" files --stdout "$D/stdout.jsonl" "${@:3}"; }
files 0 "files: one file" "$D/stdout.jsonl"
files 0 "files: four files, any order" "$D/b3.jsonl" "$D/b1.jsonl" "$D/b4.jsonl" "$D/b2.jsonl"
files 0 "files: CSV" "$D/all.csv"
files 0 "files: gzip CSV" "$D/all.csv.gz"
files 0 "files: gzip members" "$D/members.jsonl.gz"
files 0 "files: logrotate's numbers" "$D/b12.jsonl" "$(cp "$D/b34.jsonl" "$D/b34.jsonl.1" && echo "$D/b34.jsonl.1")"
files 1 "files: batches missing" "$D/b12.jsonl"
files 0 "files: --drops" --drops 2 "$D/b12.jsonl"
files 1 "files: --drops, other count" --drops 1 "$D/b12.jsonl"
files 1 "files: --keep-last, the newest missing" --keep-last "$D/b12.jsonl"
files 0 "files: --keep-last" --keep-last "$D/b34.jsonl"
files 0 "files: --cut-end" --cut-end 2 "$D/b12.jsonl"
files 1 "files: --cut-end, too many" --cut-end 1 "$D/b12.jsonl"
files 1 "files: --cut-end, the oldest missing" --cut-end 2 "$D/b34.jsonl"
files 1 "files: a batch in two files" "$D/b12.jsonl" "$D/b23.jsonl" "$D/b4.jsonl"
files 1 "files: a batch missing inside a file" --drops 1 "$D/b13.jsonl" "$D/b4.jsonl"
files 0 "files: --gaps" --gaps --drops 1 "$D/b13.jsonl" "$D/b4.jsonl"
sed '2s/"delay_ms":5.2/"delay_ms":5.3/' "$D/b12.jsonl" >"$D/x12.jsonl"
files 1 "files: a row differs" "$D/x12.jsonl" "$D/b34.jsonl"
sed '1s/"bytes":1000/"bytes":1001/; 2s/"bytes":1000/"bytes":1001/' "$D/b12.jsonl" >"$D/y12.jsonl"
files 1 "files: a batch differs, its ledger kept" "$D/y12.jsonl" "$D/b34.jsonl"
sed '1s/"bytes":1000/"bytes":999/' "$D/b12.jsonl" >"$D/z12.jsonl"
files 1 "files: a file's ledger off" "$D/z12.jsonl" "$D/b34.jsonl"
head -1 "$D/b34.jsonl" | cat "$D/b12.jsonl" - >"$D/cut.jsonl"
files 1 "files: a file ends inside a batch" "$D/cut.jsonl" "$D/b34.jsonl"
sed 's/"delay_ms":5.2/"delay_ms":5.2,"colour":"red"/' "$D/b12.jsonl" >"$D/s12.jsonl"
files 1 "files: schema" "$D/s12.jsonl" "$D/b34.jsonl"
files 1 "files: not a name flowbatch writes" "$(cp "$D/b12.jsonl" "$D/b12.txt" && echo "$D/b12.txt")" "$D/b34.jsonl"
{
	fourcsv | head -3
	fourcsv | head -1
	fourcsv | tail -n +4
} >"$D/head2.csv"
files 1 "files: a second CSV header" "$D/head2.csv"
sed '2s/,$//' "$D/all.csv" >"$D/cells.csv"
files 1 "files: a CSV row short of a cell" "$D/cells.csv"
sed 1d "$D/all.csv" >"$D/nohead.csv"
files 1 "files: no CSV header" "$D/nohead.csv"
# stdout cut by a SIGKILL: only its whole batches count
head -c -20 "$D/stdout.jsonl" >"$D/stdout.cut"
expect 1 "files: stdout cut" files --stdout "$D/stdout.cut" "$D/b12.jsonl" "$D/b3.jsonl"
expect 0 "files: --stdout-cut" files --stdout "$D/stdout.cut" --stdout-cut "$D/b12.jsonl" "$D/b3.jsonl"
expect 1 "files: --stdout-cut, a batch not on stdout" files --stdout "$D/stdout.cut" --stdout-cut "$D/b12.jsonl" "$D/b34.jsonl"
# rotation: windows start at 1, 2, 3 and 4 s: -G 2 periods 0, 1, 1, 2
files 0 "files: -G" -G 2 "$D/b1.jsonl" "$D/b23.jsonl" "$D/b4.jsonl"
files 1 "files: -G, a file of two periods" -G 2 "$D/b12.jsonl" "$D/b34.jsonl"
files 0 "files: -C" -C 1 "$D/b1.jsonl" "$D/b2.jsonl" "$D/b3.jsonl" "$D/b4.jsonl"
files 1 "files: -C, a file went on past it" -C 1 "$D/b1.jsonl" "$D/b234.jsonl"
files 1 "files: -C, a new file before it" -C 100000 "$D/b12.jsonl" "$D/b34.jsonl"
files 0 "files: -C within -G periods" -G 2 -C 100000 "$D/b1.jsonl" "$D/b23.jsonl" "$D/b4.jsonl"
files 0 "files: -G with gzip members" -G 1000 "$D/members.jsonl.gz"
files 1 "files: -G with one gzip member for all" -G 1000 "$D/one.jsonl.gz"

# live: zcat of a gzip file being written (or cut by a SIGKILL)
live() { expect "$1" "$2" live "${@:3}"; }
for k in 1 2 3; do gzip -c "$D/b$k.jsonl"; done >"$D/live.jsonl.gz"
live 0 "live: whole batches" "$D/live.jsonl.gz"
[ "$(cat "$TMP/o")" = 3 ] || fail "live: read $(cat "$TMP/o") batches, want 3"
live 0 "live: --repeat-for" --repeat-for 0.2 "$D/live.jsonl.gz"
grep -qE '^[1-9][0-9]* 3$' "$TMP/o" || fail "live --repeat-for printed $(cat "$TMP/o")"
cp "$D/live.jsonl.gz" "$D/garbage.jsonl.gz"
printf 'xxxxxxxxxx' >>"$D/garbage.jsonl.gz"
live 0 "live: a member not yet whole" "$D/garbage.jsonl.gz"
(cat "$D/live.jsonl.gz"; head -1 "$D/b4.jsonl" | gzip -c) >"$D/half.jsonl.gz"
live 1 "live: a member of half a batch" "$D/half.jsonl.gz"
gzip -c "$D/b13.jsonl" >"$D/gap.jsonl.gz"
live 1 "live: batches not consecutive" "$D/gap.jsonl.gz"
sed '1s/"packets":10/"packets":11/' "$D/b1.jsonl" | gzip -c >"$D/ledger.jsonl.gz"
live 1 "live: ledger" "$D/ledger.jsonl.gz"

# nfdump: the good output's flow rows (rest and overflow aside) as nfdump's
# JSON records
GEN=good
good >"$TMP/out.jsonl"
T0='"first":"1970-01-01T00:00:00.000","last":"1970-01-01T00:00:00.000"'
nfrec() { echo "{\"type\":\"FLOW\",\"proto\":17,\"src4_addr\":\"$1\",\"dst4_addr\":\"0.0.0.0\",\"src_port\":1,\"dst_port\":0,$T0,\"in_packets\":$2,\"in_bytes\":$3}"; }
# nfdump prints an array of records, or records each followed by a comma
nfjson() { echo "["; (IFS=,; echo "$*"); echo "]"; }
nfjson "$(nfrec 198.18.0.2 10 640)" "$(nfrec 198.18.0.3 5 500)" "$(nfrec 198.18.0.2 7 700)" >"$TMP/nf.json"
expect 0 "nfdump: the same flows" nfdump "$TMP/out.jsonl" "$TMP/nf.json" --min-rows 3
expect 1 "nfdump: --min-rows" nfdump "$TMP/out.jsonl" "$TMP/nf.json" --min-rows 4
expect 1 "nfdump: --min-ipv6" nfdump "$TMP/out.jsonl" "$TMP/nf.json" --min-ipv6 1
sed 's/"in_packets":7/"in_packets":8/' "$TMP/nf.json" >"$TMP/nf2.json"
expect 1 "nfdump: a record differs" nfdump "$TMP/out.jsonl" "$TMP/nf2.json"
sed 's/^\]$/,{"type":"FLOW","proto":6,"in_packets":1,"in_bytes":60,'"$T0"'}]/' "$TMP/nf.json" >"$TMP/nf3.json"
expect 1 "nfdump: a record more" nfdump "$TMP/out.jsonl" "$TMP/nf3.json"
nfjson "$(nfrec 198.18.0.2 10 640)" "$(nfrec 198.18.0.2 7 700)" >"$TMP/nf4.json"
expect 1 "nfdump: a record less" nfdump "$TMP/out.jsonl" "$TMP/nf4.json"
for r in "$(nfrec 198.18.0.2 10 640)" "$(nfrec 198.18.0.3 5 500)" "$(nfrec 198.18.0.2 7 700)"; do
	echo "$r,"
done >"$TMP/nf5.json"
expect 0 "nfdump: records each followed by a comma" nfdump "$TMP/out.jsonl" "$TMP/nf5.json"
echo "ok: $n cases"

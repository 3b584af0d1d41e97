#!/bin/bash
# flowbatch stopped (SIGSTOP) for 2 s under steady traffic, then continued
# (SIGCONT): it neither crashes nor skips batches. The windows that passed
# while it was stopped are emitted late (large delay_ms) but numbered in
# sequence and contiguous in time; the batches after the resume are normal;
# losses, if any, are counted (seen == packets + ring_lost per batch) and the
# total seen is exactly the frames sent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"

e2e_setup
need_fbsend
quiet_link

e2e_bg "$FB" -i "$HOST_IF" --direction in -o jsonl -t 250ms -D 9s \
	>"$TMP/fb.out" 2>"$TMP/fb.err"
FBPID=$!
wait_ready "$FBPID" "$HOST_IF"

# 20000 pps for 6 s
SEND_START_MS=$(now_ms)
send_bg -p udp4 --sport 40001 --dport 9 -n 120000 -r 20000 -T 10
sleep 2
kill -STOP "$FBPID" || fail "cannot stop flowbatch"
STOP_MS=$(now_ms)
sleep 2
kill -CONT "$FBPID" || fail "cannot continue flowbatch"
CONT_MS=$(now_ms)
send_wait 120
# when the last frame went out, by fbsend's own clock
SEND_MS=$(sed -n 's/^sent [0-9]* in \([0-9]*\)\.\([0-9][0-9][0-9]\) s.*/\1\2/p' "$TMP/send.out")
[ -n "$SEND_MS" ] || fail "cannot read fbsend's duration: $(cat "$TMP/send.out")"
SEND_END_MS=$((SEND_START_MS + 10#$SEND_MS))
[ "$SEND_RC" -eq 0 ] || echo "note: fbsend did not send all frames: $(cat "$TMP/send.out")"
wait_exit "$FBPID" 100
[ "$RC" -eq 0 ] || fail "flowbatch exited $RC after SIGSTOP/SIGCONT: $(cat "$TMP/fb.err")"

eval "$(check_jsonl "$TMP/fb.out" "$PEER_IP" "$HOST_IP")"
check_summary "$TMP/fb.err"
[ -z "$BAD" ] || fail "$BAD"
[ "$SUM_EXACT" = 1 ] || fail "summary does not say ledger exact: $SUMMARY"
[ "$SUM_SEEN" = "$SEEN" ] && [ "$K_SEEN" = "$SEEN" ] && [ "$K_LOST" = "$LOST" ] ||
	fail "summary ($SUMMARY) disagrees with the batch rows (seen $SEEN, lost $LOST)"
[ -z "$OTHER" ] || fail "traffic other than the test's arrived: $OTHER"
[ "$SEEN" -eq "$SENT" ] || fail "sent $SENT frames, flowbatch saw $SEEN ($SUMMARY); $(link_drops)"
# 9 s of 250 ms batches
[ "$BATCHES" -ge 34 ] && [ "$BATCHES" -le 38 ] || fail "$BATCHES batches in 9 s of 250 ms batches"

# The stop was real: a window that ended while flowbatch was stopped came out
# at least a second late. After the resume (plus 500 ms to catch up) and while
# traffic still flowed, batches are normal: not stalled (delay under a
# second; a loaded machine adds 100-200 ms at times), not partial, not late,
# and carrying packets.
"$PY" - "$TMP/fb.out" "$STOP_MS" "$CONT_MS" "$SEND_END_MS" <<'EOF' || fail "batches around the stop are not as expected (above)"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
stop, cont, send_end = map(int, sys.argv[2:5])
b = [r for r in rows if r["type"] == "batch"]
ok = True
stalled = [r for r in b if stop + 250 < r["end_ms"] < cont - 250]
if not stalled or max(r["delay_ms"] for r in stalled) < 1000:
    print("windows that closed while flowbatch was stopped were emitted after the resume, >= 1 s"
          " late, but their delay_ms says otherwise (batch, delay_ms): %s" % [(r["batch"], r["delay_ms"]) for r in stalled])
    ok = False
after = [r for r in b if r["start_ms"] >= cont + 500 and r["end_ms"] <= send_end - 100]
if len(after) < 3:
    print("only %d batches between the resume and the end of traffic" % len(after))
    ok = False
for r in after:
    if r["delay_ms"] >= 1000 or r["partial"] or r["late"] or r["packets"] < 1000:
        print("batch after the resume is not normal: %s" % json.dumps(r))
        ok = False
print("stopped batches: %s; after resume: %s" % (
    [(r["batch"], round(r["delay_ms"])) for r in stalled],
    [(r["batch"], r["packets"], round(r["delay_ms"], 1)) for r in after]))
sys.exit(0 if ok else 1)
EOF
echo "sigstop: sent $SENT, seen $SEEN = packets $PACKETS + lost $LOST in $BATCHES batches"
exit 0

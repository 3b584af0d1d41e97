#!/bin/bash
# A one-page ring (--ring-size 4096: 56 records of 64 + 8 bytes) under a
# flood overflows, and every lost record is accounted for: in every batch
# row seen == packets + ring_lost, the batches' seen adds up exactly to the
# frames sent, the kernel's own counters agree, and the summary on stderr
# shows the losses and "(ledger exact)".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"

N=${FB_FLOOD_FRAMES:-200000}

e2e_setup
need_fbsend
quiet_link

e2e_bg "$FB" -i "$HOST_IF" --direction in --ring-size 4096 -o jsonl -t 250ms -D 30s \
	>"$TMP/fb.out" 2>"$TMP/fb.err"
FBPID=$!
wait_ready "$FBPID" "$HOST_IF"

send -p udp4 --sport 40000 --dport 9 -n "$N" -r 0 -T 10
RATE=$(sed -n 's/^sent .*(\([0-9.]*\) pps).*/\1/p' "$TMP/send.out")
sleep 0.3
kill -INT "$FBPID"
wait_exit "$FBPID" 50
[ "$RC" -eq 0 ] || fail "flowbatch exited $RC: $(cat "$TMP/fb.err")"

eval "$(check_jsonl "$TMP/fb.out" "$PEER_IP" "$HOST_IP")"
check_summary "$TMP/fb.err"
[ -z "$BAD" ] || fail "$BAD"
[ "$SENT" -gt 0 ] || fail "fbsend sent nothing: $(cat "$TMP/send.out")"
[ "$LOSSY" -gt 0 ] || fail "no ring_lost in any of $BATCHES batches: the 4096-byte ring never overflowed ($SENT frames at $RATE pps)"
[ "$SUM_SEEN" = "$SEEN" ] && [ "$SUM_PACKETS" = "$PACKETS" ] && [ "$SUM_LOST" = "$LOST" ] ||
	fail "summary ($SUMMARY) disagrees with the batch rows (seen $SEEN, packets $PACKETS, lost $LOST)"
[ "$K_SEEN" = "$SEEN" ] || fail "kernel counted $K_SEEN packets, batch rows add up to $SEEN ($SUMMARY)"
[ "$K_LOST" = "$LOST" ] || fail "kernel counted $K_LOST lost, batch rows add up to $LOST ($SUMMARY)"
[ "$SUM_EXACT" = 1 ] || fail "summary does not say ledger exact: $SUMMARY"
[ "$SUM_LOST" -gt 0 ] || fail "summary shows no ring losses: $SUMMARY"
[ -z "$OTHER" ] || fail "traffic other than the test's arrived: $OTHER"
[ "$SEEN" -eq "$SENT" ] || fail "sent $SENT frames, flowbatch saw $SEEN ($SUMMARY); $(link_drops)"
[ "$((OURS + LOST))" -eq "$SENT" ] || fail "flow rows hold $OURS packets + $LOST lost, sent $SENT"
echo "ring 4096: sent $SENT at $RATE pps; seen $SEEN = packets $PACKETS + lost $LOST; $LOSSY of $BATCHES batches lossy (max $MAXLOST)"
exit 0

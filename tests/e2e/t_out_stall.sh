#!/bin/bash
# A stdout pipe nobody reads for ~4.5 s (over 20 batch intervals): the file
# output and the ledger stay exact; stdout loses whole batches once it has
# written nothing for 2 s (its stall time), each counted (exit summary, outputs_dropped in the file's batch rows,
# one line on stderr when it starts and one when it catches up), and what it
# does print is whole batches equal to the file's. Then `| head -n 1` still
# ends the run quietly at once.
. "$(dirname "$0")/lib.sh"
need python3 fbsend jq
e2e_setup
F="$TMP/all.jsonl"
mkfifo "$TMP/pipe"

# the reader: asleep for 4.5 s once flowbatch runs, then reads everything (the FIFO is opened in
# the background process: opening it blocks until the other end is open)
e2e_bg sh -c 'exec "$@" <"$0"' "$TMP/pipe" "$PY" -c \
	'import os, sys, time
while not os.path.exists(sys.argv[1]): time.sleep(0.02)
time.sleep(4.5)
sys.stdout.buffer.write(sys.stdin.buffer.read())' "$TMP/go" >"$TMP/stdout.jsonl"
READER=$BG_PID
ERR="$TMP/stall.err"
e2e_bg sh -c 'exec "$@" >"$0"' "$TMP/pipe" "$FB" -i "$HOST_IF" -o jsonl -t 200ms -c 30 --direction in \
	-w "$F" 2>"$ERR"
FB_PID=$BG_PID
wait_attached "$FB_PID" "$HOST_IF"
touch "$TMP/go"
# 200 flows a batch (~50 KB of rows): the pipe fills at once
send -p udp4 --flows 200 -n 12000 -r 4000
fb_wait 15
wait_exit "$READER" 10

line=$(grep -E '^flowbatch: output stdout: [0-9]+ batches written, [0-9]+ dropped' "$ERR") ||
	fail "no summary line for stdout: $(cat "$ERR")"
dropped=$(echo "$line" | sed -E 's/.* ([0-9]+) dropped.*/\1/')
[ "$dropped" -ge 3 ] || fail "stdout unread for 4.5 s dropped only $dropped batches: $line"
# the file: every batch, ledger exact, its last batch row counting stdout's drops
OUT=$F check --summary "$ERR" --batches 30 --last outputs_dropped="$dropped"
# stuck: no byte written for 2 s (the stall time at -t 200ms), then drops
[ "$(grep -cE 'output stdout: no progress for [0-9.]+ s \([0-9]+ batch(es)? waiting\); dropping batches until it catches up' "$ERR")" = 1 ] ||
	fail "not one line when stdout fell behind: $(cat "$ERR")"
[ "$(grep -c "output stdout: writing again; $dropped batches dropped" "$ERR")" = 1 ] ||
	fail "not one line when stdout caught up: $(cat "$ERR")"
# stdout's rows, read as a file: whole batches, the file's, exactly the dropped ones missing
fbcheck files --stdout "$F" --drops "$dropped" --gaps "$TMP/stdout.jsonl"
echo "stdout unread for 4.5 s: $dropped batches dropped; file and ledger exact"

# a reader that goes away: the run ends quietly, exit 0
"$FB" -i "$HOST_IF" -o jsonl -t 100ms --direction in 2>"$TMP/head.err" | head -n 1 >/dev/null
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || fail "| head -n 1: exit $rc: $(cat "$TMP/head.err")"
[ -s "$TMP/head.err" ] && fail "| head -n 1 printed: $(cat "$TMP/head.err")"
exit 0

#!/bin/bash
# A gzip file being written: zcat, run again and again while batches are
# appended, prints whole batches only (and never fewer than before); after a
# SIGKILL, zcat reads every batch but at most the one being written, equal
# to stdout's.
. "$(dirname "$0")/lib.sh"
need python3 fbsend jq zcat
e2e_setup
F="$TMP/live.jsonl.gz"

fb_start -i "$HOST_IF" -o jsonl -t 100ms --direction in -w "$F"
wait_attached "$FB_PID" "$HOST_IF"
send_bg -p udp4 --flows 50 -n 6000 -r 4000
v=$(fbcheck live --repeat-for 1.5 "$F") || fail "zcat of the live file"
read -r reads prev <<<"$v"
[ "$reads" -ge 10 ] && [ "$prev" -ge 5 ] || fail "only $reads reads of the live file, $prev batches"
# killed while batches of traffic are being written
fb_kill KILL
wait_exit "$FB_PID" 5
send_wait 10
n=$(fbcheck live "$F") || fail "zcat after SIGKILL"
# whatever zcat reads is what stdout says, row for row: stdout's whole
# batches (its last line may be cut), all but at most the last one
v=$(fbcheck files --stdout "$OUT" --stdout-cut --live --cut-end 1 "$F") || fail "the killed file's batches"
echo "$v"
echo "zcat read the live file $reads times (up to $prev batches); after SIGKILL $n batches"
exit 0

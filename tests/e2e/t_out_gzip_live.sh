#!/bin/bash
# A gzip file being written: zcat, run again and again while batches are
# appended, prints whole batches only (and never fewer than before); after a
# SIGKILL, zcat reads every batch but at most the one being written, equal
# to stdout's.
. "$(dirname "$0")/lib.sh"
need python3 fbsend jq zcat
e2e_setup
OF="$E2E_DIR/outfiles.py"
F="$TMP/live.jsonl.gz"

fb_start -i "$HOST_IF" -o jsonl -t 100ms --direction in -w "$F"
wait_attached "$FB_PID" "$HOST_IF"
send_bg -p udp4 --flows 50 -n 6000 -r 4000
read -r reads prev < <("$PY" "$OF" live --repeat-for 1.5 "$F") || fail "zcat of the live file"
[ -n "$prev" ] || fail "zcat of the live file failed"
[ "$reads" -ge 10 ] && [ "$prev" -ge 5 ] || fail "only $reads reads of the live file, $prev batches"
# killed while batches of traffic are being written
fb_kill KILL
wait_exit "$FB_PID" 5
send_wait 10
n=$("$PY" "$OF" live "$F") || fail "zcat after SIGKILL: $n"
# stdout's whole batches, as a file of its own (its last line may be cut)
m=$(grep -c '^{"type":"batch".*}$' "$OUT")
[ "$n" -ge $((m - 1)) ] || fail "after SIGKILL zcat reads $n batches, stdout has $m"
# whatever zcat reads is what stdout says, row for row
"$PY" - "$OUT" "$TMP/whole.jsonl" <<'EOF'
import sys
lines = open(sys.argv[1]).read().split("\n")
keep = []
for i, line in enumerate(lines):
    if line.startswith('{"type":"batch"') and line.endswith("}"):
        keep = lines[:i + 1]
open(sys.argv[2], "w").write("\n".join(keep) + "\n")
EOF
"$PY" "$OF" union --stdout "$TMP/whole.jsonl" --live --cut-end 1 "$F" ||
	fail "the killed file's batches differ from stdout's"
echo "zcat read the live file $reads times (up to $prev batches); after SIGKILL $n of $m batches"
exit 0

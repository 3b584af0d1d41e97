#!/bin/bash
# logrotate's move-then-SIGHUP, twice, with the stanza README gives: a JSON
# Lines file and a gzip CSV file are moved away and flowbatch reopens their
# paths. Every rotated file and the current one hold whole batches, and
# together they equal stdout row for row: nothing lost or written twice.
. "$(dirname "$0")/lib.sh"
need python3 fbsend jq zcat logrotate
e2e_setup
D="$TMP/lr"
mkdir -p "$D"

fb_start -i "$HOST_IF" -o jsonl -t 200ms -c 20 --direction in -w "$D/flows.jsonl" -w "$D/flows.csv.gz"
wait_attached "$FB_PID" "$HOST_IF"
cat >"$TMP/lr.conf" <<EOF
$D/flows.jsonl $D/flows.csv.gz {
	rotate 10
	missingok
	notifempty
	nocompress
	sharedscripts
	postrotate
		kill -HUP $FB_PID
	endscript
}
EOF
send_bg -p udp4 --flows 10 -n 4000 -r 1500
for i in 1 2; do
	sleep 0.9
	is_running "$FB_PID" || fail "flowbatch ended before logrotate ran ($i)"
	logrotate -f -s "$TMP/lr.state" "$TMP/lr.conf" || fail "logrotate failed"
done
send_wait 10
fb_wait 15
check --summary "$ERR" --batches 20
[ -f "$D/flows.jsonl.2" ] && [ -f "$D/flows.csv.gz.2" ] || fail "logrotate did not rotate twice: $(ls "$D")"
fbcheck files --stdout "$OUT" "$D"/flows.jsonl*
fbcheck files --stdout "$OUT" "$D"/flows.csv.gz*
# each reopened file starts with its own CSV header (files checks one per file)
for f in "$D"/flows.jsonl "$D"/flows.jsonl.1; do
	[ -s "$f" ] || fail "$f is empty: the reopened path got no batches"
done
exit 0

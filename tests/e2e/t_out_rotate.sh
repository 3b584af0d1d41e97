#!/bin/bash
# Several outputs at once, rotating: stdout JSON Lines, a gzip JSON Lines
# file named with strftime patterns and a CSV file, all with -G 1 -C 8k, and
# a SIGHUP mid-run. For each file output the union of its files (read with
# zcat, jq and Python's csv module) equals stdout row for row, each file
# holds whole batches, no file spans two -G periods or goes on past -C, and a
# gzip file holds one member per batch. No field differs between outputs.
# Then -W 3 with a file per batch: only the run's three newest files are
# left, and a file of the same pattern it did not write stays.
. "$(dirname "$0")/lib.sh"
need python3 fbsend jq zcat
e2e_setup
export TZ=UTC
D="$TMP/rot"
mkdir -p "$D"

files() {
	"$PY" "$FBCHECK" files --stdout "$OUT" "$@" || {
		ls -l "$D" >&2
		_dump
		fail "fbcheck files failed"
	}
}

fb_start -i "$HOST_IF" -o jsonl -t 200ms -c 16 --direction in \
	-w "$D/g-%Y%m%d-%H%M%S.jsonl.gz" -w "$D/s.csv" -G 1 -C 8k
wait_attached "$FB_PID" "$HOST_IF"
# 20 flows a batch: ~5 KB of CSV (-C turns every second batch or so), ~1 KB
# of gzip (only -G turns)
send -p udp4 --flows 20 -n 2000 -r 2000
fb_kill HUP
send -p udp4 --flows 20 -n 2000 -r 2000
fb_wait 15
check --summary "$ERR" --batches 16

files -G 1 -C 8192 "$D"/g-*.jsonl.gz
files -G 1 -C 8192 "$D"/s*.csv
ng=$(find "$D" -name 'g-*.jsonl.gz' | wc -l)
nc=$(find "$D" -name 's*.csv' | wc -l)
[ "$ng" -ge 3 ] || fail "-G 1 over ~3 s made $ng gzip files"
# -C did its part: some CSV file went past 8k (and a new one followed)
big=$(find "$D" -name 's*.csv' -size +8192c | wc -l)
[ "$big" -ge 1 ] && [ "$nc" -gt "$ng" ] || fail "-C 8k: $nc CSV files, $big past 8k ($ng gzip files)"
grep -v '^flowbatch: [0-9]* batches: ' "$ERR" | grep . && fail "unexpected messages on stderr"

# -W 3: one file per batch (-C 4k, each batch past it), the three newest stay
W="$TMP/keep"
mkdir -p "$W"
echo "not flowbatch's" >"$W/w-000000.jsonl"
fb_start -i "$HOST_IF" -o jsonl -t 200ms -c 10 --direction in -w "$W/w-%H%M%S.jsonl" -C 4k -W 3
wait_attached "$FB_PID" "$HOST_IF"
send -p udp4 --flows 30 -n 3000 -r 2000
fb_wait 15
check --summary "$ERR" --batches 10
[ "$(cat "$W/w-000000.jsonl")" = "not flowbatch's" ] || fail "-W touched a file flowbatch did not write"
mapfile -t kept < <(find "$W" -name 'w-??????*.jsonl' ! -name w-000000.jsonl | sort)
[ "${#kept[@]}" = 3 ] || fail "-W 3 left ${#kept[@]} files: ${kept[*]}"
# the three hold the run's last batches (the oldest went)
files --keep-last "${kept[@]}"
exit 0

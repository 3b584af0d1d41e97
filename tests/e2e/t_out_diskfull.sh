#!/bin/bash
# A full disk: a -w file on a small tmpfs the test mounts, filled up for a
# while and then freed. Capture goes on (stdout complete, ledger exact), the
# other file output (CSV) is complete, the full one drops whole batches
# (counted in later batch rows' outputs_dropped and in the exit summary; one
# line on stderr when it starts failing and one when it writes again) and
# resumes on a new file; its files hold whole batches, exactly the dropped
# ones missing.
. "$(dirname "$0")/lib.sh"
need python3 fbsend jq mount umount
e2e_setup
M="$TMP/small"
mkdir -p "$M"
mount -t tmpfs -o size=512k fbtest "$M" || skip "cannot mount a tmpfs"
# unmount before lib.sh removes $TMP, keeping the test's exit status
trap 'rc=$?; umount -l "$M" 2>/dev/null; (exit $rc); e2e_cleanup' EXIT

fb_start -i "$HOST_IF" -o jsonl -t 200ms -c 25 --direction in -w "$M/f.jsonl" -w "$TMP/other.csv"
wait_attached "$FB_PID" "$HOST_IF"
send_bg -p udp4 --flows 20 -n 8000 -r 2000
sleep 1
# fill the disk: writes fail with ENOSPC for a few batches
dd if=/dev/zero of="$M/fill" bs=4k 2>/dev/null
is_running "$FB_PID" || fail "flowbatch ended while the disk was full: $(cat "$ERR")"
sleep 1.2
rm -f "$M/fill"
send_wait 10
fb_wait 15

line=$(grep -E "^flowbatch: output file $M/f.jsonl: [0-9]+ batches written, [0-9]+ dropped" "$ERR") ||
	fail "no summary line for the full output: $(cat "$ERR")"
dropped=$(echo "$line" | sed -E 's/.* ([0-9]+) dropped.*/\1/')
[ "$dropped" -ge 3 ] || fail "only $dropped batches dropped in 1.2 s of a full disk: $line"
# capture went on: every batch on stdout, ledger exact; batch rows written
# after the incident count its drops
check --summary "$ERR" --batches 25 --last outputs_dropped="$dropped"
[ "$(grep -c "output $M/f.jsonl: cannot write $M/f.*No space left on device; dropping batches until it recovers" "$ERR")" = 1 ] ||
	fail "not one line when the disk filled: $(cat "$ERR")"
[ "$(grep -c "output $M/f.jsonl: writing again; $dropped batches dropped" "$ERR")" = 1 ] ||
	fail "not one line when it wrote again: $(cat "$ERR")"
[ "$(wc -l <"$ERR")" = 4 ] || fail "more on stderr than the incident and the summaries: $(cat "$ERR")"

# the other output and stdout: every batch
fbcheck files --stdout "$OUT" "$TMP/other.csv"
# the full one: whole batches, the dropped ones missing, resumed on a new file
[ -s "$M/f.1.jsonl" ] || fail "writing did not resume on a new file: $(ls -l "$M")"
fbcheck files --stdout "$OUT" --drops "$dropped" "$M"/f*.jsonl
echo "full disk: $dropped batches dropped, resumed on f.1.jsonl"
exit 0

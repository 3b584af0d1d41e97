#!/bin/bash
# A one-page ring (--ring-size 4096: 56 records of 64 + 8 bytes) under a
# flood overflows, and every lost record is accounted for: in every batch
# row seen == packets + ring_lost, the batches' seen adds up exactly to the
# frames sent, the kernel's own counters agree, and the summary on stderr
# shows the losses and "(ledger exact)".
. "$(dirname "$0")/lib.sh"
need python3 fbsend

N=${FB_FLOOD_FRAMES:-200000}

e2e_setup
quiet_link

fb_start -i "$HOST_IF" --direction in --ring-size 4096 -o jsonl -t 250ms -D 30s
wait_attached "$FB_PID" "$HOST_IF"

send -p udp4 --sport 40000 --dport 9 -n "$N" -r 0 -T 10
RATE=$(sed -n 's/^sent .*(\([0-9.]*\) pps).*/\1/p' "$TMP/send.out")
sleep 0.3
fb_stop INT 5
[ "$RC" -eq 0 ] || fail "flowbatch exited $RC: $(cat "$ERR")"
echo "ring 4096: sent $SENT at $RATE pps"
# seen == sent with nothing but the test's flow: its packets + lost == sent
check --summary "$ERR" --min-lost 1 --seen "$SENT" --max-other 0 \
	--flow "src_addr=$PEER_IP dst_addr=$HOST_IP src_port=40000 rows=1.."
exit 0

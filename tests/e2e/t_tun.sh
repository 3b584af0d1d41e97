#!/bin/bash
# A link without an Ethernet header: a tun device (ARPHRD_NONE) in the
# test's namespace, into which the test writes IPv4 and IPv6 packets; the
# kernel answers the pings back out of it. flowbatch (in that namespace)
# must report exactly those flows, on TC both ways and on XDP (generic mode,
# the only one the kernel has there), with no parse errors and no made-up
# rows; native XDP is refused with one clear line.
. "$(dirname "$0")/lib.sh"

need root python3
[ -c /dev/net/tun ] || skip "needs /dev/net/tun"
e2e_setup
TUN="fbtun$ID"
A=198.19.$((ID % 250))
B=2001:2:1:$(printf %x $((ID % 65535)))
ip -n "$NS" tuntap add dev "$TUN" mode tun || skip "cannot create a tun device"
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$TUN.addr_gen_mode=1" "net.ipv6.conf.$TUN.router_solicitations=0"
ip -n "$NS" addr add "$A.1/24" dev "$TUN"
ip -n "$NS" -6 addr add "$B::1/64" dev "$TUN" nodad
ip -n "$NS" link set "$TUN" up

# Opens the tun (its carrier comes up), writes the packets, reads back what
# the kernel sends out of it and prints the echo replies it saw. UDP goes to
# addresses that are not local (.3, ::3): forwarding is off, so the kernel
# drops them without an answer. Checksums are real: the kernel checks them.
cat >"$TMP/tun.py" <<'PY'
import fcntl, os, select, struct, sys, time
name, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH", name.encode(), 0x0001 | 0x1000))  # TUNSETIFF: IFF_TUN|IFF_NO_PI

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def ip4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                    bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def a6(x):
    import socket
    return socket.inet_pton(socket.AF_INET6, x)

def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, a6(src), a6(dst)) + payload

def l4sum6(src, dst, nh, body):
    return csum(a6(src) + a6(dst) + struct.pack("!IxxxB", len(body), nh) + body)

def udp(sp, dp, n):
    return struct.pack("!HHHH", sp, dp, 8 + n, 0) + b"u" * n

def icmp4(seq):
    body = struct.pack("!BBHHH", 8, 0, 0, 0x4242, seq) + b"p" * 56
    return body[:2] + struct.pack("!H", csum(body)) + body[4:]

def icmp6(src, dst, seq):
    body = struct.pack("!BBHHH", 128, 0, 0, 0x4343, seq) + b"p" * 56
    return body[:2] + struct.pack("!H", l4sum6(src, dst, 58, body)) + body[4:]

pk = []
pk += [ip4(a + ".2", a + ".3", 17, udp(1111, 9, 72))] * 300          # 100 bytes
pk += [ip6(b + "::2", b + "::3", 17, udp(2222, 9, 72))] * 200        # 120 bytes
pk += [ip4(a + ".2", a + ".1", 1, icmp4(i)) for i in range(20)]      # 84 bytes
pk += [ip6(b + "::2", b + "::1", 58, icmp6(b + "::2", b + "::1", i)) for i in range(20)]  # 104
for p in pk:
    os.write(fd, p)
rep = {0: 0, 129: 0}
end = time.time() + 3
while time.time() < end and (rep[0] < 20 or rep[129] < 20):
    if select.select([fd], [], [], 0.2)[0]:
        p = os.read(fd, 65536)
        t = p[20] if p[0] >> 4 == 4 and p[9] == 1 else p[40] if p[0] >> 4 == 6 and p[6] == 58 else -1
        if t in rep:
            rep[t] += 1
print("replies4=%d replies6=%d" % (rep[0], rep[129]), flush=True)
PY

run() {
	local label=$1 n=$2 h6 p6
	shift 2
	fb_start --netns -i "$TUN" -o jsonl -t 1s "$@"
	wait_attached "$FB_PID" "$TUN" "$n"
	ip netns exec "$NS" "$PY" "$TMP/tun.py" "$TUN" "$A" "$B" >"$TMP/tun.out" 2>&1 ||
		fail "[$label] tun writer: $(cat "$TMP/tun.out")"
	grep -qx "replies4=20 replies6=20" "$TMP/tun.out" ||
		fail "[$label] the kernel did not answer every ping: $(cat "$TMP/tun.out")"
	sleep 0.2
	fb_stop INT 5
	[ "$RC" = 0 ] || fail "[$label] flowbatch exited $RC: $(cat "$ERR")"
	h6=$(canon6 "$B::1") p6=$(canon6 "$B::2")
	local in="iface=$TUN dir=in"
	# --every: no made-up rows, each one an IPv4 or IPv6 flow with addresses
	# (--max-other: MLD reports the kernel may send for the tun's address)
	check --summary "$ERR" --max-other 6 --every "etype=2048,34525 has=src_addr,dst_addr" \
		--flow "$in etype=2048 proto=17 src_addr=$A.2 dst_addr=$A.3 src_port=1111 dst_port=9 packets=300 bytes=30000" \
		--flow "$in etype=34525 proto=17 src_addr=$p6 dst_addr=$(canon6 "$B::3") src_port=2222 dst_port=9 packets=200 bytes=24000" \
		--flow "$in etype=2048 proto=1 src_addr=$A.2 dst_addr=$A.1 icmp_type=8 icmp_code=0 packets=20 bytes=1680" \
		--flow "$in etype=34525 proto=58 src_addr=$p6 dst_addr=$h6 icmp_type=128 icmp_code=0 packets=20 bytes=2080" \
		"${OUT_FLOWS[@]}"
	echo "[$label] exact"
}

OUT_FLOWS=(--flow "iface=$TUN dir=out etype=2048 proto=1 src_addr=$A.1 dst_addr=$A.2 icmp_type=0 packets=20 bytes=1680"
	--flow "iface=$TUN dir=out etype=34525 proto=58 icmp_type=129 packets=20 bytes=2080")
run "tc" 2 --hook tc --direction both
OUT_FLOWS=()
run "xdp" 1 --hook xdp --direction in

# native XDP does not exist on a link without an Ethernet header
fb_start --netns -i "$TUN" -o jsonl --hook xdp --xdp-mode native -D 2s
wait_exit "$FB_PID" 10
[ "$RC" = 1 ] || fail "--xdp-mode native on $TUN: exit $RC, want 1: $(cat "$ERR")"
[ "$(wc -l <"$ERR")" = 1 ] && grep -q "^flowbatch: $TUN .*generic" "$ERR" ||
	fail "--xdp-mode native on $TUN: want one line naming $TUN and generic mode, got: $(cat "$ERR")"
assert_detached "$TUN"
exit 0

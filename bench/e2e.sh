#!/bin/bash
# End-to-end benchmark (part of `make bench`): 64-byte UDP frames from
# build/fbsend (AF_PACKET + sendmmsg, bounded by count and time) across a
# veth pair between two network namespaces of our own (198.18.0.0/15 only,
# IPv6 off), addressed to the capture side's MAC and address, at the sender's
# full rate, over 1K and over 100K flows; and again addressed to another
# host's MAC (flow sets 1000o, 100000o), as a mirror port or a hub delivers
# frames: the capture side's stack drops them early (not for this host),
# so the tool's share of the machine's work is larger there. The second
# case runs the rows in ROWS_OTHER (none fb_tc tcpdump). Rows:
#
#   none       nothing attached
#   xdp_empty  an empty XDP program (build/xdp_pass.bpf.o)
#   fb_xdp     flowbatch --hook xdp --direction in
#   fb_tc      flowbatch --hook tc --direction in
#   tcpdump    tcpdump -w /dev/null (-Q in)
#   pmacctd    pmacctd, print plugin, aggregate src_host,dst_host,src_port,dst_port,proto
#   softflowd  softflowd exporting NetFlow v5 to nfcapd on our own 198.18.x.x address
#
# Per row (median of the runs): packets accounted / sent, the sender's rate,
# the tool's CPU time per packet (its processes, from /proc/PID/schedstat,
# plus reaped children from /proc/PID/stat), machine CPU per packet (busy
# time of all CPUs from /proc/stat over the send and a settle period) and the
# extra machine CPU over the nothing-attached row. The kernel-side work on a
# veth runs on the sender's CPU (softirq) and is charged to no tool; the
# machine figure is what sees it. The sender is pinned to the first CPU and
# every tool to the last one. Rows are interleaved run by run so slow drift
# of a noisy machine spreads over all of them. A second "own processes"
# machine figure (senders + tool + nfcapd + ksoftirqd CPU time) is robust to
# other load on the machine.
#
# XDP mode: native by default, what flowbatch's --xdp-mode auto picks on a
# veth (and on a real NIC). On a veth, native XDP moves the receive path into
# the veth's NAPI ring and copies every AF_PACKET skb into a page_pool page
# (they lack XDP's 256-byte headroom), so even an empty native program costs
# ~230 ns/packet here; generic XDP costs an empty program ~25 ns but is not
# what production runs. Both XDP rows always use the same mode.
#
# Usage: bench/e2e.sh [--quick] [--runs N] [--packets N] [--xdp-mode native|generic]
#                     [--rows LIST] [--rows-other LIST] [--flows LIST] [--keep DIR]
#                     [--report RAWFILE]
# Environment: OUT (build dir, default build), FB, FBSEND, XDP_PASS (binaries),
# FB_ARGS (extra flowbatch options).
# Prints RESULT lines and markdown tables on stdout, progress on stderr.
# --quick: 400K packets, one run, 3 s idle. --keep DIR keeps every output.
set -u
cd "$(dirname "$0")/.." || exit 1

FB=${FB:-${OUT:-build}/flowbatch}
FB_ARGS=${FB_ARGS:-}   # extra flowbatch options, for experiments (e.g. FB_ARGS="-n 1")
SEND=${FBSEND:-${OUT:-build}/fbsend}
XPASS=${XDP_PASS:-${OUT:-build}/xdp_pass.bpf.o}

PACKETS=2000000
RUNS=3
IDLE_S=10
XDP_MODE=native
ROWS="none xdp_empty fb_xdp fb_tc tcpdump pmacctd softflowd"
ROWS_OTHER="none fb_tc tcpdump" # rows of the flow sets to another host's MAC
FLOWSETS="1000 100000 1000o 100000o" # N: to the capture MAC; No: to another host's MAC
OMAC=02:fb:00:00:00:01 # another host (locally administered)
SETTLE=1.1      # seconds after the sender ends before the "after" snapshot (> 1 s batch + grace)
SEND_LIMIT=30   # seconds: the sender's own bound (-T)
KEEP=""
REPORT_ONLY=""

die() { echo "e2e: $*" >&2; exit 1; }
log() { echo "e2e: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) PACKETS=400000; RUNS=1; IDLE_S=3 ;;
	--runs) RUNS=${2:?}; shift ;;
	--packets) PACKETS=${2:?}; shift ;;
	--xdp-mode) XDP_MODE=${2:?}; shift ;;
	--rows) ROWS=${2:?}; shift ;;
	--rows-other) ROWS_OTHER=${2:?}; shift ;;
	--flows) FLOWSETS=${2:?}; shift ;;
	--keep) KEEP=${2:?}; shift ;;
	--report) REPORT_ONLY=${2:?}; shift ;;
	-h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
	shift
done
case "$XDP_MODE" in native) XDP_IP=xdpdrv ;; generic) XDP_IP=xdpgeneric ;; *) die "--xdp-mode native|generic" ;; esac
case "$RUNS$PACKETS" in *[!0-9]*) die "--runs and --packets take numbers" ;; esac
if [ "$RUNS" -lt 1 ] || [ "$PACKETS" -lt 1000 ]; then die "--runs >= 1, --packets >= 1000"; fi

[ "$(id -u)" -eq 0 ] || die "needs root"
for f in "$FB" "$SEND" "$XPASS"; do
	[ -e "$f" ] || make --no-print-directory -s "$f" >&2 || die "cannot build $f"
done

# ---- report ----------------------------------------------------------------------
# Medians per row and flow set, ratios and targets, from the raw run lines
# ("row flows run sent secs accounted tool_ns busy_ns vcs_send bg% notes...").
report() {
awk -v rows="$ROWS" -v flowsets="$FLOWSETS" -v omac="$OMAC" -v idle_tc="$IDLE_TC" -v idle_s="$IDLE_S" \
	-v packets="$PACKETS" -v runs="$RUNS" -v xdpmode="$XDP_MODE" -v split100k="$SPLIT_100K" -v settle="$SETTLE" '
function median(key,    n, i, j, t, a) {
	n = cnt[key]
	if (!n) return NA
	for (i = 1; i <= n; i++) a[i] = val[key, i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(row, fl, name, v) { k = row SUBSEP fl SUBSEP name; cnt[k]++; val[k, cnt[k]] = v }
function med(row, fl, name) { return median(row SUBSEP fl SUBSEP name) }
function fmt(v, f) { return v == NA ? "n/a" : sprintf(f, v) }
$4 == "FAILED" { failed[$1, $2]++; next }
{
	row = $1; fl = $2; sent = $4; secs = $5; acc = $6
	add(row, fl, "rate", sent / secs)
	add(row, fl, "machine", $8 / sent)
	add(row, fl, "bg", $10)
	if (row != "none" && row != "xdp_empty") {
		add(row, fl, "acc", acc / sent)
		add(row, fl, "tool", $7 / sent)
		add(row, fl, "wk", $9 / secs)
	}
	for (i = 11; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "lost" || kv[1] == "dropped" || kv[1] == "pcap_dropped" || kv[1] == "overflow") add(row, fl, kv[1], kv[2])
		if (kv[1] == "ledger") notexact[row, fl]++
		if (kv[1] == "own") add(row, fl, "own", kv[2] / sent)
	}
}
BEGIN { NA = -1e300 } # "no value"
END {
	nr = split(rows, R, " "); nf = split(flowsets, F, " ")
	name["none"] = "nothing attached"; name["xdp_empty"] = "empty XDP (" xdpmode ")"
	name["fb_xdp"] = "flowbatch XDP (" xdpmode ")"; name["fb_tc"] = "flowbatch TC (tcx)"
	name["tcpdump"] = "tcpdump -w /dev/null"; name["pmacctd"] = "pmacctd (print, 5-tuple)"
	name["softflowd"] = "softflowd -> nfcapd"
	# per row: RESULT lines
	for (j = 1; j <= nf; j++) {
		fl = F[j]
		base = med("none", fl, "machine"); xr = med("xdp_empty", fl, "rate"); nr0 = med("none", fl, "rate")
		for (i = 1; i <= nr; i++) {
			r = R[i]
			m = med(r, fl, "machine"); rt = med(r, fl, "rate")
			ex[r, fl] = (m != NA && base != NA) ? m - base : NA
			mo = med(r, fl, "own"); bo = med("none", fl, "own")
			exo[r, fl] = (mo != NA && bo != NA) ? mo - bo : NA
			rx[r, fl] = (xr != NA && xr > 0 && rt != NA) ? rt / xr : NA
			rn[r, fl] = (nr0 != NA && nr0 > 0 && rt != NA) ? rt / nr0 : NA
			ls = med(r, fl, "lost"); if (ls == NA) ls = med(r, fl, "dropped"); if (ls == NA) ls = med(r, fl, "pcap_dropped")
			if (!cnt[r SUBSEP fl SUBSEP "rate"] && !failed[r, fl]) continue
			printf "RESULT e2e flows=%s row=%s accounted=%s rate_pps=%s rate_vs_empty_xdp=%s rate_vs_none=%s tool_ns_per_pkt=%s machine_ns_per_pkt=%s extra_ns_per_pkt=%s own_ns_per_pkt=%s extra_own_ns_per_pkt=%s background_busy_pct=%s wakeups_per_s=%s lost=%s runs=%d failed=%d\n",
				fl, r, fmt(med(r, fl, "acc"), "%.6f"), fmt(rt, "%.0f"), fmt(rx[r, fl], "%.3f"), fmt(rn[r, fl], "%.3f"),
				fmt(med(r, fl, "tool"), "%.1f"), fmt(m, "%.1f"), fmt(ex[r, fl], "%.1f"),
				fmt(mo, "%.1f"), fmt(exo[r, fl], "%.1f"), fmt(med(r, fl, "bg"), "%d"),
				fmt(med(r, fl, "wk"), "%.1f"), fmt(ls, "%d"), cnt[r SUBSEP fl SUBSEP "rate"], failed[r, fl]
		}
	}
	printf "RESULT e2e idle_wakeups_per_s=%s hook=tc seconds=%s\n", idle_tc, idle_s
	# targets
	tl["acc"] = "accounts for 100% (flow packets + ring losses = sent)"
	tl["lost0"] = "zero ring losses at full rate"
	tl["rate"] = "sender rate >= 0.95x empty XDP"
	tl["rate_none"] = "sender rate >= 0.9x nothing attached"
	tl["tool"] = "process CPU <= 65 ns/pkt (1K), <= 150 ns/pkt (100K)"
	tl["extra"] = "extra machine CPU (/proc/stat) <= 0.5x tcpdump and below every flow tool"
	tl["extra_own"] = "the same, own processes only"
	nt = split("acc lost0 rate rate_none tool extra extra_own", T, " ")
	for (t = 1; t <= nt; t++) {
		for (j = 1; j <= nf; j++) {
			fl = F[j]; cell[t, j] = ""
			for (h = 1; h <= 2; h++) {
				r = h == 1 ? "fb_xdp" : "fb_tc"; hk = h == 1 ? "XDP" : "TC"
				if (!cnt[r SUBSEP fl SUBSEP "rate"]) continue
				ok = 0; v = ""
				if (T[t] == "acc") { q = med(r, fl, "acc"); v = q == NA ? "?" : sprintf("%.4f%%", 100 * q); ok = q == 1 && !notexact[r, fl] }
				if (T[t] == "lost0") { q = med(r, fl, "lost"); v = q == NA ? "?" : sprintf("%d_lost", q); ok = q == 0 }
				if (T[t] == "rate") { q = rx[r, fl]; v = q == NA ? "?" : sprintf("%.3fx", q); ok = q != NA && q >= 0.95 }
				if (T[t] == "rate_none") { q = rn[r, fl]; v = q == NA ? "?" : sprintf("%.3fx", q); ok = q != NA && q >= 0.9 }
				if (T[t] == "tool") { q = med(r, fl, "tool"); v = q == NA ? "?" : sprintf("%.1fns", q); ok = q != NA && q <= (fl + 0 > 1000 ? 150 : 65) }
				if (T[t] == "extra" || T[t] == "extra_own") {
					for (o = 1; o <= nr; o++) E[R[o]] = T[t] == "extra" ? ex[R[o], fl] : exo[R[o], fl]
					q = E[r]; td = E["tcpdump"]
					ok = q != NA && td != NA && td > 0 && q <= 0.5 * td
					for (o = 1; o <= nr; o++)
						if ((R[o] == "pmacctd" || R[o] == "softflowd") && !(E[R[o]] != NA && E[R[o]] > q)) ok = 0
					v = q == NA ? "?" : (td != NA && td > 0) ? sprintf("%.1fns(%.2fx_tcpdump)", q, q / td) : sprintf("%.1fns(tcpdump_n/a)", q)
				}
				printf "RESULT e2e target=%s flows=%s hook=%s value=%s met=%d\n", T[t], fl, hk, v, ok
				gsub(/_/, " ", v); sub(/\(/, " (", v)
				cell[t, j] = cell[t, j] (cell[t, j] == "" ? "" : "; ") hk " " v " " (ok ? "**met**" : "**missed**")
			}
		}
	}
	print ""
	printf "### End to end: %d x 64-byte UDP frames over a veth pair, median of %d run%s\n\n", packets, runs, (runs > 1 ? "s" : "")
	for (j = 1; j <= nf; j++) {
		fl = F[j]
		printf "**%s flows, %s**\n\n", (fl + 0 >= 1000 ? (fl / 1000) "K" : fl + 0),
			fl ~ /o$/ ? "frames to another host\047s MAC (" omac ")" : "frames to the capture MAC"
		print "| row | accounted / sent | sender rate (Mpps) | vs empty XDP | tool CPU ns/pkt | machine CPU ns/pkt | extra over nothing ns/pkt | extra, own processes ns/pkt | tool wake-ups/s |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
		for (i = 1; i <= nr; i++) {
			r = R[i]; rt = med(r, fl, "rate"); a = med(r, fl, "acc")
			if (!cnt[r SUBSEP fl SUBSEP "rate"] && !failed[r, fl]) continue
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name[r],
				a == NA ? "-" : sprintf("%.4f%%", 100 * a) (notexact[r, fl] ? " (ledger!)" : ""),
				fmt(rt == NA ? NA : rt / 1e6, "%.3f"), fmt(rx[r, fl], "%.3f"),
				r == "none" || r == "xdp_empty" ? "-" : fmt(med(r, fl, "tool"), "%.1f"),
				fmt(med(r, fl, "machine"), "%.1f"), r == "none" ? "-" : fmt(ex[r, fl], "%.1f"),
				r == "none" ? "-" : fmt(exo[r, fl], "%.1f"),
				r == "none" || r == "xdp_empty" ? "-" : fmt(med(r, fl, "wk"), "%.1f")
			for (k = 1; k <= cnt[r SUBSEP fl SUBSEP "bg"]; k++) allbg[++nbg] = val[r SUBSEP fl SUBSEP "bg", k]
		}
		print ""
	}
	printf "flowbatch idle (no traffic, 1 s batches, TC, %s s): %s wake-ups/s (voluntary context switches); at full rate see the last column.\n", idle_s, idle_tc
	for (k = 1; k <= nbg; k++) { cnt["bgall"]++; val["bgall", k] = allbg[k] }
	printf "Sender pinned to the first CPU, tools to the last. Tool CPU: the tool processes (softflowd without nfcapd). Machine CPU: busy time of all CPUs (/proc/stat) over the send plus %s s; \"own processes\": the senders, the tool, nfcapd and ksoftirqd only (robust to other load on the machine). XDP rows in %s mode. flowbatch with --direction in and --max-flows at least the flow count. Background load before the runs: median %s%% busy%s.%s\n\n",
		settle, xdpmode, fmt(median("bgall"), "%d"), (median("bgall") > 5 ? " (**noisy: absolute figures are unreliable**)" : ""),
		split100k ? " 100K flows: two fbsend processes (two source addresses, 50K source ports each) sharing the sender CPU." : ""
	print "Targets (flowbatch, default 1 s interval):\n"
	line = "| target |"; sep = "|---|"
	for (j = 1; j <= nf; j++) {
		line = line " " (F[j] + 0) " flows" (F[j] ~ /o$/ ? ", other MAC" : "") " |"
		sep = sep "---|"
	}
	print line
	print sep
	for (t = 1; t <= nt; t++) {
		line = "| " tl[T[t]] " |"
		for (j = 1; j <= nf; j++) line = line " " cell[t, j] " |"
		print line
	}
	print ""
}' "$1"
}

if [ -n "$REPORT_ONLY" ]; then # --report RAW [IDLE_TC IDLE_XDP]: tables from a kept raw file
	IDLE_TC=${IDLE_TC:-?} SPLIT_100K=${SPLIT_100K:-1}
	report "$REPORT_ONLY"
	exit 0
fi

# ---- set-up: two namespaces, one veth pair, 198.18.0.0/15 only --------------
ID=$$
NSC=fbe2c$ID      # capture side: the tools run here
NSS=fbe2s$ID      # sender side
CIF=fbe2c$ID      # capture interface (in $NSC)
SIF=fbe2s$ID      # sender interface (in $NSS)
NET=198.18.$((64 + ID % 64))
CIP=$NET.1
SIP=$NET.2
SIP2=$NET.3
NFPORT=$((20000 + ID % 20000))
TMP=$(mktemp -d /tmp/fbe2e.XXXXXX)
PIDS=""           # every background process we started

stop_pid() { # stop_pid PID [SIGNAL [SECONDS]]: signal, wait (bounded, default 5 s), then force
	local p=$1 sig=${2:-TERM}
	kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
	kill -"$sig" "$p" 2>/dev/null
	for _ in $(seq 1 $((${3:-5} * 20))); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

cleanup() {
	local p
	for p in $PIDS; do stop_pid "$p" TERM; done
	ip -n "$NSC" link set dev "$CIF" xdp off 2>/dev/null
	ip netns del "$NSS" 2>/dev/null
	ip netns del "$NSC" 2>/dev/null
	if [ -n "$KEEP" ]; then mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/; fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

NCPU=$(nproc)
if [ "$NCPU" -ge 2 ]; then
	SEND_CPU=0
	TOOL_CPU=$((NCPU - 1))
	PIN_SEND="taskset -c $SEND_CPU"
	PIN_TOOL="taskset -c $TOOL_CPU"
else
	PIN_SEND=""
	PIN_TOOL=""
fi

ip netns add "$NSC" || die "cannot create a network namespace"
ip netns add "$NSS" || die "cannot create a network namespace"
ip link add "$CIF" netns "$NSC" type veth peer name "$SIF" netns "$NSS" || die "cannot create a veth pair"
for side in "$NSC:$CIF" "$NSS:$SIF"; do
	ns=${side%%:*} ifc=${side#*:}
	# no IPv6 at all (no ND, MLD, RS): only our frames cross the link
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
		"net.ipv6.conf.$ifc.disable_ipv6=1" >/dev/null 2>&1
	ip -n "$ns" link set lo up
done
ip -n "$NSC" addr add "$CIP/24" dev "$CIF"
ip -n "$NSS" addr add "$SIP/24" dev "$SIF"
ip -n "$NSS" addr add "$SIP2/24" dev "$SIF"
ip -n "$NSC" link set "$CIF" up
ip -n "$NSS" link set "$SIF" up
CMAC=$(ip netns exec "$NSC" cat "/sys/class/net/$CIF/address")
SMAC=$(ip netns exec "$NSS" cat "/sys/class/net/$SIF/address")
# static neighbours: the rate-limited ICMP port-unreachables the capture side
# sends back need no ARP, so nothing but the sender's frames arrives there
ip -n "$NSC" neigh replace "$SIP" lladdr "$SMAC" dev "$CIF" nud permanent
ip -n "$NSC" neigh replace "$SIP2" lladdr "$SMAC" dev "$CIF" nud permanent
ip -n "$NSS" neigh replace "$CIP" lladdr "$CMAC" dev "$SIF" nud permanent
for _ in $(seq 1 50); do
	[ "$(ip netns exec "$NSC" cat "/sys/class/net/$CIF/operstate")" = up ] && break
	sleep 0.1
done

# ---- measurement helpers -------------------------------------------------------
unpid() { # forget PIDs started by a row
	local p
	for p in "$@"; do PIDS=$(echo " $PIDS " | sed "s/ $p / /; s/^ *//; s/ *$//"); done
}

machine_busy() { # busy jiffies of all CPUs: user nice system irq softirq (no idle, iowait, steal)
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}

tree_pids() { # PID and all its descendants
	local p=$1 c t
	echo "$p"
	for t in /proc/"$p"/task/*/children; do
		[ -r "$t" ] || continue
		for c in $(cat "$t" 2>/dev/null); do tree_pids "$c"; done
	done
}

tool_cpu_ns() { # CPU time of the tool: live threads (schedstat, ns) + reaped children (stat, ticks)
	local hz p t run=0 kids=0 x
	[ -n "${1:-}" ] || { echo 0; return; }
	hz=$(getconf CLK_TCK)
	for p in $(for q in "$@"; do tree_pids "$q"; done); do
		for t in /proc/"$p"/task/*/schedstat; do
			read -r x _ 2>/dev/null < "$t" && run=$((run + x))
		done
		x=$(awk '{ sub(/^.*\) /, ""); print $14 + $15 }' /proc/"$p"/stat 2>/dev/null)
		kids=$((kids + ${x:-0}))
	done
	echo $((run + kids * 1000000000 / hz))
}

now() { date +%s.%N; }

vcsw() { # voluntary context switches of a process
	awk '/^voluntary_ctxt_switches/ { print $2 }' /proc/"$1"/status 2>/dev/null || echo 0
}

wait_for() { # wait_for TENTHS FILE TEXT [PID]: bounded wait for TEXT in FILE while PID lives
	local n=$1 f=$2 text=$3 p=${4:-}
	for _ in $(seq 1 "$n"); do
		grep -q -- "$text" "$f" 2>/dev/null && return 0
		[ -n "$p" ] && ! kill -0 "$p" 2>/dev/null && return 1
		sleep 0.1
	done
	return 1
}

wait_link() { # wait_link PID TYPE: flowbatch holds a BPF link of TYPE (xdp, tcx)
	local p=$1 ty=$2
	for _ in $(seq 1 100); do
		kill -0 "$p" 2>/dev/null || return 1
		grep -qs "^link_type:[[:space:]]*$ty" /proc/"$p"/fdinfo/* && return 0
		sleep 0.1
	done
	return 1
}

wait_quiet() { # up to 2 s for the machine to be (nearly) idle before a run; prints busy %
	local a b pct=100 hz
	hz=$(getconf CLK_TCK)
	for _ in $(seq 1 8); do
		a=$(machine_busy); sleep 0.25; b=$(machine_busy)
		pct=$(( (b - a) * 100 * 4 / hz / NCPU ))
		[ "$pct" -le 5 ] && break
	done
	echo "$pct"
}

# ---- the sender ----------------------------------------------------------------
# fbsend cycles the source port over --flows values (at most 65536). For
# 100K flows it needs more variety: if this fbsend accepts --flows > 65536
# (a dry run with -n 0 tells), one process does it; otherwise two processes
# share the sender's CPU, one per source address, each over half the flows.
SPLIT_100K=1
if ip netns exec "$NSS" "$SEND" -i "$SIF" -n 0 --flows 100000 --sport 1 --src "$SIP" --dst "$CIP" >/dev/null 2>&1; then
	SPLIT_100K=0
fi

send() { # send FLOWSET N OUTFILE: the sender(s), in the foreground; writes "sent secs cpu_ns"
	local flows=${1%o} n=$2 out=$3 p mac=$CMAC
	[ "$flows" != "$1" ] && mac=$OMAC
	local base="ip netns exec $NSS $PIN_SEND $SEND -i $SIF --dst-mac $mac --dst $CIP --dport 9 -T $SEND_LIMIT"
	# a subshell of its own, so that `times` gives the senders' CPU time
	# (their softirq work on the veth included: it runs in their context)
	(
		trap 'kill $(jobs -p) 2>/dev/null' TERM
		if [ "$flows" -le 65536 ] || [ "$SPLIT_100K" = 0 ]; then
			$base --src "$SIP" --sport 1024 --flows "$flows" -n "$n" > "$out.1" 2>&1 &
			: > "$out.2"
		else
			$base --src "$SIP" --sport 1024 --flows $((flows / 2)) -n $((n / 2)) > "$out.1" 2>&1 &
			$base --src "$SIP2" --sport 1024 --flows $((flows - flows / 2)) -n $((n - n / 2)) > "$out.2" 2>&1 &
		fi
		wait
		times > "$out.times"
	) &
	p=$!
	PIDS="$PIDS $p"
	wait "$p"
	unpid "$p"
	# sent packets summed, time the longest of the senders, CPU of both
	{ cat "$out.1" "$out.2"; tail -1 "$out.times" | sed 's/^/times /'; } | awk '
		function sec(t,  m) { m = t; sub(/m.*/, "", m); sub(/^[0-9]*m/, "", t); sub(/s$/, "", t); return m * 60 + t }
		/^sent/ { n += $2; if ($4 > s) s = $4 }
		/^times/ { c = sec($2) + sec($3) }
		END { printf "%d %.6f %.0f\n", n, s, c * 1e9 }' > "$out"
}

softirqd_ns() { # CPU time of the ksoftirqd threads (veth softirq work that left the sender)
	local f x t=0
	for f in $KSOFTIRQD; do
		read -r x _ 2>/dev/null < "$f" && t=$((t + x))
	done
	echo "$t"
}
KSOFTIRQD=$(for c in /proc/[0-9]*/comm; do
	case "$(cat "$c" 2>/dev/null)" in ksoftirqd/*) echo "${c%/comm}/schedstat" ;; esac
done)

# ---- the rows ------------------------------------------------------------------
TOOL_PIDS=""      # processes whose CPU is the row's "tool CPU"
EXTRA_PIDS=""     # other processes of the row (nfcapd)

start_row() { # start_row ROW DIR FLOWSET: attach / start; 0 when ready
	local row=$1 d=$2 flows=${3%o} p mf=65536
	TOOL_PIDS="" EXTRA_PIDS=""
	case "$row" in
	none) ;;
	xdp_empty)
		ip -n "$NSC" link set dev "$CIF" "$XDP_IP" obj "$XPASS" sec xdp 2> "$d/err" || return 1
		;;
	fb_xdp | fb_tc)
		local hook=${row#fb_} ty=tcx
		[ "$hook" = xdp ] && ty=xdp
		# room for every flow in a batch (the default, 65536, would send
		# the rest to the overflow row)
		while [ "$mf" -lt "$flows" ]; do mf=$((mf * 2)); done
		# shellcheck disable=SC2086 # FB_ARGS: several words
		$PIN_TOOL ip netns exec "$NSC" "$FB" -i "$CIF" --hook "$hook" --direction in --xdp-mode "$XDP_MODE" \
			--max-flows "$mf" -o jsonl -D 600s $FB_ARGS > "$d/out" 2> "$d/err" &
		p=$!
		PIDS="$PIDS $p" TOOL_PIDS=$p
		wait_link "$p" "$ty" || return 1
		;;
	tcpdump)
		# -Q in: the few ICMP errors the capture side sends back are not ours
		$PIN_TOOL ip netns exec "$NSC" tcpdump -i "$CIF" -Q in -n -w /dev/null > "$d/out" 2> "$d/err" &
		p=$!
		PIDS="$PIDS $p" TOOL_PIDS=$p
		wait_for 100 "$d/err" "listening on" "$p" || return 1
		;;
	pmacctd)
		# print plugin, purged every second like flowbatch's batches; the
		# core->plugin queue buffered as CONFIG-KEYS advises for heavy
		# traffic (plugin_buffer_size 1:100 of plugin_pipe_size); cache
		# default 16411 buckets holds ~150K entries
		cat > "$d/pm.conf" <<-EOF
		daemonize: false
		pcap_interface: $CIF
		aggregate: src_host,dst_host,src_port,dst_port,proto
		plugins: print
		print_output: csv
		print_output_file: $d/pm.csv
		print_output_file_append: true
		print_refresh_time: 1
		plugin_pipe_size: 10240000
		plugin_buffer_size: 102400
		logfile: $d/pm.log
		pidfile: $d/pm.pid
		EOF
		$PIN_TOOL ip netns exec "$NSC" pmacctd -f "$d/pm.conf" > "$d/out" 2> "$d/err" &
		p=$!
		PIDS="$PIDS $p" TOOL_PIDS=$p
		wait_for 100 "$d/pm.log" "link type is" "$p" || return 1
		sleep 0.3 # the plugin process
		;;
	softflowd)
		mkdir -p "$d/nf"
		# the collector is not under test: not pinned, and with the large
		# socket buffer its man page advises (each expiry sends ~flows/30
		# datagrams back to back)
		ip netns exec "$NSC" nfcapd -w "$d/nf" -b "$CIP" -p "$NFPORT" -t 300 -B 8388608 -P "$d/nfcapd.pid" \
			> "$d/nfcapd.out" 2>&1 &
		p=$!
		PIDS="$PIDS $p" EXTRA_PIDS=$p
		wait_for 100 "$d/nfcapd.out" "Startup" "$p" || return 1
		# -t maxlife=1 -t expint=1: active flows are exported every second
		# (like flowbatch's batches); -m: room for all flows (default 8192)
		$PIN_TOOL ip netns exec "$NSC" softflowd -d -i "$CIF" -n "$CIP:$NFPORT" -v 5 -m 262144 \
			-t maxlife=1 -t expint=1 -p "$d/sf.pid" -c "$d/sf.ctl" > "$d/out" 2> "$d/err" &
		p=$!
		PIDS="$PIDS $p" TOOL_PIDS=$p
		wait_for 100 "$d/err" "starting data collection" "$p" || return 1
		sleep 0.3
		;;
	esac
	return 0
}

stop_row() { # stop_row ROW DIR: detach / stop; writes "accounted [notes]" to DIR/acc
	local row=$1 d=$2 p
	case "$row" in
	none) echo "- -" > "$d/acc" ;;
	xdp_empty)
		ip -n "$NSC" link set dev "$CIF" "$XDP_IP" off
		echo "- -" > "$d/acc"
		;;
	fb_xdp | fb_tc)
		stop_pid "$TOOL_PIDS" INT
		# accounted = flow packets + ring losses over all batch rows
		awk '/"type":"batch"/ {
			for (i = 1; i <= split($0, f, /[,{}]/); i++) {
				split(f[i], kv, ":"); k = kv[1]; v = kv[2]
				if (k == "\"packets\"") p += v
				else if (k == "\"ring_lost\"") l += v
				else if (k == "\"seen\"") s += v
				else if (k == "\"overflow\"") o += v
			}
		} END { printf "%d lost=%d seen=%d overflow=%d\n", p + l, l, s, o }' "$d/out" > "$d/acc"
		grep -q "ledger exact" "$d/err" || sed -i 's/$/ ledger=NOT-EXACT/' "$d/acc"
		;;
	tcpdump)
		stop_pid "$TOOL_PIDS" INT
		awk '/packets captured/ { c = $1 } /dropped by kernel/ { k = $1 }
			END { printf "%d dropped=%d\n", c, k }' "$d/err" > "$d/acc"
		;;
	pmacctd)
		kill -USR1 "$TOOL_PIDS" 2>/dev/null # pcap stats into the log
		sleep 0.3
		stop_pid "$TOOL_PIDS" INT
		local drop
		drop=$(grep -o 'dropped_packets=[0-9]*' "$d/pm.log" | tail -1 | cut -d= -f2)
		awk -F, -v dst="$CIP" 'NR > 1 && $2 == dst && $4 == 9 && $5 == "udp" { s += $6 }
			END { printf "%d", s }' "$d/pm.csv" 2>/dev/null > "$d/acc"
		echo " pcap_dropped=${drop:-?}" >> "$d/acc"
		;;
	softflowd)
		ip netns exec "$NSC" softflowctl -c "$d/sf.ctl" statistics > "$d/sf.stats" 2>&1
		# a graceful shutdown expires and exports every flow on the way out
		# (here a SIGTERM just killed it: exit 143, nothing exported)
		ip netns exec "$NSC" softflowctl -c "$d/sf.ctl" shutdown >> "$d/sf.stats" 2>&1
		for _ in $(seq 1 300); do kill -0 "$TOOL_PIDS" 2>/dev/null || break; sleep 0.1; done
		stop_pid "$TOOL_PIDS" TERM
		sleep 0.5
		stop_pid "$EXTRA_PIDS" TERM # nfcapd closes its file
		nfdump -R "$d/nf" -q -N -o 'fmt:%pkt' "proto udp and dst ip $CIP and dst port 9" 2> "$d/nfdump.err" |
			awk '{ s += $1 } END { printf "%d", s }' > "$d/acc"
		# capture-side drops as softflowd saw them, and datagrams nfcapd missed
		awk '/dropped by libpcap/ { d = $NF } /^Packets processed/ { p = $NF }
			END { printf " pcap_dropped=%s processed=%s", d == "" ? "?" : d, p == "" ? "?" : p }' "$d/sf.stats" >> "$d/acc"
		grep -o 'Sequence Errors: [0-9]*' "$d/nfcapd.out" | tail -1 | awk '{ printf " nf_seq_errors=%s", $3 }' >> "$d/acc"
		echo >> "$d/acc"
		;;
	esac
	unpid $TOOL_PIDS $EXTRA_PIDS
	TOOL_PIDS="" EXTRA_PIDS=""
}

# one run of one row: appends "row flows run sent secs acc tool_ns busy_ns vcs_send bg% notes"
# to $RAW (runs in this shell, so cleanup knows every PID it started)
emit() { echo "$*" >> "$RAW"; log "$*"; }
one_run() {
	local row=$1 flows=$2 run=$3
	local d=$TMP/$row.$flows.$run
	local bg b0 b1 c0 c1 e0 e1 k0 k1 v0 v1 sent secs scpu acc notes hz
	local t0 t1 t2 t3
	mkdir -p "$d"
	hz=$(getconf CLK_TCK)
	t0=$(now)
	if ! start_row "$row" "$d" "$flows"; then
		log "$row: could not start ($(tail -c 300 "$d/err" 2>/dev/null | tr '\n' ' '))"
		stop_row "$row" "$d" >/dev/null 2>&1
		emit "$row $flows $run FAILED"
		return
	fi
	t1=$(now)
	bg=$(wait_quiet)
	t2=$(now)
	c0=$(tool_cpu_ns $TOOL_PIDS)
	e0=$(tool_cpu_ns $EXTRA_PIDS)
	k0=$(softirqd_ns)
	v0=0; v1=0
	[ -n "$TOOL_PIDS" ] && v0=$(vcsw "$TOOL_PIDS")
	b0=$(machine_busy)
	send "$flows" "$PACKETS" "$d/send"
	[ -n "$TOOL_PIDS" ] && v1=$(vcsw "$TOOL_PIDS")
	sleep "$SETTLE"
	b1=$(machine_busy)
	c1=$(tool_cpu_ns $TOOL_PIDS)
	e1=$(tool_cpu_ns $EXTRA_PIDS)
	k1=$(softirqd_ns)
	t3=$(now)
	stop_row "$row" "$d"
	read -r sent secs scpu < "$d/send"
	read -r acc notes < "$d/acc"
	[ "${sent:-0}" -gt 0 ] || { log "$row: the sender sent nothing ($(cat "$d/send.1"))"; emit "$row $flows $run FAILED"; return; }
	emit "$row $flows $run $sent $secs $acc $((c1 - c0)) $(( (b1 - b0) * 1000000000 / hz )) $((v1 - v0)) $bg own=$((scpu + c1 - c0 + e1 - e0 + k1 - k0)) ${notes:-} phases=$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$(now)" 'BEGIN { printf "%.1f/%.1f/%.1f/%.1f", b - a, c - b, d - c, e - d }')"
}

# ---- idle wake-ups -------------------------------------------------------------
IDLE_RES=""
idle_wakeups() { # idle_wakeups HOOK: flowbatch's voluntary context switches per second, no traffic -> IDLE_RES
	local hook=$1 ty=tcx p v0 v1 d=$TMP/idle.$1
	IDLE_RES="?"
	[ "$hook" = xdp ] && ty=xdp
	mkdir -p "$d"
	$PIN_TOOL ip netns exec "$NSC" "$FB" -i "$CIF" --hook "$hook" --direction in --xdp-mode "$XDP_MODE" \
		-o jsonl -D 600s > "$d/out" 2> "$d/err" &
	p=$!
	PIDS="$PIDS $p"
	if ! wait_link "$p" "$ty"; then
		stop_pid "$p"; unpid "$p"; return
	fi
	sleep 1
	v0=$(vcsw "$p")
	sleep "$IDLE_S"
	v1=$(vcsw "$p")
	stop_pid "$p" INT
	unpid "$p"
	IDLE_RES=$(awk -v a="$v0" -v b="$v1" -v s="$IDLE_S" 'BEGIN { printf "%.2f", (b - a) / s }')
}

# ---- main ----------------------------------------------------------------------
log "namespaces $NSC/$NSS, $CIF <-> $SIF, $CIP <- $SIP; $PACKETS packets x $RUNS runs; XDP $XDP_MODE;" \
	"sender on CPU ${SEND_CPU:-any}, tools on CPU ${TOOL_CPU:-any}"
[ "$SPLIT_100K" = 1 ] && log "fbsend takes at most 65536 flows: 100K flows come from two senders (sources $SIP, $SIP2) sharing CPU ${SEND_CPU:-any}"
RAW=$TMP/raw
: > "$RAW"
for flows in $FLOWSETS; do
	for run in $(seq 1 "$RUNS"); do
		for row in $ROWS; do
			case "$flows" in
			*o) case " $ROWS_OTHER " in *" $row "*) ;; *) continue ;; esac ;;
			esac
			one_run "$row" "$flows" "$run"
		done
	done
done
# the consumer's idle behaviour does not depend on the hook: the default (TC) only
idle_wakeups tc
IDLE_TC=$IDLE_RES
[ -n "$KEEP" ] && cp "$RAW" "$TMP/raw.txt"

report "$RAW"

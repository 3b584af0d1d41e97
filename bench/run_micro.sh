#!/bin/bash
# The micro-benchmarks (build/bench/b_*), one after the other, as root.
# Prints one markdown table per benchmark, built from their RESULT lines; the
# raw output of each goes to $FB_BENCH_LOG (default: a temporary file, kept
# only when a benchmark failed). Usage: bench/run_micro.sh [--quick]
set -u
cd "$(dirname "$0")/.." || exit 1
quick=""
[ "${1:-}" = --quick ] && quick=--quick
if [ "$(id -u)" -ne 0 ]; then
	echo "flowbatch: the micro-benchmarks need root (BPF_PROG_TEST_RUN)" >&2
	exit 1
fi
log=${FB_BENCH_LOG:-$(mktemp /tmp/fb_micro.XXXXXX)}
: > "$log"
failed=""

run() { # name
	local out
	out=$(mktemp)
	if ! "${OUT:-build}/bench/$1" $quick > "$out" 2>&1; then
		failed="$failed $1"
	fi
	cat "$out" >> "$log"
	grep '^RESULT ' "$out"
	rm -f "$out"
}

# key=value fields of RESULT lines -> markdown, per bench
table() { # bench
	awk -v bench="$1" '
	function kv(   i, p) { delete F; for (i = 3; i <= NF; i++) { p = index($i, "="); if (p) F[substr($i, 1, p - 1)] = substr($i, p + 1) } }
	function si(x) { return x >= 1e6 ? sprintf("%.2fM", x / 1e6) : x >= 1e3 ? sprintf("%.1fk", x / 1e3) : x }
	$1 == "RESULT" && $2 == bench {
		kv()
		if (bench == "kcost") {
			if ("row" in F) { ns[F["frame"], F["row"]] = F["ns"]; if (!(F["frame"] in seen)) { seen[F["frame"]] = 1; order[++nf] = F["frame"] } }
			else if ("ratio_fbxdp_ref" in F) { rx[F["frame"]] = F["ratio_fbxdp_ref"]; rt[F["frame"]] = F["ratio_fbtc_ref"]; ck[F["frame"]] = F["clock_ns"]; rc[F["frame"]] = F["ratio_fbcoarse_ref"] }
			else if ("lost_ref" in F) lost = "records lost: reference " F["lost_ref"] ", flowbatch " F["lost_fb"] "; drained " F["drained"] " of " F["expected"] " written; forced wake-ups " F["fb_wakeups"]
		} else if (bench == "contention") {
			if ("ring" in F) row[++nr] = sprintf("| %s | %s | %s | %s | %s | %s |", F["ring"], si(F["rec_per_s"]), si(F["wall_rec_per_s"]), F["ns_cpu0"], F["ns_cpu1"], F["lost"])
			else ratio = "per-CPU rings / shared ring, records/s: **" F["ratio_percpu_shared"] "** (kernel time), " F["wall_ratio_percpu_shared"] " (wall clock)"
		} else if (bench == "consumer") {
			if ("mode" in F) { rate[F["flows"], F["mode"]] = F["rec_per_s"]; nsr[F["flows"], F["mode"]] = F["ns_per_rec"]; if (!(F["flows"] in seen)) { seen[F["flows"]] = 1; order[++nf] = F["flows"] } }
			else if ("ratio_batch_nop" in F) ratio_c[F["flows"]] = F["ratio_batch_nop"]
			else if ("rss_per_flow_bytes" in F) rss = "resident memory at 1M flows: **" F["rss_per_flow_bytes"] " bytes/flow** (RssAnon +" F["rss_delta_kb"] " KiB for " F["flows"] " flows)"
		} else if (bench == "export") {
			if ("mode" in F) row[++nr] = sprintf("| %s | %s | %s | %.3f | %.3f |", F["mode"], F["cpu_ns_per_pkt"], F["bytes_per_pkt"], F["latency_us"] / 1000, F["latency_max_us"] / 1000)
			else ratio = "per-event / 1 s batches, CPU per packet: **" F["ratio_event_batch1s"] "x** (100 ms: " F["ratio_event_batch100ms"] "x, 10 ms: " F["ratio_event_batch10ms"] "x); output bytes: " F["bytes_ratio_event_batch1s"] "x"
		} else if (bench == "outfile") {
			if ("output" in F) { oc[F["flows"], F["output"]] = F["total_ns_per_pkt"] " (" F["main_ns_per_pkt"] " + " F["writer_ns_per_pkt"] ")"; ok[F["flows"], F["output"]] = F["kib_per_batch"]; if (!(F["flows"] in seen)) { seen[F["flows"]] = 1; order[++nf] = F["flows"] } }
			else if ("gzip_over_plain_jsonl" in F) gz[F["flows"]] = F["gzip_over_plain_jsonl"] "x / " F["gzip_over_plain_csv"] "x, files " F["jsonl_gz_size_ratio"] "x smaller"
		} else if (bench == "outputs") {
			if ("output" in F) { c[F["flows"], F["output"]] = F["cpu_ns_per_pkt"] " (" F["cpu_ns_per_row"] ")"; kb[F["flows"], F["output"]] = sprintf("%.0f", F["bytes_per_batch"] / 1024); if (!(F["flows"] in seen)) { seen[F["flows"]] = 1; order[++nf] = F["flows"] } }
		}
	}
	END {
		if (bench == "kcost") {
			print "### Kernel cost per packet (BPF_PROG_TEST_RUN, ns, median of 3)\n"
			print "| frame | empty XDP | reference | fb_xdp | fb_tc_in | fb_xdp / ref | fb_tc / ref | clock alone | ref, coarse clock | fb_xdp, coarse clock | that / ref |"
			print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
			for (i = 1; i <= nf; i++) { f = order[i]; printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f, ns[f, "empty"], ns[f, "ref"], ns[f, "fb_xdp"], ns[f, "fb_tc"], rx[f], rt[f], ck[f], ns[f, "ref_coarse"], ns[f, "fb_xdp_coarse"], rc[f] }
			print "\n" lost
		} else if (bench == "contention") {
			print "### Producer contention, 2 CPUs writing at once (median of 3)\n"
			print "| rings | records/s (kernel time) | records/s (wall) | ns/pkt CPU 0 | ns/pkt CPU 1 | lost |"
			print "|---|---:|---:|---:|---:|---:|"
			for (i = 1; i <= nr; i++) print row[i]
			print "\n" ratio
		} else if (bench == "consumer") {
			print "### Consumer capacity, one core (records/s of CPU time, median of 3)\n"
			print "| flows | reader only | reader + batcher | ns/record (reader / + batcher) | batcher / reader | target |"
			print "|---|---:|---:|---:|---:|---:|"
			tgt["1K"] = "0.5"; tgt["64K"] = "0.3"; tgt["1M"] = "0.2"
			for (i = 1; i <= nf; i++) { f = order[i]; printf "| %s | %s | %s | %s / %s | %s | >= %s |\n", f, si(rate[f, "nop"]), si(rate[f, "batch"]), nsr[f, "nop"], nsr[f, "batch"], ratio_c[f], tgt[f] }
			print "\n" rss
		} else if (bench == "export") {
			print "### Export: per event vs micro-batches (1K flows, 1M pkt/s simulated, median of 3)\n"
			print "| mode | CPU ns/pkt | bytes/pkt | latency ms | latency max ms |"
			print "|---|---:|---:|---:|---:|"
			for (i = 1; i <= nr; i++) print row[i]
			print "\n" ratio
		} else if (bench == "outfile") {
			print "### -w files: CPU ns per packet, total (capture thread + writer thread), 1M packets a batch (median of 3)\n"
			print "| flows | jsonl to a FILE (sync) | .jsonl | .jsonl.gz | .csv | .csv.gz | gzip / plain: jsonl / csv | KiB a batch: .jsonl / .jsonl.gz / .csv / .csv.gz |"
			print "|---|---:|---:|---:|---:|---:|---|---|"
			for (i = 1; i <= nf; i++) { f = order[i]; printf "| %s | %s | %s | %s | %s | %s | %s | %s / %s / %s / %s |\n", f, oc[f, "jsonl_sync"], oc[f, ".jsonl"], oc[f, ".jsonl.gz"], oc[f, ".csv"], oc[f, ".csv.gz"], gz[f], ok[f, ".jsonl"], ok[f, ".jsonl.gz"], ok[f, ".csv"], ok[f, ".csv.gz"] }
		} else if (bench == "outputs") {
			print "### Outputs: CPU ns per packet (per flow row) of each output, 1M packets a batch (median of 3)\n"
			print "| flows | JSON Lines | Prometheus | Prometheus, keys src/24,proto | IPFIX (UDP, 127.0.0.1) | KiB a batch: jsonl / prom / prom keys / ipfix |"
			print "|---|---:|---:|---:|---:|---|"
			for (i = 1; i <= nf; i++) { f = order[i]; printf "| %s | %s | %s | %s | %s | %s / %s / %s / %s |\n", f, c[f, "jsonl"], c[f, "prometheus"], c[f, "prometheus_keys"], c[f, "ipfix"], kb[f, "jsonl"], kb[f, "prometheus"], kb[f, "prometheus_keys"], kb[f, "ipfix"] }
		}
	}'
}

for b in kcost contention consumer export outputs outfile; do
	if [ ! -x "${OUT:-build}/bench/b_$b" ]; then
		echo "flowbatch: ${OUT:-build}/bench/b_$b missing (make bench-tools)" >&2
		failed="$failed b_$b"
		continue
	fi
	echo
	run "b_$b" | table "$b"
done
if [ -n "$failed" ]; then
	echo
	echo "FAILED:$failed (output in $log)"
	exit 1
fi
[ -z "${FB_BENCH_LOG:-}" ] && rm -f "$log"
exit 0

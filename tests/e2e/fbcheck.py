#!/usr/bin/env python3
"""The one checker of flowbatch's JSON Lines output (and of its stderr summary)
for the end-to-end tests; standard library only. lib.sh's `check` and
`fbcheck` call it.

fbcheck.py check OUT [options]
  Always checked:
  * every line is a JSON object, a "flow" or a "batch" row, with the fields
    of README's tables and their types (a batch row's "ifaces": interface
    name -> state); a field this checker does not know must be a
    non-negative integer (a counter added later);
  * batch rows are numbered 1, 2, 3, ..., each starts where the previous one
    ended, and only the last may be partial; each flow row belongs to the
    batch row after it and carries that batch's window;
  * the ledger of each batch: seen == records + ring_lost when the row has a
    "records" field, else seen == packets + ring_lost; for each event family
    NAME_seen == NAME_records + NAME_lost; packets and bytes equal
    the sums of that batch's flow rows (top, "rest" and "overflow" included);
    flows == top rows + the rest row's flows; overflow == the overflow row's
    packets;
  * ring_lost == 0 and parse_errors == 0 (unless --allow-lost /
    --allow-parse-errors).
  Options add expectations:
  --flow SPEC          space-separated tokens over the flow rows:
                         FIELD=VALUE   rows whose FIELD prints as VALUE (all of
                                       them must match); rest and overflow rows
                                       only when the spec says rest=true or
                                       overflow=true
                         packets=R bytes=R flows=R rows=R   the sums (rows: the
                                       count) over those rows, across batches,
                                       are in R: N, N..M or N..
                         tcp_flags=F   every such row has tcp_flags F
                         absent=F,G    no such row has field F or G
                       at least one of packets, bytes, flows, rows is required
  --batches R          number of batch rows in R
  --last-partial true|false
  --absent F,G         no flow row has these fields
  --max-other N        flow rows matching no --flow add up to at most N packets
  --seen N             the batch rows' seen add up to exactly N
  --min-lost N         ring_lost adds up to at least N (implies --allow-lost)
  --unique F,G         no two flow rows (rest/overflow aside) share F and G
  --masked F=CIDR      every flow row whose F lies in CIDR shows CIDR's network
                       address (prefix keys such as -k src/24); repeatable
  --summary FILE       FILE (flowbatch's stderr) has exactly one summary line,
                       its numbers equal the sums over the batch rows and the
                       kernel's, and it says "ledger exact"
  --print              print the summed flows (for debugging)
  Prints one line of totals on success.

fbcheck.py stopped OUT --stop-ms A --cont-ms B --send-end-ms C [--interval-ms I]
  flowbatch was stopped (SIGSTOP) at wall time A and continued at B; traffic
  ran until C. A window that closed while it was stopped came out at least a
  second late; after the resume (+500 ms) and while traffic flowed, at least
  three batches are normal: delay under a second, not partial, no late
  records, at least 1000 packets.

Exit status 0 when every check holds; 1 with a one-line reason otherwise;
2 for a bad command line.
"""
import argparse
import ipaddress
import json
import re
import sys

SUMMARY = re.compile(
    r"^flowbatch: (\d+) batches: seen (\d+) = (packets|records) (\d+) \+ ring lost (\d+); "
    r"parse errors (\d+), late (\d+), overflow (\d+); kernel counted seen (\d+), lost (\d+) "
    r"\(ledger exact\)$")

KEYS = ("iface", "dir", "etype", "proto", "src_addr", "dst_addr", "src_port", "dst_port",
        "icmp_type", "icmp_code")
FLOW_REQUIRED = ("batch", "start_ms", "end_ms", "packets", "bytes", "tcp_flags",
                 "time_flow_start_ns", "time_flow_end_ns")
BATCH_REQUIRED = ("batch", "start_ms", "end_ms", "seen", "packets", "bytes", "flows", "ring_lost",
                  "parse_errors", "late", "overflow")
SUMS = ("packets", "bytes", "flows", "rows")


class Bad(Exception):
    pass


def is_uint(v, hi=None):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0 and (hi is None or v <= hi)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def as_str(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def check_flow_schema(n, o):
    for k in FLOW_REQUIRED:
        if not is_uint(o.get(k)):
            raise Bad("line %d: flow row without a non-negative integer %r: %s" % (n, k, json.dumps(o)))
    for k, v in o.items():
        if k == "type" or k in FLOW_REQUIRED:
            continue
        ok = {
            "iface": lambda v: isinstance(v, str) and 0 < len(v) < 16,
            "dir": lambda v: v in ("in", "out"),
            "etype": lambda v: is_uint(v, 0xffff),
            "proto": lambda v: is_uint(v, 255),
            "src_addr": is_addr,
            "dst_addr": is_addr,
            "src_port": lambda v: is_uint(v, 0xffff),
            "dst_port": lambda v: is_uint(v, 0xffff),
            "icmp_type": lambda v: is_uint(v, 255),
            "icmp_code": lambda v: is_uint(v, 255),
            "rest": lambda v: v is True,
            "overflow": lambda v: v is True,
        }.get(k, is_uint)
        if not ok(v):
            raise Bad("line %d: flow row field %r has a bad value %r" % (n, k, v))
    if o["packets"] < 1:
        raise Bad("line %d: flow row with no packets" % n)
    if o["tcp_flags"] > 255:
        raise Bad("line %d: tcp_flags %d" % (n, o["tcp_flags"]))
    if o["time_flow_start_ns"] > o["time_flow_end_ns"]:
        raise Bad("line %d: flow ends before it starts" % n)
    if ("src_port" in o or "dst_port" in o) and ("icmp_type" in o or "icmp_code" in o):
        raise Bad("line %d: flow row with both ports and ICMP fields" % n)
    special = [k for k in ("rest", "overflow") if k in o]
    if len(special) > 1:
        raise Bad("line %d: row both rest and overflow" % n)
    if special:
        keys = [k for k in KEYS if k in o]
        if keys:
            raise Bad("line %d: %s row carries key fields %s" % (n, special[0], keys))
    if ("flows" in o) != ("rest" in o):
        raise Bad("line %d: 'flows' belongs to the rest row (and it must have it)" % n)


def is_addr(v):
    try:
        ipaddress.ip_address(v)
    except (ValueError, TypeError):
        return False
    return True


def check_batch_schema(n, o):
    for k in BATCH_REQUIRED:
        if not is_uint(o.get(k)):
            raise Bad("line %d: batch row without a non-negative integer %r: %s" % (n, k, json.dumps(o)))
    for k in ("processing_ms", "delay_ms"):
        if not is_num(o.get(k)):
            raise Bad("line %d: batch row without a number %r" % (n, k))
    if o["processing_ms"] < 0:
        raise Bad("line %d: processing_ms %r" % (n, o["processing_ms"]))
    if not isinstance(o.get("partial"), bool):
        raise Bad("line %d: batch row without a boolean 'partial'" % n)
    ifaces = o.get("ifaces", {})
    if not isinstance(ifaces, dict) or not all(
            isinstance(k, str) and 0 < len(k) < 16 and isinstance(v, str) for k, v in ifaces.items()):
        raise Bad("line %d: 'ifaces' is not an object of interface names and states: %r" % (n, ifaces))
    for k, v in o.items():
        if k in ("type", "processing_ms", "delay_ms", "partial", "ifaces") or k in BATCH_REQUIRED:
            continue
        if not is_uint(v):
            raise Bad("line %d: batch row field %r has a bad value %r" % (n, k, v))
    if o["start_ms"] > o["end_ms"]:
        raise Bad("line %d: batch ends before it starts" % n)


def read_rows(path, a):
    """Reads and checks OUT; returns (flow rows, batch rows)."""
    rows, batches, pending = [], [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                o = json.loads(line)
            except ValueError:
                raise Bad("line %d is not JSON: %r" % (n, line[:200]))
            if not isinstance(o, dict):
                raise Bad("line %d is not an object" % n)
            t = o.get("type")
            if t == "flow":
                check_flow_schema(n, o)
                pending.append(o)
            elif t == "batch":
                check_batch_schema(n, o)
                batch_ledger(o, pending, batches, a)
                rows.extend(pending)
                pending = []
                batches.append(o)
            else:
                raise Bad("line %d has type %r" % (n, t))
    if pending:
        raise Bad("%d flow rows after the last batch row" % len(pending))
    if not batches:
        raise Bad("no batch rows at all")
    for r in batches[:-1]:
        if r["partial"]:
            raise Bad("batch %d is partial but not the last one" % r["batch"])
    return rows, batches


def batch_ledger(o, flows, batches, a):
    num = o["batch"]
    if num != len(batches) + 1:
        prev = batches[-1].get("outputs_dropped", 0) if batches else 0
        why = ""
        if o.get("outputs_dropped", 0) > prev:
            why = " (outputs_dropped %d -> %d: an output dropped whole batches)" % (
                prev, o["outputs_dropped"])
        raise Bad("batch row %r where %d was due%s" % (num, len(batches) + 1, why))
    if batches and o["start_ms"] != batches[-1]["end_ms"]:
        raise Bad("batch %d starts at %d, batch %d ended at %d" %
                  (num, o["start_ms"], num - 1, batches[-1]["end_ms"]))
    for r in flows:
        if (r["batch"], r["start_ms"], r["end_ms"]) != (num, o["start_ms"], o["end_ms"]):
            raise Bad("flow row of batch %d [%d, %d] before batch row %d [%d, %d]" %
                      (r["batch"], r["start_ms"], r["end_ms"], num, o["start_ms"], o["end_ms"]))
    recorded = o["records"] if "records" in o else o["packets"]
    if o["seen"] != recorded + o["ring_lost"]:
        raise Bad("batch %d: seen %d != %s %d + ring_lost %d" %
                  (num, o["seen"], "records" if "records" in o else "packets", recorded, o["ring_lost"]))
    for k in o:
        fam = k[:-len("_seen")]
        if k.endswith("_seen") and fam + "_records" in o and fam + "_lost" in o and \
                o[k] != o[fam + "_records"] + o[fam + "_lost"]:
            raise Bad("batch %d: %s %d != %s_records %d + %s_lost %d" %
                      (num, k, o[k], fam, o[fam + "_records"], fam, o[fam + "_lost"]))
    pk = sum(r["packets"] for r in flows)
    by = sum(r["bytes"] for r in flows)
    if pk != o["packets"] or by != o["bytes"]:
        raise Bad("batch %d: flow rows sum to %d packets %d bytes, batch row says %d/%d" %
                  (num, pk, by, o["packets"], o["bytes"]))
    top = sum(1 for r in flows if "rest" not in r and "overflow" not in r)
    rest = sum(r["flows"] for r in flows if "rest" in r)
    if o["flows"] != top + rest:
        raise Bad("batch %d: flows %d, but %d flow rows and %d in the rest row" %
                  (num, o["flows"], top, rest))
    ov = sum(r["packets"] for r in flows if "overflow" in r)
    if o["overflow"] != ov:
        raise Bad("batch %d: overflow %d, the overflow row holds %d packets" % (num, o["overflow"], ov))
    if o["ring_lost"] and not a.allow_lost:
        raise Bad("batch %d: ring_lost %d" % (num, o["ring_lost"]))
    if o["parse_errors"] and not a.allow_parse_errors:
        raise Bad("batch %d: parse_errors %d" % (num, o["parse_errors"]))


def parse_range(s):
    """N, N..M or N.. -> (lo, hi or None)"""
    m = re.fullmatch(r"(\d+)(?:(\.\.)(\d*))?", s)
    if not m:
        raise argparse.ArgumentTypeError("bad count or range %r" % s)
    lo = int(m.group(1))
    if not m.group(2):
        return lo, lo
    return lo, int(m.group(3)) if m.group(3) else None


def in_range(v, r):
    return r[0] <= v and (r[1] is None or v <= r[1])


def show_range(r):
    if r[0] == r[1]:
        return str(r[0])
    return "%d..%s" % (r[0], "" if r[1] is None else r[1])


def parse_spec(spec):
    match, want, per_row, absent = {}, {}, {}, []
    for tok in spec.split():
        if "=" not in tok:
            raise Bad("bad --flow token %r" % tok)
        k, v = tok.split("=", 1)
        if k in SUMS:
            want[k] = parse_range(v)
        elif k == "tcp_flags":
            per_row[k] = int(v)
        elif k == "absent":
            absent = [x for x in v.split(",") if x]
        else:
            match[k] = v
    if not want:
        raise Bad("--flow %r expects nothing (give packets=, bytes=, flows= or rows=)" % spec)
    return match, want, per_row, absent


def cmd_check(a):
    rows, batches = read_rows(a.out, a)
    if a.batches is not None and not in_range(len(batches), a.batches):
        raise Bad("%d batch rows, expected %s" % (len(batches), show_range(a.batches)))
    if a.last_partial is not None and as_str(batches[-1]["partial"]) != a.last_partial:
        raise Bad("last batch has partial=%s, expected %s" % (as_str(batches[-1]["partial"]),
                                                             a.last_partial))
    absent = [x for x in a.absent.split(",") if x]
    for r in rows:
        for x in absent:
            if x in r:
                raise Bad("flow row has field %r: %s" % (x, json.dumps(r)))
    if a.unique:
        fields = a.unique.split(",")
        keys = set()
        for r in rows:
            if "rest" in r or "overflow" in r:
                continue
            k = tuple(as_str(r.get(f)) for f in fields)
            if k in keys:
                raise Bad("two flow rows share %s = %s" % (a.unique, k))
            keys.add(k)
    for m in a.masked:
        field, _, cidr = m.partition("=")
        try:
            net = ipaddress.ip_network(cidr)
        except ValueError:
            raise Bad("bad --masked %r" % m)
        for r in rows:
            if field in r and ipaddress.ip_address(r[field]) in net and \
                    ipaddress.ip_address(r[field]) != net.network_address:
                raise Bad("%s %s is not masked to %s" % (field, r[field], net))

    if a.print:
        agg = {}
        for r in rows:
            k = tuple((kk, as_str(v)) for kk, v in sorted(r.items())
                      if kk not in ("batch", "start_ms", "end_ms", "packets", "bytes",
                                    "tcp_flags", "time_flow_start_ns", "time_flow_end_ns"))
            p, b = agg.get(k, (0, 0))
            agg[k] = (p + r["packets"], b + r["bytes"])
        for k, (p, b) in sorted(agg.items()):
            print(" ".join("%s=%s" % kv for kv in k), "packets=%d bytes=%d" % (p, b))

    matched = set()
    for spec in a.flow:
        match, want, per_row, absent = parse_spec(spec)
        got = dict.fromkeys(SUMS, 0)
        for i, r in enumerate(rows):
            if ("rest" in r and match.get("rest") != "true") or \
                    ("overflow" in r and match.get("overflow") != "true"):
                continue
            if not all(k in r and as_str(r[k]) == v for k, v in match.items()):
                continue
            matched.add(i)
            got["rows"] += 1
            for k in ("packets", "bytes", "flows"):
                got[k] += r.get(k, 0)
            for k, v in per_row.items():
                if r.get(k) != v:
                    raise Bad("flow %r: row has %s %r, expected %d: %s" % (spec, k, r.get(k), v,
                                                                          json.dumps(r)))
            for k in absent:
                if k in r:
                    raise Bad("flow %r: row has field %r: %s" % (spec, k, json.dumps(r)))
        for k, rng in want.items():
            if not in_range(got[k], rng):
                raise Bad("flow %r: got %s" % (spec, " ".join("%s=%d" % (kk, got[kk]) for kk in SUMS)))
    other = sum(r["packets"] for i, r in enumerate(rows) if i not in matched)
    if a.max_other is not None and other > a.max_other:
        raise Bad("%d packets in flows not expected (at most %d): %s" %
                  (other, a.max_other,
                   "; ".join(json.dumps(r) for i, r in enumerate(rows) if i not in matched)[:2000]))

    tot = {k: sum(b[k] for b in batches)
           for k in ("seen", "packets", "bytes", "ring_lost", "parse_errors", "late", "overflow")}
    tot["records"] = sum(b.get("records", b["packets"]) for b in batches)
    if a.seen is not None and tot["seen"] != a.seen:
        raise Bad("batch rows saw %d packets in all, expected %d" % (tot["seen"], a.seen))
    if a.min_lost is not None and tot["ring_lost"] < a.min_lost:
        raise Bad("ring_lost adds up to %d in %d batches, expected at least %d" %
                  (tot["ring_lost"], len(batches), a.min_lost))
    if a.summary:
        check_summary(a.summary, batches, tot)
    lossy = [b["ring_lost"] for b in batches if b["ring_lost"]]
    print("batches=%d seen=%d packets=%d bytes=%d ring_lost=%d lossy=%d max_lost=%d other=%d" %
          (len(batches), tot["seen"], tot["packets"], tot["bytes"], tot["ring_lost"], len(lossy),
           max(lossy or [0]), other))


def check_summary(path, batches, tot):
    with open(path) as f:
        lines = [l.rstrip("\n") for l in f if l.startswith("flowbatch: ") and " batches: " in l]
    if len(lines) != 1:
        raise Bad("expected one summary line on stderr, found %d" % len(lines))
    m = SUMMARY.match(lines[0])
    if not m:
        raise Bad("summary line is not an exact ledger: %r" % lines[0])
    g = m.groups()
    nb, seen, rec, lost, pe, late, ov, kseen, klost = (int(x) for x in g[:2] + g[3:])
    got = (nb, seen, rec, lost, pe, late, ov)
    exp = (len(batches), tot["seen"], tot[g[2]], tot["ring_lost"], tot["parse_errors"],
           tot["late"], tot["overflow"])
    if got != exp:
        raise Bad("summary %r disagrees with the batch rows %r" % (got, exp))
    if kseen != seen or klost != lost:
        raise Bad("summary: kernel seen/lost %d/%d vs seen/lost %d/%d" % (kseen, klost, seen, lost))


def cmd_stopped(a):
    rows, b = read_rows(a.out, a)
    iv = a.interval_ms
    bad = []
    stalled = [r for r in b if a.stop_ms + iv < r["end_ms"] < a.cont_ms - iv]
    if not stalled or max(r["delay_ms"] for r in stalled) < 1000:
        bad.append("windows that closed while flowbatch was stopped were emitted after the resume,"
                   " >= 1 s late, but their delay_ms says otherwise (batch, delay_ms): %s" %
                   [(r["batch"], r["delay_ms"]) for r in stalled])
    after = [r for r in b if r["start_ms"] >= a.cont_ms + 500 and r["end_ms"] <= a.send_end_ms - 100]
    if len(after) < 3:
        bad.append("only %d batches between the resume and the end of traffic" % len(after))
    for r in after:
        if r["delay_ms"] >= 1000 or r["partial"] or r["late"] or r["packets"] < 1000:
            bad.append("batch after the resume is not normal: %s" % json.dumps(r))
    if bad:
        raise Bad("; ".join(bad))
    print("stopped batches: %s; after resume: %s" % (
        [(r["batch"], round(r["delay_ms"])) for r in stalled],
        [(r["batch"], r["packets"], round(r["delay_ms"], 1)) for r in after]))


def main():
    ap = argparse.ArgumentParser(prog="fbcheck.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    s = sub.add_parser("stopped")
    for p in (c, s):
        p.add_argument("out")
        p.add_argument("--allow-lost", action="store_true")
        p.add_argument("--allow-parse-errors", action="store_true")
    c.add_argument("--flow", action="append", default=[])
    c.add_argument("--batches", type=parse_range)
    c.add_argument("--last-partial", choices=["true", "false"])
    c.add_argument("--absent", default="")
    c.add_argument("--max-other", type=int)
    c.add_argument("--seen", type=int)
    c.add_argument("--min-lost", type=int)
    c.add_argument("--unique", default="")
    c.add_argument("--masked", action="append", default=[])
    c.add_argument("--summary")
    c.add_argument("--print", action="store_true")
    for k in ("--stop-ms", "--cont-ms", "--send-end-ms"):
        s.add_argument(k, type=int, required=True)
    s.add_argument("--interval-ms", type=int, default=250)
    a = ap.parse_args()
    if a.cmd == "check" and a.min_lost is not None:
        a.allow_lost = True
    try:
        {"check": cmd_check, "stopped": cmd_stopped}[a.cmd](a)
    except Bad as e:
        print("fbcheck: %s" % e, file=sys.stderr)
        sys.exit(1)
    except OSError as e:
        print("fbcheck: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

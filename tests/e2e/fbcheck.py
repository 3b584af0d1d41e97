#!/usr/bin/env python3
"""Checks flowbatch's JSON Lines output (and its stderr summary) for the
end-to-end tests. Always checked:

  * every line is a JSON object of type "flow" or "batch";
  * batch rows are numbered 1, 2, 3, ... and each flow row belongs to the
    batch row that follows it;
  * per batch: seen == packets + ring_lost, and packets/bytes equal the sums
    of that batch's flow rows (top, "rest" and "overflow" rows included);
  * ring_lost == 0 and parse_errors == 0 (unless --allow-lost /
    --allow-parse-errors).

Options add expectations:

  --flow 'k=v ... packets=N bytes=N [tcp_flags=F]'
        sums the flow rows (not rest/overflow) whose fields equal every k=v
        (e.g. dir=in proto=17 src_addr=198.18.1.2 src_port=1024) across all
        batches and asserts the totals; tcp_flags must equal F in every row
  --batches N          exactly N batch rows
  --last-partial true|false
  --absent FIELD,...   no flow row has these fields
  --max-other N        flow rows matching no --flow add up to at most N packets
  --summary FILE       FILE (flowbatch's stderr) has exactly one summary line
                       whose numbers equal the sums over the batch rows and
                       which says "ledger exact"
  --print              print the summed flows (for debugging)

Prints one line of totals; exits 1 with a reason on the first failure.
"""
import argparse
import json
import re
import sys

SUMMARY = re.compile(
    r"^flowbatch: (\d+) batches: seen (\d+) = packets (\d+) \+ ring lost (\d+); "
    r"parse errors (\d+), late (\d+), overflow (\d+); kernel counted seen (\d+), lost (\d+) "
    r"\(ledger exact\)$")


def die(msg):
    print("fbcheck: " + msg, file=sys.stderr)
    sys.exit(1)


def as_str(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def parse_spec(spec):
    match, want = {}, {}
    for tok in spec.split():
        if "=" not in tok:
            die("bad --flow token %r" % tok)
        k, v = tok.split("=", 1)
        if k in ("packets", "bytes", "tcp_flags"):
            want[k] = int(v)
        else:
            match[k] = v
    if "packets" not in want:
        die("--flow %r needs packets=" % spec)
    return match, want


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--flow", action="append", default=[])
    ap.add_argument("--batches", type=int)
    ap.add_argument("--last-partial", choices=["true", "false"])
    ap.add_argument("--absent", default="")
    ap.add_argument("--max-other", type=int)
    ap.add_argument("--summary")
    ap.add_argument("--allow-lost", action="store_true")
    ap.add_argument("--allow-parse-errors", action="store_true")
    ap.add_argument("--print", action="store_true")
    a = ap.parse_args()

    rows, batches = [], []
    pending = []
    with open(a.out) as f:
        for n, line in enumerate(f, 1):
            try:
                o = json.loads(line)
            except ValueError:
                die("line %d is not JSON: %r" % (n, line[:200]))
            if not isinstance(o, dict):
                die("line %d is not an object" % n)
            t = o.get("type")
            if t == "flow":
                pending.append(o)
            elif t == "batch":
                num = o.get("batch")
                if num != len(batches) + 1:
                    die("batch row %r where %d was due" % (num, len(batches) + 1))
                pk = sum(r["packets"] for r in pending)
                by = sum(r["bytes"] for r in pending)
                for r in pending:
                    if r.get("batch") != num:
                        die("flow row of batch %r before batch row %d" % (r.get("batch"), num))
                if o["seen"] != o["packets"] + o["ring_lost"]:
                    die("batch %d: seen %d != packets %d + ring_lost %d" %
                        (num, o["seen"], o["packets"], o["ring_lost"]))
                if pk != o["packets"] or by != o["bytes"]:
                    die("batch %d: flow rows sum to %d packets %d bytes, batch row says %d/%d" %
                        (num, pk, by, o["packets"], o["bytes"]))
                if o["ring_lost"] and not a.allow_lost:
                    die("batch %d: ring_lost %d" % (num, o["ring_lost"]))
                if o["parse_errors"] and not a.allow_parse_errors:
                    die("batch %d: parse_errors %d" % (num, o["parse_errors"]))
                rows.extend(pending)
                pending = []
                batches.append(o)
            else:
                die("line %d has type %r" % (n, t))
    if pending:
        die("%d flow rows after the last batch row" % len(pending))
    if not batches:
        die("no batch rows at all")
    if a.batches is not None and len(batches) != a.batches:
        die("%d batch rows, expected %d" % (len(batches), a.batches))
    if a.last_partial is not None and as_str(batches[-1].get("partial")) != a.last_partial:
        die("last batch has partial=%s, expected %s" % (as_str(batches[-1].get("partial")),
                                                         a.last_partial))
    for r in batches[:-1]:
        if r.get("partial"):
            die("batch %d is partial but not the last one" % r["batch"])

    absent = [x for x in a.absent.split(",") if x]
    for r in rows:
        for x in absent:
            if x in r:
                die("flow row has field %r: %s" % (x, json.dumps(r)))

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
        match, want = parse_spec(spec)
        pk = by = 0
        for i, r in enumerate(rows):
            if r.get("rest") or r.get("overflow"):
                continue
            if all(k in r and as_str(r[k]) == v for k, v in match.items()):
                matched.add(i)
                pk += r["packets"]
                by += r["bytes"]
                if "tcp_flags" in want and r.get("tcp_flags") != want["tcp_flags"]:
                    die("flow %r: row has tcp_flags %r, expected %d" %
                        (spec, r.get("tcp_flags"), want["tcp_flags"]))
        if pk != want["packets"] or ("bytes" in want and by != want["bytes"]):
            die("flow %r: got packets=%d bytes=%d" % (spec, pk, by))
    other = sum(r["packets"] for i, r in enumerate(rows) if i not in matched)
    if a.max_other is not None and other > a.max_other:
        die("%d packets in flows not expected (at most %d): %s" %
            (other, a.max_other,
             "; ".join(json.dumps(r) for i, r in enumerate(rows) if i not in matched)[:2000]))

    tot = {k: sum(b[k] for b in batches)
           for k in ("seen", "packets", "bytes", "ring_lost", "parse_errors", "late", "overflow")}
    if a.summary:
        with open(a.summary) as f:
            lines = [l.rstrip("\n") for l in f if l.startswith("flowbatch: ") and " batches: " in l]
        if len(lines) != 1:
            die("expected one summary line on stderr, found %d" % len(lines))
        m = SUMMARY.match(lines[0])
        if not m:
            die("summary line is not an exact ledger: %r" % lines[0])
        nb, seen, pk, lost, pe, late, ov, kseen, klost = map(int, m.groups())
        got = (nb, seen, pk, lost, pe, late, ov)
        exp = (len(batches), tot["seen"], tot["packets"], tot["ring_lost"], tot["parse_errors"],
               tot["late"], tot["overflow"])
        if got != exp:
            die("summary %r disagrees with the batch rows %r" % (got, exp))
        if kseen != seen or klost != lost:
            die("summary: kernel seen/lost %d/%d vs seen/lost %d/%d" % (kseen, klost, seen, lost))
    print("batches=%d seen=%d packets=%d bytes=%d ring_lost=%d other=%d" %
          (len(batches), tot["seen"], tot["packets"], tot["bytes"], tot["ring_lost"], other))


if __name__ == "__main__":
    main()

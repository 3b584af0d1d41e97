#!/usr/bin/env python3
"""Reads flowbatch's JSON Lines for the --events tests (t_events_*.sh).

  evcheck.py ledger OUT ERR FAMILY...   every batch row: FAMILY_seen =
        FAMILY_records + FAMILY_lost; the run's summary line on ERR says
        "(ledger exact)" for each FAMILY with the same totals
  evcheck.py sum OUT TYPE FIELD [KEY=VALUE...]   sum of FIELD over rows of
        TYPE matching every KEY=VALUE (compared as text); rows without FIELD
        count 0; prints the sum and, on stderr, how many rows matched
  evcheck.py max OUT TYPE FIELD [KEY=VALUE...]   the largest FIELD, or -1
  evcheck.py rows OUT TYPE [KEY=VALUE...]   number of matching rows

Events are host-wide: tests select their own rows by tuple, never by
totals. Exits 1 with a reason on a broken ledger or malformed line."""
import json
import re
import sys


def rows(path):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                yield json.loads(line)
            except ValueError:
                sys.exit("line %d is not JSON: %r" % (n, line[:200]))


def match(o, typ, conds):
    if o.get("type") != typ:
        return False
    for c in conds:
        k, v = c.split("=", 1)
        if str(o.get(k)) != v:
            return False
    return True


def ledger(out, err, fams):
    tot = {f: [0, 0, 0] for f in fams}
    batches = 0
    for o in rows(out):
        if o.get("type") != "batch":
            continue
        batches += 1
        for f in fams:
            s, r, l = (o.get(f + "_" + k) for k in ("seen", "records", "lost"))
            if None in (s, r, l):
                sys.exit("batch %s has no %s ledger" % (o.get("batch"), f))
            if s != r + l:
                sys.exit("batch %s: %s_seen %d != records %d + lost %d" % (o.get("batch"), f, s, r, l))
            for i, v in enumerate((s, r, l)):
                tot[f][i] += v
    if not batches:
        sys.exit("no batch rows")
    text = open(err).read()
    for f in fams:
        m = re.search(r"%s events: seen (\d+) = records (\d+) \+ ring lost (\d+);.*\(ledger exact\)" % f, text)
        if not m:
            sys.exit("no exact ledger line for %s in the summary:\n%s" % (f, text))
        if [int(x) for x in m.groups()] != tot[f]:
            sys.exit("%s: summary %s != batch sums %s" % (f, m.groups(), tot[f]))
    print("ledger exact over %d batches: %s" % (batches, " ".join("%s=%d" % (f, tot[f][0]) for f in fams)))


def main():
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "ledger":
        ledger(a[1], a[2], a[3:])
    elif len(a) >= 4 and a[0] in ("sum", "max"):
        vals = [o.get(a[3], 0) for o in rows(a[1]) if match(o, a[2], a[4:])]
        sys.stderr.write("%d rows\n" % len(vals))
        print(sum(vals) if a[0] == "sum" else max(vals, default=-1))
    elif len(a) >= 3 and a[0] == "rows":
        print(sum(1 for o in rows(a[1]) if match(o, a[2], a[3:])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()

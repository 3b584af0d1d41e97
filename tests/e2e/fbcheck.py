#!/usr/bin/env python3
"""The one checker of flowbatch's output for the end-to-end tests: its JSON
Lines on stdout, its -w files, its stderr summary. Standard library only
(plus zcat and jq, to read files as a user would). lib.sh's `check` and
`fbcheck` call it; every test that reads flowbatch's output goes through it.

Every subcommand reads rows with the same reader and checks them with the
same schema and per-batch ledger:
  * every row is a JSON object (a CSV row of a file: its cells as JSON
    values) of a known type with the fields of README's tables and their
    types: "flow", "batch", and the event families' "tcp_state" and "drop";
    a field this checker does not know must be a non-negative integer (a
    counter added later). A batch row's "ifaces": interface name -> "up" or
    "gone". A flow row's event fields come in their family's group (tcp_opens
    with tcp_closes and tcp_failed, ...), rtt_min_us <= rtt_mean_us <=
    rtt_max_us, and only in a batch whose row has that family's ledger;
  * each batch is whole: its rows carry its number and window and end with
    its batch row; batch rows are numbered 1, 2, 3, ..., each starts where
    the previous one ended, only the last may be partial, every batch row
    has the same event families and the same interfaces, and an interface
    once "gone" stays gone;
  * the ledger of each batch: seen == records + ring_lost when the row has
    a "records" field, else seen == packets + ring_lost; for each event
    family NAME (the row's NAME_seen, NAME_records, NAME_lost)
    NAME_seen == NAME_records + NAME_lost; packets and bytes equal the sums
    of the batch's flow rows (top, "rest" and "overflow" included); flows ==
    top rows + the rest row's flows; overflow == the overflow row's packets;
    tcp_state rows: one per (from, to), their counts add up to tcp_records;
    drop rows: one per reason and tuple (and one "overflow" row for keys
    beyond --max-flows), their packets add up to drops_records;
  * ring_lost, every NAME_lost and parse_errors are 0 (unless --allow-lost,
    --allow-parse-errors).

fbcheck.py check OUT [options]
  Checks flowbatch's JSON Lines OUT as above, then the options:
  --flow SPEC          an expectation over the flow rows, SPEC being
                       space-separated tokens:
                         FIELD=VALUE   rows whose FIELD prints as VALUE (all of
                                       them must match); rest and overflow rows
                                       only when the spec says rest=true or
                                       overflow=true
                         packets=R bytes=R flows=R rows=R   the sums (rows: the
                                       count) over those rows, across batches,
                                       are in R: N, N..M, N.. or ..M
                         sum:F=R min:F=R max:F=R   the sum of F (rows without
                                       F add 0), its least or greatest value
                                       (over rows that have F; none: fails)
                         tcp_flags=F   every such row has tcp_flags F
                         absent=F,G    no such row has field F or G
                       at least one of the sums, min: or max: is required
  --row SPEC           the same over rows of any type: type=T in SPEC (flow
                       if not given), e.g. "type=drop reason=NO_SOCKET
                       packets=7" or "type=tcp_state from=SYN_SENT
                       to=ESTABLISHED sum:count=5.."
  --every SPEC         every flow row (rest and overflow rows included)
                       matches SPEC: FIELD=V[,V...] its FIELD prints as one
                       of the Vs; has=F,G it has F and G; absent=F,G it has
                       neither
  --batches R          number of batch rows in R
  --last-partial true|false
  --last FIELD=VALUE   the last batch row's FIELD prints as VALUE; repeatable
  --absent F,G         no flow row has these fields
  --max-other N        flow rows matching no flow spec add up to at most N
                       packets
  --seen N             the batch rows' seen add up to exactly N
  --min-lost N         ring_lost adds up to at least N (implies --allow-lost)
  --unique F,G         no two flow rows (rest/overflow aside) share F and G
  --masked F=CIDR      every flow or drop row whose F lies in CIDR shows
                       CIDR's network address (prefix keys such as -k src/24);
                       repeatable
  --events FAM,...     the batch rows carry exactly these event families'
                       ledgers (none: --events "")
  --events-only        no packet capture (--events without -i): no flow rows,
                       no "ifaces", no packet records, no packet summary line
  --ifaces A,B         every batch row's "ifaces" names exactly A and B
  --ifaces-seen A=S,B=S   some batch row's "ifaces" is exactly this;
                       repeatable
  --summary FILE       FILE (flowbatch's stderr) has one packet summary line
                       (none with --events-only) and one line per event
                       family; their numbers equal the sums over the batch
                       rows and the kernel's, and each says "ledger exact"
  --print              print the summed rows (for debugging)
  Prints one line of totals and one per spec (what it summed) on success.

fbcheck.py value OUT AGG[,AGG...] [SPEC]
  Checks OUT as `check` does, then prints each AGG (sum:F, min:F, max:F or
  rows) over the rows SPEC selects (type=T and FIELD=VALUE tokens, as in
  --row), space-separated; min: and max: fail when no such row has F. For
  the few comparisons a test makes itself.

fbcheck.py stopped OUT --stop-ms A --cont-ms B --send-end-ms C [--interval-ms I]
  flowbatch was stopped (SIGSTOP) at wall time A and continued at B; traffic
  ran until C. A window that closed while it was stopped came out at least a
  second late; after the resume (+500 ms) and while traffic flowed, at least
  three batches are normal: delay under a second, not partial, no late
  records, at least 1000 packets.

fbcheck.py files --stdout OUT [options] FILE...
  The files of one -w output, in any order, read by name as a user would:
  NAME.jsonl with jq (values from Python's json: jq 1.6 rounds the 19-digit
  *_ns fields), NAME.jsonl.gz with zcat first, NAME.csv with the csv module,
  NAME.csv.gz with zcat and the csv module (a ".N" logrotate added is
  ignored). CSV cells become JSON values again (empty: no such field;
  integers, floats, true/false; "ifaces" holds a JSON object), so rows of
  every format compare as dicts. OUT (the stdout JSON Lines, or another
  output holding every batch) is checked as by `check`; each file's rows
  pass the same schema and per-batch ledger, each file holds whole
  consecutive batches (one CSV header on top), no batch is in two files,
  and together, in order of their batches, they equal OUT row for row,
  except exactly N whole batches missing:
  --drops N            N batches missing (default 0)
  --keep-last          any number missing, but only the oldest (-W removed
                       them)
  --cut-end M          at most M missing, only the newest (a SIGKILL cut them)
  --gaps               batches may be missing inside a file too (a stream
                       such as stdout whose writer dropped batches)
  --live               a gzip file may end in a member not yet whole
  --stdout-cut         OUT was cut by a SIGKILL: its last line may be
                       partial; only its whole batches count
  -G SECS              no file holds windows of two wall-clock periods of
                       SECS seconds (UTC)
  -C BYTES             no file went on past BYTES (only its last batch may
                       take it past), and a file that ends within a -G period
                       ended because it passed BYTES
  With gzip and -G or -C, each batch is one gzip member (the first also
  holds a CSV header). Prints a line of totals.

fbcheck.py live [--repeat-for SECS] FILE
  zcat FILE (it may still be written, or be cut by a SIGKILL) prints whole
  batches only, rows of consecutive batches, each passing the schema and the
  per-batch ledger. Prints the number of whole batches read. --repeat-for:
  zcat it again and again for SECS while it is written, each time whole
  batches and never fewer than before; prints the number of reads and of
  batches.

fbcheck.py nfdump OUT NFDUMP_JSON [--min-rows N] [--min-ipv6 N]
  Checks OUT as `check` does; then every flow row (rest and overflow rows
  aside, non-IP rows included) is one record of `nfdump -o json`'s output
  (run with TZ=UTC) with the same protocol, addresses, ports (ICMP type
  and code as type * 256 + code), first and last milliseconds, packets and
  bytes, and the other way round; at least N (default 1) such rows, at
  least N of them IPv6 (default 0).

Exit status 0 when every check holds; 1 with a one-line reason otherwise;
2 for a bad command line.
"""
import argparse
import collections
import csv
import datetime
import io
import ipaddress
import json
import os
import re
import subprocess
import sys
import time
import zlib

PKT_SUMMARY = re.compile(
    r"^flowbatch: (\d+) batches: seen (\d+) = (packets|records) (\d+) \+ ring lost (\d+); "
    r"parse errors (\d+), late (\d+), overflow (\d+); kernel counted seen (\d+), lost (\d+) "
    r"\(ledger exact\)$")
EV_SUMMARY = re.compile(
    r"^flowbatch: (\w+) events: seen (\d+) = records (\d+) \+ ring lost (\d+); "
    r"kernel counted seen (\d+), lost (\d+) \((ledger exact|LEDGER MISMATCH)\)$")

KEYS = ("iface", "dir", "etype", "proto", "src_addr", "dst_addr", "src_port", "dst_port",
        "icmp_type", "icmp_code")
WINDOW = ("batch", "start_ms", "end_ms")
FLOW_REQUIRED = WINDOW + ("packets", "bytes", "tcp_flags", "time_flow_start_ns", "time_flow_end_ns")
BATCH_REQUIRED = WINDOW + ("seen", "packets", "bytes", "flows", "ring_lost", "parse_errors", "late",
                           "overflow")
# a flow row's fields of each event family: (always together, may be absent)
FAMILY_FIELDS = {
    "tcp": (("tcp_opens", "tcp_closes", "tcp_failed"), ("tcp_duration_us",)),
    "retrans": (("tcp_retrans", "tcp_retrans_segs", "tcp_retrans_failed"), ()),
    "resets": (("tcp_rst_sent", "tcp_rst_recv"), ()),
    "rtt": (("rtt_samples",), ("rtt_min_us", "rtt_mean_us", "rtt_max_us")),
    "drops": (("drops", "drop_bytes"), ()),
}
FIELD_FAMILY = {f: fam for fam, (a, b) in FAMILY_FIELDS.items() for f in a + b}
# the event rows and the family whose ledger they belong to
ROW_FAMILY = {"tcp_state": "tcp", "drop": "drops"}
SUMS = ("packets", "bytes", "flows", "rows")
STRING_CELLS = ("type", "iface", "dir", "src_addr", "dst_addr", "reason", "from", "to")


class Bad(Exception):
    pass


def is_uint(v, hi=None):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0 and (hi is None or v <= hi)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_addr(v):
    try:
        ipaddress.ip_address(v)
    except (ValueError, TypeError):
        return False
    return True


def is_name(v):
    return isinstance(v, str) and 0 < len(v) < 16


def as_str(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# ---- schema ---------------------------------------------------------------

# the tuple fields of flow and drop rows
TUPLE_OK = {
    "iface": is_name,
    "dir": lambda v: v in ("in", "out"),
    "etype": lambda v: is_uint(v, 0xffff),
    "proto": lambda v: is_uint(v, 255),
    "src_addr": is_addr,
    "dst_addr": is_addr,
    "src_port": lambda v: is_uint(v, 0xffff),
    "dst_port": lambda v: is_uint(v, 0xffff),
    "icmp_type": lambda v: is_uint(v, 255),
    "icmp_code": lambda v: is_uint(v, 255),
}


def need_uints(w, o, names):
    for k in names:
        if not is_uint(o.get(k)):
            raise Bad("%s: %s row without a non-negative integer %r: %s" % (w, o["type"], k, json.dumps(o)))


def check_fields(w, o, ok):
    """every field but the type passes its test in ok, or is a counter"""
    for k, v in o.items():
        if k != "type" and not ok.get(k, is_uint)(v):
            raise Bad("%s: %s row field %r has a bad value %r" % (w, o["type"], k, v))


def check_tuple(w, o):
    if ("src_port" in o or "dst_port" in o) and ("icmp_type" in o or "icmp_code" in o):
        raise Bad("%s: %s row with both ports and ICMP fields" % (w, o["type"]))


def check_flow_schema(w, o):
    need_uints(w, o, FLOW_REQUIRED)
    check_fields(w, o, dict(TUPLE_OK, rest=lambda v: v is True, overflow=lambda v: v is True))
    if o["packets"] < 1:
        raise Bad("%s: flow row with no packets" % w)
    if o["tcp_flags"] > 255:
        raise Bad("%s: tcp_flags %d" % (w, o["tcp_flags"]))
    if o["time_flow_start_ns"] > o["time_flow_end_ns"]:
        raise Bad("%s: flow ends before it starts" % w)
    check_tuple(w, o)
    special = [k for k in ("rest", "overflow") if k in o]
    if len(special) > 1:
        raise Bad("%s: row both rest and overflow" % w)
    if special:
        keys = [k for k in KEYS if k in o]
        if keys:
            raise Bad("%s: %s row carries key fields %s" % (w, special[0], keys))
    if ("flows" in o) != ("rest" in o):
        raise Bad("%s: 'flows' belongs to the rest row (and it must have it)" % w)
    for fam, (together, optional) in FAMILY_FIELDS.items():
        have = [k for k in together if k in o]
        if have and len(have) != len(together):
            raise Bad("%s: flow row has %s but not all of %s" % (w, have, list(together)))
        if not have and any(k in o for k in optional):
            raise Bad("%s: flow row has %s fields without %s" % (w, fam, list(together)))
    if "tcp_duration_us" in o and o["tcp_closes"] < 1:
        raise Bad("%s: tcp_duration_us on a flow row with no closed connection" % w)
    if "drops" in o and o["drops"] < 1:
        raise Bad("%s: drop fields on a flow row with no drops" % w)
    rtt = [k in o for k in FAMILY_FIELDS["rtt"][1]]
    if any(rtt) and not all(rtt):
        raise Bad("%s: flow row with some of rtt_min_us, rtt_mean_us, rtt_max_us" % w)
    if "rtt_samples" in o and all(rtt) != (o["rtt_samples"] > 0):
        raise Bad("%s: rtt_samples %d with%s RTT values" % (w, o["rtt_samples"], "" if all(rtt) else "out"))
    if all(rtt) and "rtt_samples" in o and not o["rtt_min_us"] <= o["rtt_mean_us"] <= o["rtt_max_us"]:
        raise Bad("%s: RTT min %d, mean %d, max %d out of order" %
                  (w, o["rtt_min_us"], o["rtt_mean_us"], o["rtt_max_us"]))


def check_batch_schema(w, o):
    need_uints(w, o, BATCH_REQUIRED)
    for k in ("processing_ms", "delay_ms"):
        if not is_num(o.get(k)):
            raise Bad("%s: batch row without a number %r" % (w, k))
    if o["processing_ms"] < 0:
        raise Bad("%s: processing_ms %r" % (w, o["processing_ms"]))
    if not isinstance(o.get("partial"), bool):
        raise Bad("%s: batch row without a boolean 'partial'" % w)
    ifaces = o.get("ifaces", {})
    if not isinstance(ifaces, dict) or not all(
            is_name(k) and v in ("up", "gone") for k, v in ifaces.items()):
        raise Bad("%s: 'ifaces' is not an object of interface names and states (up, gone): %r" %
                  (w, ifaces))
    check_fields(w, o, {"processing_ms": is_num, "delay_ms": is_num, "partial": lambda v: True,
                        "ifaces": lambda v: True})
    if o["start_ms"] > o["end_ms"]:
        raise Bad("%s: batch ends before it starts" % w)
    for fam in families(o):
        for k in ("records", "lost"):
            if fam + "_" + k not in o:
                raise Bad("%s: batch row has %s_seen but no %s_%s" % (w, fam, fam, k))


def check_tcp_state_schema(w, o):
    need_uints(w, o, WINDOW + ("count",))
    check_fields(w, o, {"from": lambda v: isinstance(v, str) and v != "",
                        "to": lambda v: isinstance(v, str) and v != ""})
    if "from" not in o or "to" not in o:
        raise Bad("%s: tcp_state row without 'from' and 'to'" % w)
    if o["count"] < 1:
        raise Bad("%s: tcp_state row with count 0" % w)


def check_drop_schema(w, o):
    if "overflow" in o:
        # drops of keys beyond --max-flows: packets and bytes, nothing else
        need_uints(w, o, WINDOW + ("packets", "bytes"))
        extra = set(o) - set(WINDOW) - {"type", "packets", "bytes", "overflow"}
        if o["overflow"] != 1 or extra or o["packets"] < 1:
            raise Bad("%s: drop overflow row with %s" % (w, sorted(extra) or o))
        return
    need_uints(w, o, WINDOW + ("reason_code", "packets", "bytes"))
    check_fields(w, o, dict(TUPLE_OK, reason=lambda v: isinstance(v, str) and v != ""))
    if "reason" not in o:
        raise Bad("%s: drop row without a 'reason'" % w)
    if re.fullmatch(r"\d+", o["reason"]) and o["reason"] != str(o["reason_code"]):
        raise Bad("%s: drop reason %r with reason_code %d" % (w, o["reason"], o["reason_code"]))
    if o["packets"] < 1:
        raise Bad("%s: drop row with no packets" % w)
    for k in ("iface", "dir"):
        if k in o:
            raise Bad("%s: drop row with %r (events are keyed without it)" % (w, k))
    check_tuple(w, o)


SCHEMA = {"flow": check_flow_schema, "batch": check_batch_schema,
          "tcp_state": check_tcp_state_schema, "drop": check_drop_schema}


def check_row(w, o):
    if not isinstance(o, dict):
        raise Bad("%s is not an object" % w)
    t = o.get("type")
    if t not in SCHEMA:
        raise Bad("%s has type %r" % (w, t))
    SCHEMA[t](w, o)


def families(b):
    """the event families whose ledger a batch row carries"""
    return sorted(k[:-len("_seen")] for k in b if k.endswith("_seen"))


# ---- reading --------------------------------------------------------------

def read_jsonl(path, cut=False):
    """[(where, row)] of a JSON Lines file. cut: it was cut by a SIGKILL, so
    its last line may be partial and rows after its last batch row count
    for nothing."""
    with open(path, newline="") as f:
        text = f.read()
    lines = text.split("\n")
    last = lines.pop()  # after the last newline: "" if the file ends in one
    if last and not cut:
        raise Bad("%s: the last line has no newline (cut?): %r" % (path, last[:200]))
    rows = []
    for n, line in enumerate(lines, 1):
        try:
            rows.append(("line %d" % n, json.loads(line)))
        except ValueError:
            raise Bad("line %d is not JSON: %r" % (n, line[:200]))
    if cut:
        while rows and not (isinstance(rows[-1][1], dict) and rows[-1][1].get("type") == "batch"):
            rows.pop()
    return rows


def zcat(path, live=False):
    p = subprocess.run(["zcat", path], capture_output=True)
    # a live or killed file may end in a member not yet whole: zcat says
    # "trailing garbage ignored" (exit 2) and prints only the whole ones
    if p.returncode != 0 and not (live and p.returncode == 2):
        raise Bad("zcat %s: exit %d: %s" % (path, p.returncode, p.stderr.decode().strip()))
    return p.stdout.decode()


def jq(text, path):
    # jq checks every line is JSON, and picks the batch rows as a user
    # would; the values are compared as Python reads them (jq 1.6 rounds
    # integers past 2^53, such as the *_ns times, to doubles)
    p = subprocess.run(["jq", "-c", 'select(.type == "batch") | .batch'], input=text.encode(),
                       capture_output=True)
    if p.returncode != 0:
        raise Bad("jq cannot read %s: %s" % (path, p.stderr.decode().strip()))
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        try:
            rows.append(("%s line %d" % (path, n), json.loads(line)))
        except ValueError:
            raise Bad("%s line %d is not JSON: %r" % (path, n, line[:200]))
    if [int(x) for x in p.stdout.split()] != [r["batch"] for _, r in rows
                                              if isinstance(r, dict) and r.get("type") == "batch"]:
        raise Bad("%s: jq and Python read different batch rows" % path)
    return rows


INT = re.compile(r"^-?\d+$")
FLOAT = re.compile(r"^-?\d+\.\d+$")


def cell(name, s):
    if name == "ifaces":
        return json.loads(s)
    if name in STRING_CELLS:
        return s
    if INT.match(s):
        return int(s)
    if FLOAT.match(s):
        return float(s)
    if s in ("true", "false"):
        return s == "true"
    return s


def kind(path):
    """the name as flowbatch wrote it: without a number logrotate added"""
    return re.sub(r"\.\d+$", "", path)


def parse_file(path, text):
    name = kind(path)
    name = name[:-3] if name.endswith(".gz") else name
    if name.endswith(".jsonl"):
        return jq(text, path)
    if name.endswith(".csv"):
        rd = csv.reader(io.StringIO(text, newline=""))
        head = next(rd, None)
        if not head or head[0] != "type":
            raise Bad("%s: no CSV header line" % path)
        rows = []
        for r in rd:
            w = "%s line %d" % (path, rd.line_num)
            if len(r) != len(head):
                raise Bad("%s: a row has %d cells, the header %d: %s" % (w, len(r), len(head), r))
            if r[0] == "type":
                raise Bad("%s: a second header line" % w)
            try:
                rows.append((w, {k: cell(k, v) for k, v in zip(head, r) if v != ""}))
            except ValueError:
                raise Bad("%s: 'ifaces' is not JSON: %s" % (w, r))
        return rows
    raise Bad("%s: not a file name flowbatch writes" % path)


def read_file(path, live=False):
    if kind(path).endswith(".gz"):
        return parse_file(path, zcat(path, live))
    with open(path, newline="") as f:
        return parse_file(path, f.read())


# ---- batches and their ledger ----------------------------------------------

def group(rows, what):
    """Checks each row's schema and splits [(where, row)] into whole batches:
    [(batch row, [its other rows])]."""
    out, cur = [], []
    for w, o in rows:
        check_row(w, o)
        if o["type"] != "batch":
            cur.append((w, o))
            continue
        for wr, r in cur:
            if tuple(r[k] for k in WINDOW) != tuple(o[k] for k in WINDOW):
                raise Bad("%s: %s row of batch %d [%d, %d] before batch row %d [%d, %d]" %
                          (wr, r["type"], r["batch"], r["start_ms"], r["end_ms"], o["batch"],
                           o["start_ms"], o["end_ms"]))
        out.append((o, [r for _, r in cur]))
        cur = []
    if cur:
        raise Bad("%s: ends inside batch %r: %d rows after the last batch row" %
                  (what, cur[0][1]["batch"], len(cur)))
    return out


def batch_ledger(o, members, a):
    num = o["batch"]
    flows = [r for r in members if r["type"] == "flow"]
    recorded = o["records"] if "records" in o else o["packets"]
    if o["seen"] != recorded + o["ring_lost"]:
        raise Bad("batch %d: seen %d != %s %d + ring_lost %d" %
                  (num, o["seen"], "records" if "records" in o else "packets", recorded, o["ring_lost"]))
    fams = families(o)
    for fam in fams:
        s, r, l = (o[fam + k] for k in ("_seen", "_records", "_lost"))
        if s != r + l:
            raise Bad("batch %d: %s_seen %d != %s_records %d + %s_lost %d" % (num, fam, s, fam, r, fam, l))
        if l and not a.allow_lost:
            raise Bad("batch %d: %s_lost %d" % (num, fam, l))
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
    # the event families' parts
    for r in members:
        fam = ROW_FAMILY.get(r["type"])
        if fam and fam not in fams:
            raise Bad("batch %d: a %s row, but the batch row has no %s ledger: %s" %
                      (num, r["type"], fam, json.dumps(r)))
        if r["type"] == "flow":
            for k in r:
                if k in FIELD_FAMILY and FIELD_FAMILY[k] not in fams:
                    raise Bad("batch %d: flow row has %r, but the batch row has no %s ledger" %
                              (num, k, FIELD_FAMILY[k]))
    for t, key in (("tcp_state", lambda r: (r["from"], r["to"])),
                   ("drop", lambda r: tuple((k, r[k]) for k in ("reason_code",) + KEYS if k in r))):
        keys = collections.Counter(key(r) for r in members if r["type"] == t)
        twice = [k for k, n in keys.items() if n > 1]
        if twice:
            raise Bad("batch %d: %d %s rows of the same key %s" % (num, keys[twice[0]], t, twice[0]))
    if "tcp" in fams:
        n = sum(r["count"] for r in members if r["type"] == "tcp_state")
        if n != o["tcp_records"]:
            raise Bad("batch %d: tcp_state rows count %d transitions, tcp_records %d" %
                      (num, n, o["tcp_records"]))
    if "drops" in fams:
        n = sum(r["packets"] for r in members if r["type"] == "drop")
        if n != o["drops_records"]:
            raise Bad("batch %d: drop rows hold %d packets, drops_records %d" %
                      (num, n, o["drops_records"]))


def sequence(batches, what, first=1, gaps=False):
    """batch rows in order: numbered from first (None: any) one by one (gaps:
    rising), windows contiguous, only the last partial, the same families
    and interfaces throughout, a gone interface never back"""
    prev = None
    for b in batches:
        num = b["batch"]
        due = first if prev is None else prev["batch"] + 1
        if due is not None and num != due and not (gaps and prev is not None and num > prev["batch"]):
            old = prev.get("outputs_dropped", 0) if prev else 0
            why = ""
            if b.get("outputs_dropped", 0) > old:
                why = " (outputs_dropped %d -> %d: an output dropped whole batches)" % (
                    old, b["outputs_dropped"])
            raise Bad("%s: batch row %r where %d was due%s" % (what, num, due, why))
        if prev is not None:
            if prev["partial"]:
                raise Bad("%s: batch %d is partial but not the last one" % (what, prev["batch"]))
            if num == prev["batch"] + 1 and b["start_ms"] != prev["end_ms"]:
                raise Bad("%s: batch %d starts at %d, batch %d ended at %d" %
                          (what, num, b["start_ms"], num - 1, prev["end_ms"]))
            if families(b) != families(prev):
                raise Bad("%s: batch %d has event families %s, batch %d %s" %
                          (what, num, families(b), prev["batch"], families(prev)))
            st, pst = b.get("ifaces", {}), prev.get("ifaces", {})
            if sorted(st) != sorted(pst):
                raise Bad("%s: batch %d names interfaces %s, batch %d %s" %
                          (what, num, sorted(st), prev["batch"], sorted(pst)))
            back = [k for k in st if pst[k] == "gone" and st[k] != "gone"]
            if back:
                raise Bad("%s: batch %d: %s up again after it was gone" % (what, num, back[0]))
        prev = b


def read_run(path, a, cut=False):
    """Reads and checks a whole run's JSON Lines; returns [(batch row, rows)]."""
    bs = group(read_jsonl(path, cut), path)
    if not bs:
        raise Bad("no batch rows at all")
    for o, members in bs:
        batch_ledger(o, members, a)
    sequence([o for o, _ in bs], path)
    return bs


# ---- expectations -----------------------------------------------------------

def parse_range(s):
    """N, N..M, N.. or ..M -> (lo, hi or None)"""
    m = re.fullmatch(r"(\d*)(?:(\.\.)(\d*))?", s)
    if not m or (not m.group(1) and not m.group(2)) or (not m.group(1) and not m.group(3)):
        raise argparse.ArgumentTypeError("bad count or range %r" % s)
    lo = int(m.group(1) or 0)
    if not m.group(2):
        return lo, lo
    return lo, int(m.group(3)) if m.group(3) else None


def in_range(v, r):
    return r[0] <= v and (r[1] is None or v <= r[1])


def show_range(r):
    if r[0] == r[1]:
        return str(r[0])
    return "%d..%s" % (r[0], "" if r[1] is None else r[1])


class Spec:
    """the tokens of a --flow or --row SPEC"""

    def __init__(self, text, what="--row", need_aggs=True):
        self.text = text
        self.type = "flow"
        self.match, self.aggs, self.per_row, self.absent = {}, [], {}, []
        for tok in text.split():
            k, eq, v = tok.partition("=")
            if not eq:
                raise Bad("bad %s token %r" % (what, tok))
            try:
                if k == "type":
                    self.type = v
                elif k in SUMS:
                    self.aggs.append(("rows", None, parse_range(v)) if k == "rows" else
                                     ("sum", k, parse_range(v)))
                elif re.fullmatch(r"(sum|min|max):\w+", k):
                    fn, _, f = k.partition(":")
                    self.aggs.append((fn, f, parse_range(v)))
                elif k == "tcp_flags":
                    self.per_row[k] = int(v)
                elif k == "absent":
                    self.absent = [x for x in v.split(",") if x]
                else:
                    self.match[k] = v
            except (ValueError, argparse.ArgumentTypeError):
                raise Bad("bad %s token %r" % (what, tok))
        if self.type not in SCHEMA or self.type == "batch":
            raise Bad("%s %r: no rows of type %r" % (what, text, self.type))
        if need_aggs and not self.aggs:
            raise Bad("%s %r expects nothing (give packets=, bytes=, flows=, rows=, sum:, min: "
                      "or max:)" % (what, text))

    def selects(self, r):
        if r["type"] != self.type:
            return False
        if ("rest" in r and self.match.get("rest") != "true") or \
                ("overflow" in r and self.match.get("overflow") != "true"):
            return False
        return all(k in r and as_str(r[k]) == v for k, v in self.match.items())


def aggregate(fn, field, rows):
    if fn == "rows":
        return len(rows)
    if fn == "sum":
        return sum(r.get(field, 0) for r in rows)
    vals = [r[field] for r in rows if field in r]
    if not vals:
        return None
    return min(vals) if fn == "min" else max(vals)


def agg_name(fn, field):
    if fn == "rows":
        return "rows"
    return field if fn == "sum" and field in SUMS else "%s:%s" % (fn, field)


def check_spec(spec, rows, matched):
    """spec's expectations over rows; adds the indexes it selects to matched;
    returns what it summed, as text"""
    sel = []
    for i, r in enumerate(rows):
        if not spec.selects(r):
            continue
        matched.add(i)
        sel.append(r)
        for k, v in spec.per_row.items():
            if r.get(k) != v:
                raise Bad("%r: row has %s %r, expected %d: %s" % (spec.text, k, r.get(k), v, json.dumps(r)))
        for k in spec.absent:
            if k in r:
                raise Bad("%r: row has field %r: %s" % (spec.text, k, json.dumps(r)))
    aggs = [("rows", None)] + [(fn, f) for fn, f, _ in spec.aggs if fn != "rows"]
    if spec.type in ("flow", "drop"):
        aggs[1:1] = [("sum", "packets"), ("sum", "bytes")]
    seen_aggs = []
    for x in aggs:
        if x not in seen_aggs:
            seen_aggs.append(x)
    got = " ".join("%s=%s" % (agg_name(fn, f), aggregate(fn, f, sel)) for fn, f in seen_aggs)
    for fn, f, rng in spec.aggs:
        v = aggregate(fn, f, sel)
        if v is None:
            raise Bad("%r: no selected row has %r (%d rows)" % (spec.text, f, len(sel)))
        if not in_range(v, rng):
            raise Bad("%r: %s is %d, expected %s; got %s" % (spec.text, agg_name(fn, f), v,
                                                             show_range(rng), got))
    return got


def check_every(text, rows):
    conds, has, absent = {}, [], []
    for tok in text.split():
        k, eq, v = tok.partition("=")
        if not eq or not v:
            raise Bad("bad --every token %r" % tok)
        if k == "has":
            has += v.split(",")
        elif k == "absent":
            absent += v.split(",")
        else:
            conds[k] = v.split(",")
    if not (conds or has or absent):
        raise Bad("--every %r expects nothing" % text)
    n = 0
    for r in rows:
        if r["type"] != "flow":
            continue
        n += 1
        for k, vs in conds.items():
            if k not in r or as_str(r[k]) not in vs:
                raise Bad("--every %r: a flow row has %s %s: %s" %
                          (text, k, as_str(r[k]) if k in r else "absent", json.dumps(r)))
        for k in has:
            if k not in r:
                raise Bad("--every %r: a flow row without %r: %s" % (text, k, json.dumps(r)))
        for k in absent:
            if k in r:
                raise Bad("--every %r: a flow row with %r: %s" % (text, k, json.dumps(r)))
    return n


def ifaces_of(spec):
    st = {}
    for tok in re.split(r"[ ,]+", spec.strip()):
        name, eq, state = tok.partition("=")
        if not eq or not name or state not in ("up", "gone"):
            raise Bad("bad --ifaces-seen %r (NAME=up|gone,...)" % spec)
        st[name] = state
    return st


def print_rows(rows):
    agg = {}
    for r in rows:
        k = tuple((kk, as_str(v)) for kk, v in sorted(r.items())
                  if kk in KEYS or kk in ("type", "rest", "overflow", "reason", "from", "to"))
        s = agg.setdefault(k, collections.Counter())
        for kk in ("packets", "bytes", "flows", "count"):
            if kk in r and not (kk == "flows" and r["type"] != "flow"):
                s[kk] += r[kk]
    for k, s in sorted(agg.items()):
        print(" ".join("%s=%s" % kv for kv in k), " ".join("%s=%d" % kv for kv in sorted(s.items())))


def cmd_check(a):
    bs = read_run(a.out, a)
    batches = [o for o, _ in bs]
    rows = [r for _, members in bs for r in members]
    flows = [r for r in rows if r["type"] == "flow"]
    if a.batches is not None and not in_range(len(batches), a.batches):
        raise Bad("%d batch rows, expected %s" % (len(batches), show_range(a.batches)))
    if a.last_partial is not None and as_str(batches[-1]["partial"]) != a.last_partial:
        raise Bad("last batch has partial=%s, expected %s" % (as_str(batches[-1]["partial"]),
                                                             a.last_partial))
    for t in a.last:
        k, eq, v = t.partition("=")
        if not eq:
            raise Bad("bad --last %r" % t)
        if k not in batches[-1] or as_str(batches[-1][k]) != v:
            raise Bad("last batch row has %s %s, expected %s" %
                      (k, as_str(batches[-1][k]) if k in batches[-1] else "absent", v))
    if a.events is not None:
        want = sorted(x for x in a.events.split(",") if x)
        if families(batches[0]) != want:
            raise Bad("batch rows carry the ledgers of %s, expected %s" % (families(batches[0]), want))
    if a.events_only:
        if flows:
            raise Bad("%d flow rows without packet capture: %s" % (len(flows), json.dumps(flows[0])))
        for b in batches:
            if "ifaces" in b or b["seen"] or b.get("records"):
                raise Bad("batch %d has interfaces or packet records without packet capture" % b["batch"])
    if a.ifaces is not None:
        want = sorted(x for x in a.ifaces.split(",") if x)
        for b in batches:
            if sorted(b.get("ifaces", {})) != want:
                raise Bad("batch %d: ifaces %r, expected %s" % (b["batch"], b.get("ifaces"), want))
    for spec in a.ifaces_seen:
        st = ifaces_of(spec)
        if not any(b.get("ifaces") == st for b in batches):
            raise Bad("no batch row has ifaces %r: %s" % (st, [b.get("ifaces") for b in batches]))
    absent = [x for x in a.absent.split(",") if x]
    for r in flows:
        for x in absent:
            if x in r:
                raise Bad("flow row has field %r: %s" % (x, json.dumps(r)))
    if a.unique:
        fields = a.unique.split(",")
        keys = set()
        for r in flows:
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
            if r["type"] in ("flow", "drop") and field in r and \
                    ipaddress.ip_address(r[field]) in net and ipaddress.ip_address(r[field]) != net.network_address:
                raise Bad("%s %s is not masked to %s" % (field, r[field], net))
    every = ["--every %r: %d flow rows" % (e, check_every(e, rows)) for e in a.every]

    if a.print:
        print_rows(rows)

    specs = [Spec(s, "--flow") for s in a.flow]
    for s in specs:
        if s.type != "flow":
            raise Bad("--flow %r: flow rows only (use --row)" % s.text)
    specs += [Spec(s) for s in a.row]
    matched, got = set(), []
    for s in specs:
        got.append("  %r: %s" % (s.text, check_spec(s, rows, matched)))
    other = sum(r["packets"] for i, r in enumerate(rows) if i not in matched and r["type"] == "flow")
    if a.max_other is not None and other > a.max_other:
        raise Bad("%d packets in flows not expected (at most %d): %s" %
                  (other, a.max_other,
                   "; ".join(json.dumps(r) for i, r in enumerate(rows)
                             if i not in matched and r["type"] == "flow")[:2000]))

    tot = {k: sum(b[k] for b in batches)
           for k in ("seen", "packets", "bytes", "ring_lost", "parse_errors", "late", "overflow")}
    tot["records"] = sum(b.get("records", b["packets"]) for b in batches)
    if a.seen is not None and tot["seen"] != a.seen:
        raise Bad("batch rows saw %d packets in all, expected %d" % (tot["seen"], a.seen))
    if a.min_lost is not None and tot["ring_lost"] < a.min_lost:
        raise Bad("ring_lost adds up to %d in %d batches, expected at least %d" %
                  (tot["ring_lost"], len(batches), a.min_lost))
    if a.summary:
        check_summary(a.summary, batches, tot, a.events_only)
    lossy = [b["ring_lost"] for b in batches if b["ring_lost"]]
    print("batches=%d seen=%d records=%d packets=%d bytes=%d ring_lost=%d lossy=%d max_lost=%d other=%d%s" %
          (len(batches), tot["seen"], tot["records"], tot["packets"], tot["bytes"], tot["ring_lost"],
           len(lossy), max(lossy or [0]), other,
           "".join(" %s_seen=%d" % (f, sum(b[f + "_seen"] for b in batches)) for f in families(batches[0]))))
    for line in got + every:
        print(line)


def check_summary(path, batches, tot, events_only=False):
    with open(path) as f:
        lines = [l.rstrip("\n") for l in f]
    pkt = [l for l in lines if l.startswith("flowbatch: ") and " batches: " in l]
    if len(pkt) != (0 if events_only else 1):
        raise Bad("expected %s packet summary line on stderr, found %d" %
                  ("no" if events_only else "one", len(pkt)))
    for l in pkt:
        m = PKT_SUMMARY.match(l)
        if not m:
            raise Bad("summary line is not an exact ledger: %r" % l)
        g = m.groups()
        nb, seen, rec, lost, pe, late, ov, kseen, klost = (int(x) for x in g[:2] + g[3:])
        got = (nb, seen, rec, lost, pe, late, ov)
        exp = (len(batches), tot["seen"], tot[g[2]], tot["ring_lost"], tot["parse_errors"],
               tot["late"], tot["overflow"])
        if got != exp:
            raise Bad("summary %r disagrees with the batch rows %r" % (got, exp))
        if kseen != seen or klost != lost:
            raise Bad("summary: kernel seen/lost %d/%d vs seen/lost %d/%d" % (kseen, klost, seen, lost))
    ev = {}
    for l in lines:
        if l.startswith("flowbatch: ") and " events: " in l:
            m = EV_SUMMARY.match(l)
            if not m:
                raise Bad("event summary line not understood: %r" % l)
            if m.group(7) != "ledger exact":
                raise Bad("event summary line is not an exact ledger: %r" % l)
            if m.group(1) in ev:
                raise Bad("two summary lines for the %s events" % m.group(1))
            ev[m.group(1)] = [int(x) for x in m.groups()[1:6]]
    fams = families(batches[0])
    if sorted(ev) != fams:
        raise Bad("summary lines for the events of %s, the batch rows carry %s" % (sorted(ev), fams))
    for f in fams:
        seen, rec, lost, kseen, klost = ev[f]
        exp = [sum(b[f + k] for b in batches) for k in ("_seen", "_records", "_lost")]
        if [seen, rec, lost] != exp:
            raise Bad("%s events: summary seen/records/lost %s, batch rows %s" % (f, [seen, rec, lost], exp))
        if kseen != seen or klost != lost:
            raise Bad("%s events: kernel seen/lost %d/%d vs seen/lost %d/%d" % (f, kseen, klost, seen, lost))


def cmd_value(a):
    bs = read_run(a.out, a)
    rows = [r for _, members in bs for r in members]
    spec = Spec(a.spec, "value", need_aggs=False)
    if spec.aggs or spec.per_row or spec.absent:
        raise Bad("value %r: the spec only selects rows (type=, FIELD=VALUE)" % a.spec)
    sel = [r for r in rows if spec.selects(r)]
    out = []
    for agg in a.agg.split(","):
        m = re.fullmatch(r"(?:(sum|min|max):(\w+)|rows)", agg)
        if not m:
            raise Bad("bad aggregate %r (sum:F, min:F, max:F or rows)" % agg)
        v = aggregate(m.group(1) or "rows", m.group(2), sel)
        if v is None:
            raise Bad("none of the %d rows of %r has %r" % (len(sel), a.spec, m.group(2)))
        out.append(str(v))
    print(" ".join(out))


def cmd_stopped(a):
    b = [o for o, _ in read_run(a.out, a)]
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


# ---- files ------------------------------------------------------------------

def file_batches(path, rows, a, gaps=False):
    """[(number, [rows, batch row last])] of a file's rows: whole batches,
    each with its ledger, consecutive (gaps: rising)"""
    try:
        bs = group(rows, path)
        for o, members in bs:
            batch_ledger(o, members, a)
        sequence([o for o, _ in bs], path, first=None, gaps=gaps)
    except Bad as e:
        raise Bad("%s: %s" % (path, e) if not str(e).startswith(path) else str(e))
    return [(o["batch"], members + [o]) for o, members in bs]


def members(path):
    """byte sizes of the gzip members of path"""
    with open(path, "rb") as f:
        data = f.read()
    sizes = []
    while data:
        d = zlib.decompressobj(31)
        d.decompress(data)
        if not d.eof:
            raise Bad("%s: ends inside a gzip member" % path)
        sizes.append(len(data) - len(d.unused_data))
        data = d.unused_data
    return sizes


def cmd_files(a):
    want = [(o["batch"], m + [o]) for o, m in read_run(a.stdout, a, cut=a.stdout_cut)]
    got, per_file = {}, []
    for p in a.files:
        bs = file_batches(p, read_file(p, a.live), a, a.gaps)
        if not bs:
            raise Bad("%s: holds no batch" % p)
        per_file.append((p, bs))
        for n, rows in bs:
            if n in got:
                raise Bad("batch %d is in %s and in %s" % (n, got[n][0], p))
            got[n] = (p, rows)
    missing = []
    nrows = 0
    for n, rows_out in want:
        if n not in got:
            missing.append(n)
            continue
        p, rows_file = got[n]
        if rows_file != rows_out:
            for x, y in zip(rows_file, rows_out):
                if x != y:
                    raise Bad("batch %d differs in %s: %s vs stdout %s" % (n, p, json.dumps(x), json.dumps(y)))
            raise Bad("batch %d: %d rows in %s, %d on stdout" % (n, len(rows_file), p, len(rows_out)))
        nrows += len(rows_file)
    extra = sorted(set(got) - {n for n, _ in want})
    if extra:
        raise Bad("batches %s are in files but not on stdout" % extra)
    numbers = [n for n, _ in want]
    if a.keep_last:
        if missing != numbers[:len(missing)]:
            raise Bad("batches %s missing from the files: not the oldest ones" % missing[:20])
    elif a.cut_end is not None:
        if missing != numbers[len(numbers) - len(missing):] or len(missing) > a.cut_end:
            raise Bad("batches %s missing from the files: more than the last %d" % (missing[:20], a.cut_end))
    elif len(missing) != a.drops:
        raise Bad("%d batches missing from the files (%s), expected %d" % (len(missing), missing[:20], a.drops))
    rot = ""
    if a.secs or a.bytes:
        rotation(per_file, a.secs, a.bytes)
        rot = "; rotation rules hold (-G %d -C %d)" % (a.secs, a.bytes)
    print("%d files, %d batches, %d rows equal to stdout; missing %s%s" %
          (len(a.files), len(got), nrows, missing, rot))


def rotation(per_file, secs, limit):
    files = []
    for p, bs in per_file:
        size = os.path.getsize(p)
        if p.endswith(".gz"):
            ms = members(p)
            if len(ms) != len(bs):
                raise Bad("%s: %d gzip members for %d batches" % (p, len(ms), len(bs)))
            last = ms[-1]
        elif len(bs) == 1:
            last = size
        else:
            # the last batch's lines as they are in the file
            with open(p, newline="") as f:
                lines = f.read().splitlines(keepends=True)
            last = sum(len(x.encode()) for x in lines[-len(bs[-1][1]):])
        files.append((bs[0][0], p, bs, size, last))
    files.sort()
    period = lambda rows: rows[-1]["start_ms"] // 1000 // secs
    for i, (first, p, bs, size, last) in enumerate(files):
        if secs:
            per = {period(r) for _, r in bs}
            if len(per) != 1:
                raise Bad("%s: windows of %d -G periods: %s" % (p, len(per), sorted(per)))
        if limit and size - last > limit:
            raise Bad("%s: %d bytes, %d before its last batch: past -C %d" % (p, size, size - last, limit))
        if i + 1 < len(files):
            nxt = files[i + 1][2]
            if nxt[0][0] != bs[-1][0] + 1:
                raise Bad("%s starts at batch %d, %s ends at %d" % (files[i + 1][1], nxt[0][0], p, bs[-1][0]))
            same = secs and period(nxt[0][1]) == period(bs[-1][1])
            if (not secs or same) and limit and size <= limit:
                raise Bad("%s: a new file after it within its period, at %d <= -C %d" % (p, size, limit))


def cmd_live(a):
    def read_once(what):
        rows = []
        for n, x in enumerate(zcat(a.file, live=True).splitlines(), 1):
            try:
                rows.append(("%s line %d" % (what, n), json.loads(x)))
            except ValueError:
                raise Bad("%s line %d is not JSON: %r" % (what, n, x[:200]))
        return file_batches(what, rows, a)

    if not a.repeat_for:
        print(len(read_once(a.file + " (zcat)")))
        return
    # zcat again and again while it is written: whole batches each time,
    # never fewer than the time before
    end = time.monotonic() + a.repeat_for
    reads = prev = 0
    while time.monotonic() < end:
        if not os.path.exists(a.file) or not os.path.getsize(a.file):
            time.sleep(0.01)
            continue
        bs = read_once("%s (zcat, read %d)" % (a.file, reads + 1))
        if len(bs) < prev:
            raise Bad("zcat read %d batches after %d" % (len(bs), prev))
        prev = len(bs)
        reads += 1
    print(reads, prev)


# ---- nfdump -----------------------------------------------------------------

def nf_key(proto, src, dst, sp, dp, first_ms, last_ms, pk, by):
    return (proto, ipaddress.ip_address(src), ipaddress.ip_address(dst), sp, dp, first_ms, last_ms, pk, by)


def nf_ms(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return round(d.timestamp() * 1000)


def cmd_nfdump(a):
    want = collections.Counter()
    for _, members in read_run(a.out, a):
        for o in members:
            if o["type"] != "flow" or o.get("rest") or o.get("overflow"):
                continue
            if "icmp_type" in o:  # a collector keeps type and code as type * 256 + code
                sp, dp = 0, o["icmp_type"] * 256 + o["icmp_code"]
            else:
                sp, dp = o.get("src_port", 0), o.get("dst_port", 0)
            want[nf_key(o.get("proto", 0), o.get("src_addr", "0.0.0.0"), o.get("dst_addr", "0.0.0.0"),
                        sp, dp, o["time_flow_start_ns"] // 10**6, o["time_flow_end_ns"] // 10**6,
                        o["packets"], o["bytes"])] += 1
    with open(a.nfdump) as f:
        text = f.read().strip()
    try:
        recs = json.loads(text if text.startswith("[") else "[" + text.rstrip(",") + "]")
    except ValueError as e:
        raise Bad("%s is not nfdump's JSON: %s" % (a.nfdump, e))
    got = collections.Counter()
    for r in recs:
        if r.get("type") != "FLOW":
            continue
        # a record without addresses (not IP) has none in nfdump's JSON
        src = r.get("src4_addr", r.get("src6_addr", "0.0.0.0"))
        dst = r.get("dst4_addr", r.get("dst6_addr", "0.0.0.0"))
        if "icmp_type" in r:
            sp, dp = 0, r["icmp_type"] * 256 + r["icmp_code"]
        else:
            sp, dp = r.get("src_port", 0), r.get("dst_port", 0)
        got[nf_key(r.get("proto", 0), src, dst, sp, dp, nf_ms(r["first"]), nf_ms(r["last"]),
                   r["in_packets"], r["in_bytes"])] += 1
    v6 = sum(n for k, n in want.items() if k[1].version == 6)
    if want != got or v6 < a.min_ipv6 or sum(want.values()) < a.min_rows:
        diff = ["only in flowbatch: %s" % (k,) for k in want - got] + \
               ["only in nfdump: %s" % (k,) for k in got - want]
        raise Bad("flow rows %d (IPv6 %d), nfdump records %d; expected at least %d rows, %d IPv6%s" %
                  (sum(want.values()), v6, sum(got.values()), a.min_rows, a.min_ipv6,
                   "".join("; " + x for x in diff)[:3000]))
    print("nfdump: %d records equal flowbatch's %d flow rows (%d IPv6)" %
          (sum(got.values()), sum(want.values()), v6))


# ---- command line -------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(prog="fbcheck.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    v = sub.add_parser("value")
    s = sub.add_parser("stopped")
    f = sub.add_parser("files")
    lv = sub.add_parser("live")
    nf = sub.add_parser("nfdump")
    for p in (c, v, s, f, lv, nf):
        p.add_argument("--allow-lost", action="store_true")
        p.add_argument("--allow-parse-errors", action="store_true")
    for p in (c, v, s, nf):
        p.add_argument("out")
    c.add_argument("--flow", action="append", default=[])
    c.add_argument("--row", action="append", default=[])
    c.add_argument("--every", action="append", default=[])
    c.add_argument("--batches", type=parse_range)
    c.add_argument("--last-partial", choices=["true", "false"])
    c.add_argument("--last", action="append", default=[])
    c.add_argument("--absent", default="")
    c.add_argument("--max-other", type=int)
    c.add_argument("--seen", type=int)
    c.add_argument("--min-lost", type=int)
    c.add_argument("--unique", default="")
    c.add_argument("--masked", action="append", default=[])
    c.add_argument("--events")
    c.add_argument("--events-only", action="store_true")
    c.add_argument("--ifaces")
    c.add_argument("--ifaces-seen", action="append", default=[])
    c.add_argument("--summary")
    c.add_argument("--print", action="store_true")
    v.add_argument("agg")
    v.add_argument("spec", nargs="?", default="")
    for k in ("--stop-ms", "--cont-ms", "--send-end-ms"):
        s.add_argument(k, type=int, required=True)
    s.add_argument("--interval-ms", type=int, default=250)
    f.add_argument("--stdout", required=True)
    f.add_argument("--stdout-cut", action="store_true")
    f.add_argument("--drops", type=int, default=0)
    f.add_argument("--keep-last", action="store_true")
    f.add_argument("--cut-end", type=int)
    f.add_argument("--live", action="store_true")
    f.add_argument("--gaps", action="store_true")
    f.add_argument("-G", dest="secs", type=int, default=0)
    f.add_argument("-C", dest="bytes", type=int, default=0)
    f.add_argument("files", nargs="+")
    lv.add_argument("--repeat-for", type=float, default=0)
    lv.add_argument("file")
    nf.add_argument("nfdump")
    nf.add_argument("--min-rows", type=int, default=1)
    nf.add_argument("--min-ipv6", type=int, default=0)
    a = ap.parse_args()
    if a.cmd == "check" and a.min_lost is not None:
        a.allow_lost = True
    try:
        {"check": cmd_check, "value": cmd_value, "stopped": cmd_stopped, "files": cmd_files,
         "live": cmd_live, "nfdump": cmd_nfdump}[a.cmd](a)
    except (Bad, OSError) as e:
        print("fbcheck %s: %s" % (a.cmd, e), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

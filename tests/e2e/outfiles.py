#!/usr/bin/env python3
"""Checks of flowbatch's -w files for the end-to-end tests (t_out_*.sh);
standard library only, plus zcat and jq as a user would read the files.

A file is read by its name: NAME.jsonl with jq (and Python's json for the
values: jq 1.6 rounds the 19-digit *_ns fields), NAME.jsonl.gz with zcat first, NAME.csv with Python's csv module, NAME.csv.gz with zcat
and the csv module. CSV cells become JSON values again (empty cell: no such
field; integers, floats, true/false; the ifaces cell holds a JSON object),
so rows of every format compare as dicts.

outfiles.py union --stdout OUT [--drops N] FILE...
  The files of one output, in any order: each holds whole batches (it begins
  with a row of its first batch, ends with a batch row, each batch's rows end
  with its batch row, one CSV header on top), no batch is in two files, and
  together, in order of their batches, they equal the stdout JSON Lines OUT
  row for row, except exactly N whole batches (--drops, default 0) missing.
  --keep-last: any number missing, but only the oldest (-W removed them);
  --cut-end M: at most M missing, only the newest (a SIGKILL cut them);
  --live: a gzip file may end in a member not yet whole (not counted);
  --gaps: batches may be missing inside a file (a stream such as stdout,
  whose writer dropped batches), not only between files.
  Prints a line of totals.

outfiles.py rotation [--secs G] [--bytes C] FILE...
  -G: no file holds windows of two wall-clock periods of G seconds (UTC);
  -C: no file went on past C bytes (only its last batch may take it past),
  and a file that ends within a period ended because it passed C. With gzip,
  each batch is one gzip member (the first also holds a CSV header).

outfiles.py live [--repeat-for SECS] FILE
  zcat FILE (it may still be written, or be cut by a SIGKILL) prints whole
  batches only: rows of consecutive batches, each closed by its batch row.
  Prints the number of whole batches read. --repeat-for: zcat it again and
  again for SECS while it is written, each time whole batches and never
  fewer than before; prints the number of reads and of batches.

Exit status 0 when every check holds, 1 with a one-line reason otherwise.
"""
import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys
import time
import zlib


class Bad(Exception):
    pass


INT = re.compile(r"^-?\d+$")
FLOAT = re.compile(r"^-?\d+\.\d+$")


def cell(name, s):
    if name == "ifaces":
        return json.loads(s)
    if INT.match(s):
        return int(s)
    if FLOAT.match(s):
        return float(s)
    if s in ("true", "false"):
        return s == "true"
    return s


def zcat(path, live=False):
    p = subprocess.run(["zcat", path], capture_output=True)
    # a live or killed file may end in a member not yet whole: zcat says
    # "trailing garbage ignored" (exit 2) and prints only the whole ones
    if p.returncode != 0 and not (live and p.returncode == 2):
        raise Bad(f"zcat {path}: exit {p.returncode}: {p.stderr.decode().strip()}")
    return p.stdout.decode()


def jq(text, path):
    # jq checks every line is JSON, and picks the batch rows as a user
    # would; the values are compared as Python reads them (jq 1.6 rounds
    # integers past 2^53, such as the *_ns times, to doubles)
    p = subprocess.run(["jq", "-c", 'select(.type == "batch") | .batch'], input=text.encode(),
                       capture_output=True)
    if p.returncode != 0:
        raise Bad(f"jq cannot read {path}: {p.stderr.decode().strip()}")
    rows = [json.loads(line) for line in text.splitlines()]
    if [int(x) for x in p.stdout.split()] != [r["batch"] for r in rows if r.get("type") == "batch"]:
        raise Bad(f"{path}: jq and Python read different batch rows")
    return rows


def kind(path):
    """the name as flowbatch wrote it: without a number logrotate added"""
    return re.sub(r"\.\d+$", "", path)


def parse(path, text):
    name = kind(path)
    name = name[:-3] if name.endswith(".gz") else name
    if name.endswith(".jsonl"):
        return jq(text, path)
    if name.endswith(".csv"):
        rd = csv.reader(io.StringIO(text, newline=""))
        head = next(rd, None)
        if not head or head[0] != "type":
            raise Bad(f"{path}: no CSV header line")
        rows = []
        for r in rd:
            if len(r) != len(head):
                raise Bad(f"{path}: a row has {len(r)} cells, the header {len(head)}: {r}")
            if r[0] == "type":
                raise Bad(f"{path}: a second header line")
            rows.append({k: cell(k, v) for k, v in zip(head, r) if v != ""})
        return rows
    raise Bad(f"{path}: not a file name flowbatch writes")


def read(path, live=False):
    if kind(path).endswith(".gz"):
        return parse(path, zcat(path, live))
    with open(path, newline="") as f:
        return parse(path, f.read())


def batches(rows, what, gaps=False):
    """[(batch number, [rows])] of whole batches; raises unless whole (and,
    unless gaps, consecutive)"""
    out, cur = [], []
    for r in rows:
        cur.append(r)
        if r.get("batch") != cur[0].get("batch"):
            raise Bad(f"{what}: batch {cur[0].get('batch')} has a row of batch {r.get('batch')} "
                      "before its batch row")
        if r.get("type") == "batch":
            out.append((r["batch"], cur))
            cur = []
    if cur:
        raise Bad(f"{what}: ends inside batch {cur[0].get('batch')} ({len(cur)} rows after the "
                  "last batch row)")
    for (a, _), (b, _) in zip(out, out[1:]):
        if b <= a or (b != a + 1 and not gaps):
            raise Bad(f"{what}: batch {b} follows batch {a}")
    return out


def stdout_rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cmd_union(a):
    want = batches(stdout_rows(a.stdout), a.stdout)
    got = {}
    for p in a.files:
        bs = batches(read(p, a.live), p, a.gaps)
        if not bs:
            raise Bad(f"{p}: holds no batch")
        for n, rows in bs:
            if n in got:
                raise Bad(f"batch {n} is in {got[n][0]} and in {p}")
            got[n] = (p, rows)
    missing = []
    rows = 0
    for n, rows_out in want:
        if n not in got:
            missing.append(n)
            continue
        p, rows_file = got[n]
        if rows_file != rows_out:
            for x, y in zip(rows_file, rows_out):
                if x != y:
                    raise Bad(f"batch {n} differs in {p}: {json.dumps(x)} vs stdout {json.dumps(y)}")
            raise Bad(f"batch {n}: {len(rows_file)} rows in {p}, {len(rows_out)} on stdout")
        rows += len(rows_file)
    extra = sorted(set(got) - {n for n, _ in want})
    if extra:
        raise Bad(f"batches {extra} are in files but not on stdout")
    numbers = [n for n, _ in want]
    if a.keep_last:
        if missing != numbers[:len(missing)]:
            raise Bad(f"batches {missing[:20]} missing from the files: not the oldest ones")
    elif a.cut_end is not None:
        if missing != numbers[len(numbers) - len(missing):] or len(missing) > a.cut_end:
            raise Bad(f"batches {missing[:20]} missing from the files: more than the last "
                      f"{a.cut_end}")
    elif len(missing) != a.drops:
        raise Bad(f"{len(missing)} batches missing from the files ({missing[:20]}), expected {a.drops}")
    print(f"{len(a.files)} files, {len(got)} batches, {rows} rows equal to stdout; missing {missing}")


def members(path):
    """byte sizes of the gzip members of path"""
    data = open(path, "rb").read()
    sizes = []
    while data:
        d = zlib.decompressobj(31)
        d.decompress(data)
        if not d.eof:
            raise Bad(f"{path}: ends inside a gzip member")
        sizes.append(len(data) - len(d.unused_data))
        data = d.unused_data
    return sizes


def cmd_rotation(a):
    files = []
    for p in a.files:
        bs = batches(read(p), p)
        if not bs:
            raise Bad(f"{p}: holds no batch")
        size = os.path.getsize(p)
        if p.endswith(".gz"):
            ms = members(p)
            if len(ms) != len(bs):
                raise Bad(f"{p}: {len(ms)} gzip members for {len(bs)} batches")
            last = ms[-1]
        else:
            # the last batch's lines as they are in the file
            text = open(p, newline="").read()
            n = len(bs[-1][1])
            lines = text.splitlines(keepends=True)
            last = sum(len(x.encode()) for x in lines[-n:])
            if len(bs) == 1:
                last = size
        files.append((bs[0][0], p, bs, size, last))
    files.sort()
    for i, (first, p, bs, size, last) in enumerate(files):
        if a.secs:
            per = {r[-1]["start_ms"] // 1000 // a.secs for _, r in bs}
            if len(per) != 1:
                raise Bad(f"{p}: windows of {len(per)} -G periods: {sorted(per)}")
        if a.bytes and size - last > a.bytes:
            raise Bad(f"{p}: {size} bytes, {size - last} before its last batch: past -C {a.bytes}")
        if i + 1 < len(files):
            nxt = files[i + 1][2]
            if nxt[0][0] != bs[-1][0] + 1:
                raise Bad(f"{files[i + 1][1]} starts at batch {nxt[0][0]}, {p} ends at {bs[-1][0]}")
            same = a.secs and (nxt[0][1][-1]["start_ms"] // 1000 // a.secs ==
                               bs[-1][1][-1]["start_ms"] // 1000 // a.secs)
            if (not a.secs or same) and a.bytes and size <= a.bytes:
                raise Bad(f"{p}: a new file after it within its period, at {size} <= -C {a.bytes}")
    print(f"{len(files)} files, rotation rules hold")


def cmd_live(a):
    if not a.repeat_for:
        print(len(batches(read(a.file, live=True), a.file + " (zcat)")))
        return
    # zcat again and again while it is written: whole batches each time,
    # never fewer than the time before
    end = time.monotonic() + a.repeat_for
    reads = prev = 0
    while time.monotonic() < end:
        if not os.path.exists(a.file) or not os.path.getsize(a.file):
            time.sleep(0.01)
            continue
        text = zcat(a.file, live=True)
        bs = batches([json.loads(x) for x in text.splitlines()], f"{a.file} (zcat, read {reads + 1})")
        if len(bs) < prev:
            raise Bad(f"zcat read {len(bs)} batches after {prev}")
        prev = len(bs)
        reads += 1
    print(reads, prev)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("union")
    u.add_argument("--stdout", required=True)
    u.add_argument("--drops", type=int, default=0)
    u.add_argument("--keep-last", action="store_true")
    u.add_argument("--cut-end", type=int)
    u.add_argument("--live", action="store_true")
    u.add_argument("--gaps", action="store_true")
    u.add_argument("files", nargs="+")
    r = sub.add_parser("rotation")
    r.add_argument("--secs", type=int, default=0)
    r.add_argument("--bytes", type=int, default=0)
    r.add_argument("files", nargs="+")
    lv = sub.add_parser("live")
    lv.add_argument("--repeat-for", type=float, default=0)
    lv.add_argument("file")
    a = ap.parse_args()
    try:
        {"union": cmd_union, "rotation": cmd_rotation, "live": cmd_live}[a.cmd](a)
    except Bad as e:
        print(f"outfiles.py {a.cmd}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

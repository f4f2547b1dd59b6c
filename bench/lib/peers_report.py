#!/usr/bin/env python3
"""peers_report.py - the tables and verdicts of bench/peers_bench.sh (arithmetic and formatting only).

Usage: peers_report.py WORKDIR
Reads what peers_bench.sh measured in WORKDIR:
  params.tsv   KEY<TAB>VALUE: command, mode, rate, bytes, nodes, kernel, cores, ... (see peers_bench.sh)
  results.tsv  one run a line: ID METHOD VARIANT N STATUS WALL LABEL NOTE
               (STATUS: ok, FAILED or skipped; WALL: seconds from the first process's start until the
               last receiver exited)
  cpu.tsv      one measured process a line: ID NAME ROLE CPU (ROLE: sender, hop, last; CPU: user+sys s,
               or "-" when /usr/bin/time left no usable line)
Prints markdown on stdout. Exit status 0 (the bench decides its own).
"""
import os
import sys

GIB = float(1 << 30)


def read_tsv(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    rows.append(line.split("\t"))
    except OSError:
        pass
    return rows


def fmt(x, spec="%.2f"):
    return "n/a" if x is None else spec % x


class Run:
    def __init__(self, row):
        (self.id, self.method, self.variant, n, self.status, wall, self.label, self.note) = (row + [""] * 8)[:8]
        self.n = int(n)
        self.wall = float(wall) if self.status == "ok" and wall not in ("", "-") else None
        self.cpu = []   # (name, role, seconds or None)

    def ok(self):
        return self.status == "ok" and self.wall is not None

    def role_cpu(self, role):
        return [c for _, r, c in self.cpu if r == role]

    def all_known(self):
        return bool(self.cpu) and all(c is not None for _, _, c in self.cpu)

    def total(self):
        return sum(c for _, _, c in self.cpu) if self.all_known() else None

    def role_sum(self, role):
        v = self.role_cpu(role)
        return sum(v) if v and None not in v else None

    def role_avg(self, role):
        v = self.role_cpu(role)
        return sum(v) / len(v) if v and None not in v else None

    def max_receiver(self):
        v = self.role_cpu("hop") + self.role_cpu("last")
        return max(v) if v and None not in v else None


def main():
    w = sys.argv[1]
    p = dict((r + [""])[:2] for r in read_tsv(os.path.join(w, "params.tsv")))
    nbytes = int(p["bytes"])
    gib = nbytes / GIB
    mib = nbytes / float(1 << 20)
    runs = [Run(r) for r in read_tsv(os.path.join(w, "results.tsv"))]
    by_id = {r.id: r for r in runs}
    for row in read_tsv(os.path.join(w, "cpu.tsv")):
        rid, name, role, cpu = (row + [""] * 4)[:4]
        if rid in by_id:
            by_id[rid].cpu.append((name, role, float(cpu) if cpu not in ("", "-") else None))

    def per_gib(x):
        return None if x is None else x / gib

    onecopy = next((r for r in runs if r.method == "onecopy"), None)
    base = onecopy.wall if onecopy and onecopy.ok() else None
    nodes = [int(x) for x in p["nodes"].split()]
    shaped = p["mode"] == "shaped"

    print()
    print(f"## ka and its peers, one run on one bed ({'links shaped to ' + p['rate'] if shaped else 'unshaped links'})")
    print()
    print("Command: `" + p["command"] + "`")
    if p.get("env"):
        print("Environment: `" + p["env"] + "`")
    print()
    print(f"Bed: tests/lib/bed.sh, h0 (sender) + h1..h{max(nodes)} in network namespaces on one bridge, "
          + (f"every link shaped to {p['rate']} both ways (tc tbf)" if shaped else "no shaping (veth speed: CPU-bound)")
          + f"; N = {p['nodes']}; {mib:.0f} MiB of random data; every receiver writes to /dev/null. "
          f"Kernel {p['kernel']}, {p['cores']} cores ({p['cpu']}), tcp {p['cc']}, load average at start "
          f"{p['load']}; ka {p['ka_version']}; {p['date']}.")
    print("Wall s: from the start of the method's first process until its last receiver exited. "
          "vs one copy: one-copy seconds / wall s. CPU: user+sys (/usr/bin/time) of every process of the "
          f"method, per GiB of the stream (not per GiB delivered). socat runs as `{p.get('socat', 'socat')}`.")

    order = {"onecopy": 0, "floor": 1, "kadeploy": 2, "ka": 3, "udpcast": 4}

    def row_sort(r):
        return (order.get(r.method, 9), runs.index(r))

    for n in nodes:
        rows = sorted([r for r in runs if r.n == n and r.method != "onecopy"], key=row_sort)
        if onecopy:
            rows = [onecopy] + rows
        print()
        print(f"### N = {n}")
        print()
        print("| method | wall s | vs one single-link copy | CPU-s per GiB, all processes | every byte to every receiver |")
        print("|---|---:|---:|---:|---|")
        for r in rows:
            if r.status == "skipped":
                print(f"| {r.label} | skipped | | | {r.note} |")
            elif not r.ok():
                print(f"| {r.label} | FAILED | | {fmt(per_gib(r.total()), '%.1f')} | **no**: {r.note} |")
            else:
                ratio = base / r.wall if base else None
                print(f"| {r.label} | {r.wall:.2f} | {fmt(ratio)} | {fmt(per_gib(r.total()), '%.1f')} | yes{(': ' + r.note) if r.note else ''} |")
        print()
        print("CPU-s per GiB by role (hop: a node that forwards, average and highest; last: the chain's tail, "
              "or every receiver of a star; max: the costliest receiver):")
        print()
        print("| method | sender | forwarding hop avg | hop max | last node | max per receiver | all processes |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            if r.status == "skipped" or not r.cpu:
                continue
            hops = r.role_cpu("hop")
            hop_avg = fmt(per_gib(r.role_avg("hop"))) if hops else "-"
            hop_max = fmt(per_gib(max(hops)) if None not in hops else None) if hops else "-"
            print(f"| {r.label}{'' if r.ok() else ' (FAILED)'} | {fmt(per_gib(r.role_sum('sender')))} | {hop_avg} | "
                  f"{hop_max} | {fmt(per_gib(r.role_avg('last')))} | {fmt(per_gib(r.max_receiver()))} | "
                  f"{fmt(per_gib(r.total()))} |")

    # per-node throughput against the floor's, every N (the unshaped mode's question, printed in both)
    floor = {r.n: r for r in runs if r.method == "floor"}
    others = [r for r in runs if r.method not in ("floor", "onecopy") and r.status != "skipped"]
    keys = []
    for r in sorted(others, key=row_sort):
        if (r.method, r.variant) not in keys:
            keys.append((r.method, r.variant))
    if floor and keys:
        print()
        print("Per-node throughput (MiB/s every receiver got: size / wall s) and its ratio to the floor's at the same N:")
        print()
        print("| method | " + " | ".join(f"N = {n}: MiB/s | vs floor" for n in nodes) + " |")
        print("|---|" + "---:|---:|" * len(nodes))

        def cell(r, n):
            if r is None:
                return "- | -"
            if not r.ok():
                return "FAILED | -"
            f = floor.get(n)
            rel = (f.wall / r.wall) if f is not None and f.ok() else None
            return f"{mib / r.wall:.1f} | {fmt(rel)}"

        label = {}
        for r in runs:
            label[(r.method, r.variant)] = r.label
        print(f"| {next(iter(floor.values())).label} | " + " | ".join(cell(floor.get(n), n) for n in nodes) + " |")
        for k in keys:
            rs = {r.n: r for r in others if (r.method, r.variant) == k}
            print(f"| {label[k]} | " + " | ".join(cell(rs.get(n), n) for n in nodes) + " |")

    # verdicts on the judged criteria
    print()
    print("### Verdicts")
    print()

    def find(method, variant, n):
        return next((r for r in runs if r.method == method and r.variant == variant and r.n == n), None)

    def verdict(ok, text):
        print(f"- {'PASS' if ok else 'FAIL'}: {text}")

    def na(text):
        print(f"- n/a: {text}")

    if shaped:
        jn = 8 if 8 in nodes else max(nodes)
        if not (jn == 8 and p["rate"] == "1gbit" and nbytes == 1 << 30):
            print(f"The criteria are set for 1 GiB to N = 8 at 1gbit; this run: {mib:.0f} MiB to N = {jn} at {p['rate']}.")
            print()
        ka = find("ka", "default", jn)
        if ka is None:
            na("ka send with its defaults did not run (add 'default' to the variants)")
        elif not ka.ok():
            verdict(False, f"ka send with its defaults at N = {jn} FAILED ({ka.note}): every criterion fails")
        else:
            if base:
                verdict(base / ka.wall >= 0.95, f"ka default at N = {jn}: {base / ka.wall:.2f} of the one-copy speed "
                        f"(one copy {base:.2f} s, ka {ka.wall:.2f} s; need >= 0.95)")
            else:
                na("ka default vs one copy: the one-copy run failed or did not run")
            for method, need, name in (("kadeploy", 1.2, "ka-deploy"), ("udpcast", 4.0, "udpcast")):
                peer = find(method, "", jn)
                if peer is None or peer.status == "skipped":
                    na(f"ka default vs {name}: {name} did not run" + (f" ({peer.note})" if peer else ""))
                elif not peer.ok():
                    na(f"ka default vs {name}: {name} FAILED ({peer.note})")
                else:
                    x = peer.wall / ka.wall
                    verdict(x >= need, f"ka default at N = {jn}: {x:.2f}x {name}'s speed ({name} {peer.wall:.2f} s, "
                            f"ka {ka.wall:.2f} s; need >= {need}x)")
            mr, sd = per_gib(ka.max_receiver()), per_gib(ka.role_sum("sender"))
            if mr is None:
                na("ka default CPU per receiver: not measured")
            else:
                verdict(mr <= 1.0, f"ka default at N = {jn}: costliest receiver {mr:.2f} CPU-s per GiB "
                        f"(hop avg {fmt(per_gib(ka.role_avg('hop')))}, last {fmt(per_gib(ka.role_avg('last')))}; need <= 1.0)")
            if sd is None:
                na("ka default CPU of the sender: not measured")
            else:
                verdict(sd <= 1.0, f"ka default at N = {jn}: sender {sd:.2f} CPU-s per GiB (need <= 1.0)")
        d, s = find("ka", "default", jn), find("ka", "nosecret", jn)
        if d is not None and s is not None:
            def desc(r):
                if not r.ok():
                    return "FAILED"
                return (f"{r.wall:.2f} s ({fmt(base / r.wall if base else None)} of one copy), "
                        f"CPU-s per GiB: sender {fmt(per_gib(r.role_sum('sender')))}, hop {fmt(per_gib(r.role_avg('hop')))}, "
                        f"last {fmt(per_gib(r.role_avg('last')))}")
            print(f"- secret, N = {jn}: with --secret-file {desc(d)}; without {desc(s)}")
    else:
        ka, fl = find("ka", "default", 4), floor.get(4)
        if ka is None or fl is None:
            na("unshaped N = 4: needs ka default and the floor at N = 4 (--nodes with 4)")
        elif not fl.ok():
            na(f"unshaped N = 4: the floor FAILED ({fl.note})")
        elif not ka.ok():
            verdict(False, f"unshaped N = 4: ka default FAILED ({ka.note})")
        else:
            x = fl.wall / ka.wall
            verdict(x >= 0.8, f"unshaped N = 4: ka default {mib / ka.wall:.1f} MiB/s per node, {x:.2f} of the floor's "
                    f"{mib / fl.wall:.1f} (need >= 0.8)")
    failed = [r.label + (f" N = {r.n}" if r.method != "onecopy" else "") for r in runs if r.status == "FAILED"]
    if failed:
        print(f"- FAILED runs (not delivered or not measured): {', '.join(failed)}")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

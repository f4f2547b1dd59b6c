#!/usr/bin/env python3
"""swarm_report.py - the table of bench/swarm_bench.sh (arithmetic and formatting only).

Usage: swarm_report.py WORKDIR
Reads what swarm_bench.sh measured in WORKDIR (the files of bench/lib/runs.bash):
  params.tsv   KEY<TAB>VALUE: command, rate, rate_mbit, bytes, nodes, load, ...
  results.tsv  ID METHOD VARIANT N STATUS WALL LABEL NOTE, one run a line
  cpu.tsv      ID NAME ROLE CPU (user+sys seconds, "-" when unknown), one process a line
  done.tsv     ID NAME MICROSECONDS: when receiver NAME finished, from the run's start
The one-copy run of the bed of N is "onecopy-nN". Prints markdown on stdout; exit status 0.
"""
import os
import sys

GIB = float(1 << 30)
MIB = float(1 << 20)


def read_tsv(path):
    try:
        with open(path) as f:
            return [line.rstrip("\n").split("\t") for line in f if line.strip()]
    except OSError:
        return []


def fmt(x, spec="%.2f"):
    return "n/a" if x is None else spec % x


def main():
    w = sys.argv[1]
    p = {}
    for row in read_tsv(os.path.join(w, "params.tsv")):
        p[row[0]] = row[1] if len(row) > 1 else ""
    nbytes = int(p["bytes"])
    gib, mib = nbytes / GIB, nbytes / MIB
    link_mib_s = int(p["rate_mbit"]) * 1e6 / 8 / MIB
    runs = [(r + [""] * 8)[:8] for r in read_tsv(os.path.join(w, "results.tsv"))]
    cpu, done = {}, {}
    for rid, name, role, c in ((r + [""] * 4)[:4] for r in read_tsv(os.path.join(w, "cpu.tsv"))):
        cpu.setdefault(rid, []).append((name, role, None if c in ("", "-") else float(c)))
    for rid, name, us in ((r + [""] * 3)[:3] for r in read_tsv(os.path.join(w, "done.tsv"))):
        done.setdefault(rid, []).append(int(us) / 1e6)
    walls = {r[0]: float(r[5]) for r in runs if r[4] == "ok"}

    print()
    print(f"## A BitTorrent swarm against ka's chain, {mib:.0f} MiB over {p['rate']} links")
    print()
    print("Command: `" + p["command"] + "`" + (f" (env: `{p['env']}`)" if p.get("env") else ""))
    print()
    print(f"One bed per N (tests/lib/bed.sh: h0 = sender, h1..hN on one bridge, every link {p['rate']} both "
          f"ways, tc tbf); {mib:.0f} MiB of random data; each method from a fresh start. ka and socat "
          f"receivers write to /dev/null, the swarm's leechers to tmpfs. libtorrent-rasterbar {p['libtorrent']}, "
          f"v1 torrent, {int(p['piece']) >> 20} MiB pieces, each leecher given the seed and up to "
          f"{p['swarm_peers']} other leechers. Kernel {p['kernel']}, {p['cores']} cores ({p['cpu']}), "
          f"tcp {p.get('cc', '?')}; ka {p['ka_version']}; {p['date']}. Load average (1, 5, 15 min) at the "
          f"start {p['load']}, at the end {p.get('load_end', '?')}.")
    print()
    print("wall s: from the method's first process start until its last receiver finished (ka, socat: "
          "exited; a leecher: printed `done`). first / spread: when the first receiver finished, and the "
          "last minus the first. per-node MiB/s: size / wall s; / link: that over the link rate "
          f"({link_mib_s:.2f} MiB/s). CPU: user+sys per GiB of the stream: the sender, the average "
          "receiver, all processes; bed CPU: all processes' CPU-s / (wall s x cores), how near the "
          "machine (every node of the bed shares its cores) was to being the bottleneck.")
    print()
    print("| method | N | wall s | vs one copy | per-node MiB/s | / link | first done s | spread s "
          "| CPU-s/GiB sender | avg receiver | all | bed CPU | every byte to every receiver |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    eff = {}
    for rid, method, _variant, n, status, wall, label, note in runs:
        bed_n = int(rid.rsplit("-n", 1)[1]) if "-n" in rid else int(n)
        procs = cpu.get(rid, [])
        sender = [c for nm, _, c in procs if not nm.startswith("node")]
        recv = [c for nm, _, c in procs if nm.startswith("node")]
        s_cpu = sum(sender) / gib if sender and None not in sender else None
        r_cpu = sum(recv) / len(recv) / gib if recv and None not in recv else None
        a_cpu = (sum(sender) + sum(recv)) / gib if procs and None not in sender + recv else None
        name = label
        if status == "skipped":
            print(f"| {name} | {bed_n} | skipped | | | | | | | | | | {note} |")
            continue
        if status != "ok":
            print(f"| {name} | {bed_n} | FAILED | | | | | | {fmt(s_cpu)} | {fmt(r_cpu)} | {fmt(a_cpu)} | | **no**: {note} |")
            continue
        wall = float(wall)
        base = walls.get(f"onecopy-n{bed_n}")
        d = sorted(done.get(rid, []))
        first, spread = (d[0], d[-1] - d[0]) if d else (None, None)
        per_node = mib / wall
        busy = a_cpu * gib / wall / int(p["cores"]) if a_cpu is not None else None
        eff[(method, bed_n)] = per_node / link_mib_s
        print(f"| {name} | {bed_n} | {wall:.2f} | {fmt(base / wall if base else None)} | {per_node:.2f} | "
              f"{per_node / link_mib_s:.3f} | {fmt(first)} | {fmt(spread)} | {fmt(s_cpu)} | {fmt(r_cpu)} | "
              f"{fmt(a_cpu)} | {fmt(busy)} | yes{(': ' + note) if note else ''} |")
    swarm = sorted((n, e) for (m, n), e in eff.items() if m == "swarm")
    if swarm:
        print()
        print("Swarm efficiency (per-node throughput / link rate, the simulator's input): "
              + ", ".join(f"N = {n}: {e:.3f}" for n, e in swarm)
              + "; ka's chain at the same N: "
              + ", ".join(f"N = {n}: {eff[('ka', n)]:.3f}" for n, _ in swarm if ("ka", n) in eff) + ".")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

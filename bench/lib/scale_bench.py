#!/usr/bin/env python3
"""scale_bench.py - the measuring half of bench/scale_bench.sh (the shell runs the bed).

Subcommands:
  faults N                     the default fault SPEC for N nodes (printed on stdout)
  check-spec SPEC N            exit 1 (with a message) unless SPEC is valid for N nodes
  monitor ARGS                 runs beside one session: reads the sender's log as it grows, injects
                               the faults at their time after the stream's first byte, samples the
                               last survivor's output every --interval s; writes a JSON file
  analyze RUNDIR               one run's numbers from its files (+ the simulator's prediction):
                               writes RUNDIR/result.json, prints a short summary
  table WORKDIR                the markdown tables of every RUNDIR/result.json under WORKDIR/runs
  simonly ARGS                 only the simulator, with given startup / detection / CPU per role

Fault SPEC: comma separated KIND:POS@T, KIND kill or freeze, POS the node's 1-based position in the
first chain (nodes are ordered by IPv4 address: h<i> is position i), T seconds after the stream's
first byte (the sender's first "feeding ... from stream position 0" log line). "none" or "": no fault.
"""
import datetime
import json
import math
import os
import re
import signal
import subprocess
import sys
import time

GIB = float(1 << 30)
MIB = float(1 << 20)


# ---------------------------------------------------------------- faults
def parse_spec(spec):
    faults = []
    spec = (spec or "").strip()
    if spec in ("", "none"):
        return faults
    for item in spec.split(","):
        m = re.fullmatch(r"\s*(kill|freeze):(\d+)@(\d+(?:\.\d+)?)\s*", item)
        if not m:
            raise ValueError(f"bad fault '{item}' (want kill:POS@SECONDS or freeze:POS@SECONDS)")
        faults.append({"kind": m.group(1), "pos": int(m.group(2)), "at_s": float(m.group(3))})
    return faults


def default_spec(n):
    """A few faults scaled to N: never the last node (it is the one whose stall is measured)."""
    def p(frac):
        return max(1, min(n - 1, int(math.ceil(frac * n))))
    if n < 4:
        return "none"
    if n < 16:      # 8: 1 kill + 1 freeze
        f = [("kill", p(0.35), 4), ("freeze", p(0.75), 8)]
    elif n < 64:    # 32: 2 kills + 1 freeze
        f = [("kill", p(0.15), 4), ("freeze", p(0.4), 6), ("kill", p(0.65), 9)]
    else:           # 100: 3 kills + 2 freezes
        f = [("kill", p(0.03), 4), ("freeze", p(0.2), 5), ("kill", p(0.5), 6), ("freeze", p(0.7), 8),
             ("kill", p(0.9), 9)]
    seen, out = set(), []
    for kind, pos, t in f:
        if pos not in seen:
            seen.add(pos)
            out.append(f"{kind}:{pos}@{t}")
    return ",".join(out)


def check_spec(spec, n):
    faults = parse_spec(spec)
    pos = [f["pos"] for f in faults]
    if any(x < 1 or x > n for x in pos):
        raise ValueError(f"a fault position is outside 1..{n}: {spec}")
    if len(set(pos)) != len(pos):
        raise ValueError(f"a node is hit twice: {spec}")
    if len(pos) >= n:
        raise ValueError(f"no survivor left: {spec}")
    return faults


# ---------------------------------------------------------------- the sender's log
LINE_RE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) ")


def log_epoch(line, t0):
    """Epoch seconds of a log line 'HH:MM:SS.mmm ...' (local time, the day of t0), or None."""
    m = LINE_RE.match(line)
    if not m:
        return None
    h, mi, s, ms = (int(x) for x in m.groups())
    day = datetime.datetime.fromtimestamp(t0).replace(hour=0, minute=0, second=0, microsecond=0)
    t = day.timestamp() + h * 3600 + mi * 60 + s + ms / 1000.0
    if t < t0 - 43200:
        t += 86400
    return t


class SenderLog:
    """What the bench needs from the sender's stderr log, parsed incrementally."""

    def __init__(self, path, t0):
        self.path, self.t0, self.off, self.buf = path, t0, 0, ""
        self.chains = []          # (t, epoch, [names])
        self.t_stream = None      # first "[send] feeding X from stream position 0"
        self.joins = []           # (t, name)
        self.done = {}            # name -> t
        self.failed = {}          # name -> (t, why)
        self.warnings = []        # (t, line): warn / error lines, for the report

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except OSError:
            return
        self.off += len(data)
        self.buf += data.decode("utf-8", "replace")
        *lines, self.buf = self.buf.split("\n")
        for line in lines:
            self._line(line)

    def _line(self, line):
        t = log_epoch(line, self.t0)
        if t is None:
            return
        # several chains fed at once are listed one after the other: "sender -> a -> b | sender -> c"
        m = re.search(r"\[send\] chain \(epoch (\d+)\): (sender(?: -> \S+)*(?: \| sender(?: -> \S+)*)*)", line)
        if m:
            names = [x for x in re.split(r" -> | \| ", m.group(2)) if x and x != "sender"]
            self.chains.append((t, int(m.group(1)), names))
            return
        if self.t_stream is None and re.search(r"\[send\] feeding \S+ from stream position 0\b", line):
            self.t_stream = t
            return
        m = re.search(r"\[send\] node (\S+) \(\S+\) joined: \d+/\d+", line)
        if m:
            self.joins.append((t, m.group(1)))
            return
        m = re.search(r"\[send\] node (\S+) done: ", line)
        if m:
            self.done[m.group(1)] = t
            return
        m = re.search(r"\[send\] node (\S+) FAILED at [^:]*: (.*)$", line)
        if m:
            self.failed.setdefault(m.group(1), (t, m.group(2)))
        if re.search(r"^\S+ (warn|error) ", line):
            self.warnings.append((t, line))

    def first_order(self):
        for _, epoch, names in self.chains:
            if epoch == 1:
                return names
        return self.chains[0][2] if self.chains else None



def successor_relink(rundir, log, victim, t_known, t0):
    """Seconds from a failure known (kill: its time; freeze: the sender's drop) to the victim's
    successor reading again from its new parent (its "receiving from ... from stream position" log
    line): the re-link the simulator takes as --relink (handshake, not the catch-up). None when the
    victim had no successor or the line is missing."""
    succ = None
    for t, _, names in log.chains:
        if t > t_known + 5:
            break
        if victim in names:
            k = names.index(victim)
            succ = names[k + 1] if k + 1 < len(names) else None
    if not succ:
        return None
    try:
        with open(os.path.join(rundir, f"{succ}.log.err"), errors="replace") as f:
            for line in f:
                if "receiving from" not in line or "from stream position" not in line:
                    continue
                t = log_epoch(line, t0)
                if t is not None and t >= t_known - 0.005:
                    return (succ, max(0.0, t - t_known))
    except OSError:
        pass
    return None

# ---------------------------------------------------------------- monitor
def real_ka_pid(pid):
    """The ka process under a wrapper PID (ip netns exec -> time -> timeout -> ka): first children."""
    p = pid
    for _ in range(8):
        try:
            with open(f"/proc/{p}/comm") as f:
                if f.read().strip() == "ka":
                    return p
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = f.read().split()
        except OSError:
            return None
        if not kids:
            return None
        p = int(kids[0])
    return None


def file_size(path):
    for p in (path + ".ka-incomplete", path):   # this order survives the final rename
        try:
            return os.stat(p).st_size
        except OSError:
            pass
    return 0


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def monitor(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="scale_bench.py monitor")
    ap.add_argument("--log", required=True)
    ap.add_argument("--t0", type=float, required=True)
    ap.add_argument("--wrappers", required=True, help="file of 'NAME WRAPPER_PID' lines")
    ap.add_argument("--faults", default="")
    ap.add_argument("--sample", required=True, help="--output PATH of the last survivor")
    ap.add_argument("--bytes", type=int, required=True)
    ap.add_argument("--sender-pid", type=int, required=True)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    log = SenderLog(a.log, a.t0)
    pending = parse_spec(a.faults)
    injected, samples, frozen = [], [], []
    wrappers = None
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    next_sample = time.time()
    sender_gone_at = None
    while not stop["now"]:
        now = time.time()
        log.poll()
        if pending and log.t_stream is not None:
            order = log.first_order() or []
            for f in [f for f in pending if now >= log.t_stream + f["at_s"]]:
                pending.remove(f)
                if wrappers is None:
                    wrappers = {}
                    with open(a.wrappers) as wf:
                        for line in wf:
                            name, pid = line.split()
                            wrappers[name] = int(pid)
                rec = dict(f)
                rec["name"] = order[f["pos"] - 1] if f["pos"] <= len(order) else None
                pid = real_ka_pid(wrappers.get(rec["name"], -1)) if rec["name"] else None
                rec["pid"] = pid
                rec["t"] = time.time()
                rec["last_size"] = file_size(a.sample)
                if pid is None:
                    rec["error"] = "ka process not found"
                else:
                    try:
                        os.kill(pid, signal.SIGKILL if f["kind"] == "kill" else signal.SIGSTOP)
                        if f["kind"] == "freeze":
                            frozen.append(pid)
                    except OSError as e:
                        rec["error"] = str(e)
                injected.append(rec)
        if now >= next_sample:
            samples.append((round(now, 4), file_size(a.sample)))
            next_sample += a.interval
            if next_sample < now:
                next_sample = now + a.interval
        if sender_gone_at is None and not alive(a.sender_pid):
            sender_gone_at = now
        if sender_gone_at is not None and (samples[-1][1] >= a.bytes or now - sender_gone_at > 2):
            break
        time.sleep(min(0.02, a.interval / 2))
    log.poll()
    samples.append((round(time.time(), 4), file_size(a.sample)))
    # the frozen nodes wake up once the sender has finished: they must exit by themselves
    woken = []
    for pid in frozen:
        try:
            os.kill(pid, signal.SIGCONT)
            woken.append(pid)
        except OSError:
            pass
    out = {"faults": injected, "not_injected": pending, "samples": samples, "woken": woken}
    with open(a.out, "w") as f:
        json.dump(out, f)
    return 0


# ---------------------------------------------------------------- analyze
def read_meta(rundir):
    meta = {}
    with open(os.path.join(rundir, "meta.txt")) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


def read_time(path):
    """(cpu_s, maxrss_kib, wall_s) from a /usr/bin/time -f '%U %S %M %e' file, or None."""
    try:
        with open(path) as f:
            lines = [x for x in f.read().splitlines() if x.strip()]
        u, s, m, e = lines[-1].split()
        return float(u) + float(s), int(m), float(e)
    except (OSError, ValueError, IndexError):
        return None


def stall_of(samples, nbytes):
    """Longest time without growth of the sampled size after its first byte, until complete."""
    first = next((i for i, (_, s) in enumerate(samples) if s > 0), None)
    if first is None:
        return None, False
    last_t, prev, worst, done = samples[first][0], samples[first][1], 0.0, samples[first][1] >= nbytes
    for t, s in samples[first + 1:]:
        if done:
            break
        if s > prev:
            worst = max(worst, t - last_t)
            last_t, prev = t, s
        done = s >= nbytes
    if not done:
        worst = max(worst, samples[-1][0] - last_t)
    return worst, done


def gap_after(samples, t, horizon, nbytes):
    """The last survivor's stall caused by a failure at t: the longest run of samples without growth
    that began between t and t + horizon (and after its first byte), as (stopped, resumed) seconds
    after t; resumed None when it never grew again. None without such a run."""
    best, start, prev = None, None, None
    for ts, size in samples:
        if prev is None or size > prev[1] or size >= nbytes:
            if start is not None and (best is None or ts - start[0] > best[1] - best[0]):
                best = (start[0], ts)
            start = None
        elif start is None and prev[1] > 0 and t - 1e-3 <= prev[0] <= t + horizon:
            start = prev
        prev = (ts, size)
    if start is not None and (best is None or (prev[0] - start[0]) > best[1] - best[0]):
        best = (start[0], None)
    if best is None:
        return None
    return best[0] - t, (best[1] - t) if best[1] is not None else None


def pct(values, q):
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(math.ceil(q * len(v))) - 1))
    return v[k]


def rate_bits(text):
    """tc rate -> bit/s (decimal units)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(k|m|g|t)?bit", text.strip().lower())
    if not m:
        raise ValueError(f"bad rate {text}")
    return float(m.group(1)) * {None: 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}[m.group(2)]


def run_sim(meta, params):
    """Run `ka sim` with the bed's parameters; returns (args, parsed JSON or None, error)."""
    sim_bin = meta.get("sim_bin", "")
    args = [sim_bin, "sim", "--nodes", meta["n"], "--size", meta["size"], "--link", meta["rate"],
            "--mode", "chain", "--buffer", meta["buffer"], "--sender-buffer", meta["buffer"],
            "--startup", "%.3f" % params["startup_s"], "--host-cores", meta["cores"],
            "--cpu-sender", "%.3f" % params["cpu_sender"], "--cpu-hop", "%.3f" % params["cpu_hop"],
            "--cpu-last", "%.3f" % params["cpu_last"], "--seed", "1", "--json",
            # tc tbf counts 1514 bytes per full TCP segment (1448 of payload with timestamps): no
            # preamble, FCS or gap as on a real wire (ka sim's default 0.9415); --hop-bytes: its default
            "--wire-efficiency", meta.get("wire_efficiency", "0.9564")]
    if meta.get("rate0"):
        args += ["--uplink", meta["rate0"]]
    if meta.get("sim_chains"):   # the bed's ka builds one chain; the planner might split a fast uplink
        args += ["--chains", meta["sim_chains"]]
    if meta.get("latency_ms"):
        args += ["--latency-ms", meta["latency_ms"]]
    measured = params.get("per_fault") or {}
    for f in parse_spec(meta.get("faults", "")):
        ev = "%d@%g" % (f["pos"], f["at_s"])
        d, r = measured.get((f["kind"], f["pos"]), (None, None))
        if d is not None and f["kind"] == "freeze":
            ev += "/detect=%.3f" % d
        if r is not None:
            ev += "/relink=%.3f" % r
        args += ["--" + f["kind"], ev]
    if params.get("detect_s") is not None:
        args += ["--detect", "%.3f" % params["detect_s"]]
    if params.get("relink_s") is not None:
        args += ["--relink", "%.3f" % params["relink_s"]]
    args += [x for x in meta.get("sim_args", "").split() if x]
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return args, None, str(e)
    if p.returncode != 0:
        return args, None, f"exit {p.returncode}: {p.stderr.strip()[-300:]}"
    try:
        txt = p.stdout.strip()
        return args, json.loads(txt[txt.index("{"):]), None
    except (ValueError, json.JSONDecodeError) as e:
        return args, None, f"bad JSON ({e}): {p.stdout.strip()[-300:]}"


def check_report(path, nbytes, want_ok, victims):
    """Survivors byte-exact by the report (status ok, every byte, the sender's digest), victims KO
    with the right reason. Returns (problems, report or None, survivors that are byte-exact)."""
    bad, good = [], 0
    try:
        r = json.load(open(path))
    except (OSError, ValueError) as e:
        return [f"report: {e}"], None, 0
    digest = r.get("digest")
    nodes = {n.get("name"): n for n in r.get("nodes", []) if isinstance(n, dict)}
    if sorted(r.get("ok", [])) != sorted(want_ok):
        extra = sorted(set(r.get("ok", [])) - set(want_ok))
        missing = sorted(set(want_ok) - set(r.get("ok", [])))
        bad.append(f"ok list: missing {missing[:8]}{'...' if len(missing) > 8 else ''} extra {extra}")
    for name in want_ok:
        n = nodes.get(name)
        if not n:
            bad.append(f"{name}: not in the report")
            continue
        if n.get("status") != "ok" or n.get("bytes") != nbytes or not n.get("digest") or n.get("digest") != digest:
            bad.append(f"{name}: status={n.get('status')} bytes={n.get('bytes')} error={n.get('error')!r}")
        else:
            good += 1
    ko = {k.get("name"): k for k in r.get("ko", []) if isinstance(k, dict)}
    for name, kind in victims.items():
        k = ko.get(name)
        if not k:
            bad.append(f"victim {name} ({kind}) not KO")
            continue
        reason = k.get("reason", "")
        if kind == "freeze" and not re.search("heartbeat", reason, re.I):
            bad.append(f"frozen {name}: reason {reason!r} does not say heartbeat")
        if kind == "kill" and (not reason or re.search("heartbeat", reason, re.I)):
            bad.append(f"killed {name}: reason {reason!r} (want a lost connection, not a heartbeat timeout)")
    for name in ko:
        if name not in victims:
            bad.append(f"live node {name} KO: {ko[name].get('reason')!r}")
    return bad, r, good


def analyze(rundir):
    meta = read_meta(rundir)
    n, nbytes, t0 = int(meta["n"]), int(meta["bytes"]), float(meta["t0"])
    t_end = float(meta["t_end"])
    gib = nbytes / GIB
    log = SenderLog(os.path.join(rundir, "sender.log.err"), t0)
    log.poll()
    log._line(log.buf)
    try:
        mon = json.load(open(os.path.join(rundir, "monitor.json")))
    except (OSError, ValueError):
        mon = {"faults": [], "samples": [], "not_injected": []}
    spec = parse_spec(meta.get("faults", ""))
    names = [f"node{i}" for i in range(1, n + 1)]
    order = log.first_order() or []
    problems = []
    if order != names:
        problems.append(f"first chain is not node1..node{n} in order: {' '.join(order[:10])}...")
    victims = {}
    for f in mon.get("faults", []):
        if f.get("name"):
            victims[f["name"]] = f["kind"]
        if f.get("error"):
            problems.append(f"{f['kind']} of position {f['pos']}: {f['error']}")
    for f in mon.get("not_injected", []):
        problems.append(f"{f['kind']}:{f['pos']}@{f['at_s']} never injected (stream did not start or ended before)")
    survivors = [x for x in (order or names) if x not in victims]
    last = survivors[-1] if survivors else None
    if last and meta.get("last_name") and last != meta["last_name"]:
        problems.append(f"last survivor is {last}, but {meta['last_name']} wrote the sampled output")
    rep_bad, rep, good = check_report(os.path.join(rundir, "report.json"), nbytes, survivors, victims)
    problems += rep_bad
    if meta.get("sender_rc") not in ("0" if not victims else "1",):
        problems.append(f"sender exit status {meta.get('sender_rc')}, want {'1' if victims else '0'}")
    bad_rc = [x for x in survivors if meta.get("rc_" + x) != "0"]
    if bad_rc:
        problems.append(f"survivors exiting non-zero: {bad_rc[:8]} (rc {[meta.get('rc_' + x) for x in bad_rc[:8]]})")
    notes = []
    ovf = int(meta.get("arp_overflows") or 0)
    if ovf:
        notes.append(f"the kernel logged {ovf} 'neighbor table overflow' (machine-wide ARP table full: "
                        f"entries {meta.get('arp_entries')} at start / end) during the session")
    if not order:
        problems.append(f"no chain: {len(log.joins)}/{n} nodes joined (the sender's log)")
    if meta.get("last_cmp") != "0":
        problems.append(f"{last}'s output differs from the source (cmp: {meta.get('last_cmp_msg', '')})")
    # times
    startup = (log.t_stream - t0) if log.t_stream else None
    done_rel = [log.done[x] - t0 for x in survivors if x in log.done]
    stall, complete = stall_of([tuple(s) for s in mon.get("samples", [])], nbytes)
    detects, kill_detects, relinks = [], [], []
    for f in mon.get("faults", []):
        fl = log.failed.get(f.get("name"))
        if fl:
            d = fl[0] - f["t"]
            f["detected_after_s"] = round(d, 3)
            (detects if f["kind"] == "freeze" else kill_detects).append(d)
            r = successor_relink(rundir, log, f["name"], f["t"] if f["kind"] == "kill" else fl[0], t0)
            if r:
                f["successor"], f["relink_s"] = r[0], round(r[1], 3)
                relinks.append(r[1])
        # what the last survivor saw of it: when it stopped growing (what the hops between still
        # held) and grew again (detection, re-link, then the re-filled hops), from the failure
        if order and f.get("name") in order and last in order and order.index(f["name"]) < order.index(last):
            g = gap_after([tuple(x) for x in mon.get("samples", [])], f["t"],
                          (f.get("detected_after_s") or 0) + (f.get("relink_s") or 0) + 1.0, nbytes)
            if g:
                f["last_stopped_after_s"] = round(g[0], 3)
                f["last_resumed_after_s"] = round(g[1], 3) if g[1] is not None else None
                f["hops_to_last"] = order.index(last) - order.index(f["name"])
    # CPU and memory
    cpu = {}
    st = read_time(os.path.join(rundir, "sender.time"))
    sender = {"cpu_s": st[0], "hwm_mib": st[1] / 1024.0} if st else None
    hop_c, last_c = [], None
    for x in survivors:
        t = read_time(os.path.join(rundir, f"{x}.time"))
        if not t:
            continue
        if x == last:
            last_c = t[0]
        else:
            hop_c.append(t[0])
    rss = [t[1] for t in (read_time(os.path.join(rundir, f"node{i}.time")) for i in range(1, n + 1)) if t]
    # the nodes' own warnings and errors, grouped (digits masked), for what breaks at scale
    node_msgs = {}
    for i in range(1, n + 1):
        try:
            with open(os.path.join(rundir, f"node{i}.log.err"), errors="replace") as f:
                for line in f:
                    m = re.match(r"^\S+ (warn|error) +\[[^]]*\] (.*)$", line.rstrip())
                    if m:
                        key = m.group(1) + " " + re.sub(r"\d+(\.\d+)?", "#", m.group(2))[:160]
                        node_msgs.setdefault(key, [0, f"node{i}: " + line.rstrip()])[0] += 1
        except OSError:
            pass
    cpu["sender"] = sender["cpu_s"] / gib if sender else None
    cpu["hop"] = (sum(hop_c) / len(hop_c)) / gib if hop_c else None
    cpu["last"] = last_c / gib if last_c is not None else None
    # the report's heartbeat gaps (the margin before a live node reads as frozen)
    gaps = []
    if rep:
        gaps = sorted(((nd.get("max_heartbeat_gap_s") or 0.0, nd.get("name")) for nd in rep.get("nodes", [])
                       if isinstance(nd, dict) and nd.get("name") in survivors), reverse=True)
    res = {
        "run": os.path.basename(rundir.rstrip("/")),
        "n": n, "faults": meta.get("faults", "") or "none", "bytes": nbytes, "load": meta.get("load"),
        "bed_total_s": t_end - t0,
        "bed_last_done_s": max(done_rel) if done_rel else None,
        "bed_mean_s": sum(done_rel) / len(done_rel) if done_rel else None,
        "bed_p99_s": pct(done_rel, 0.99),
        "bed_first_done_s": min(done_rel) if done_rel else None,
        # the head's goodput: what one 100mbit tbf link carries of ka's payload (the fluid model's
        # link rate is the tc rate; TCP/IP headers and ka's frames take their share on the bed)
        "head_mbit_s": (nbytes * 8 / 1e6 / (log.done[order[0]] - log.t_stream))
        if order and order[0] in log.done and log.t_stream else None,
        "bed_stall_s": stall, "last_complete": complete, "last": last,
        "interval": float(meta.get("interval", "0.1")),
        "startup_s": startup,
        "join_span_s": (log.joins[-1][0] - log.joins[0][0]) if log.joins else None,
        "last_join_s": (log.joins[-1][0] - t0) if log.joins else None,
        "detect_s": (sum(detects) / len(detects)) if detects else None,
        "detects_s": [round(d, 3) for d in detects], "kill_detects_s": [round(d, 3) for d in kill_detects],
        "relinks_s": [round(d, 3) for d in relinks],
        "cpu_per_gib": cpu, "sender": sender,
        "sender_cpu_per_node": sender["cpu_s"] / n if sender else None,
        "sender_mib_per_node": sender["hwm_mib"] / n if sender else None,
        "survivors": len(survivors), "survivors_ok": good,
        "victims": victims, "injected": mon.get("faults", []),
        "max_hb_gaps": gaps[:3], "receivers_rss_mib": sum(rss) / 1024.0 if rss else None,
        "receiver_rss_max_mib": max(rss) / 1024.0 if rss else None,
        "node_msgs": sorted(([c, ex] for c, ex in node_msgs.values()), reverse=True)[:12], "warnings": [w for _, w in log.warnings][:20],
        "problems": problems, "notes": notes, "sim": None, "sim_error": None, "sim_args": None,
    }
    if meta.get("sim_bin"):
        if startup is None or None in cpu.values():
            res["sim_error"] = "not run: the bed run has no startup or CPU measurement"
        else:
            params = {"startup_s": startup, "detect_s": res["detect_s"], "cpu_sender": cpu["sender"],
                      "cpu_hop": cpu["hop"], "cpu_last": cpu["last"],
                      "relink_s": (sum(relinks) / len(relinks)) if relinks else
                      (sum(kill_detects) / len(kill_detects)) if kill_detects else None}
            if spec and any(f["kind"] == "freeze" for f in spec) and params["detect_s"] is None:
                params["detect_s"] = float(meta.get("detect_default", "1.5"))
            # each failure's own detection and re-link as measured (the means above are for the
            # failures the bed could not time)
            params["per_fault"] = {(f["kind"], f["pos"]): (f.get("detected_after_s"), f.get("relink_s"))
                                   for f in mon.get("faults", []) if "pos" in f}
            args, out, err = run_sim(meta, params)
            res["sim_args"] = " ".join(args)
            res["sim"], res["sim_error"] = out, err
            # diagnostic: the same with the links scaled to the payload goodput measured at the head
            # (from the run without faults of the same N when there is one: a fault can slow the head)
            head = res["head_mbit_s"]
            try:
                clean = json.load(open(re.sub(r"-faults(\.r\d+)?/?$", "-clean", rundir.rstrip("/")) + "/result.json"))
                head = clean.get("head_mbit_s") or head
            except (OSError, ValueError):
                pass
            eff = head / (rate_bits(meta["rate"]) / 1e6) if head else None
            if out and eff and 0.5 < eff < 1.0:
                m2 = dict(meta, rate="%dkbit" % (rate_bits(meta["rate"]) * eff / 1e3), wire_efficiency="1")
                if meta.get("rate0"):
                    m2["rate0"] = "%dkbit" % (rate_bits(meta["rate0"]) * eff / 1e3)
                args2, out2, _ = run_sim(m2, params)
                res["link_efficiency"] = eff
                res["sim_goodput"] = out2
                res["sim_goodput_args"] = " ".join(args2)
    with open(os.path.join(rundir, "result.json"), "w") as f:
        json.dump(res, f, indent=1)
    # the short summary
    print(f"    bed: total {fmt(res['bed_total_s'])} s (last done {fmt(res['bed_last_done_s'])} s, mean "
          f"{fmt(res['bed_mean_s'])} s), stall of {last} {fmt(res['bed_stall_s'])} s, startup "
          f"{fmt(startup)} s (joins over {fmt(res['join_span_s'])} s), detection {res['detects_s'] or '-'} s"
          f" (kills {res['kill_detects_s'] or '-'} s), successors re-linked after {res['relinks_s'] or '-'} s")
    for f in res["injected"]:
        if f.get("last_stopped_after_s") is not None:
            print(f"    {f['kind']} of {f['name']} ({f['hops_to_last']} hops before {last}): {last} stopped "
                  f"{fmt(f['last_stopped_after_s'])} s after it, grew again after {fmt(f.get('last_resumed_after_s'))} s"
                  f" (dropped after {fmt(f.get('detected_after_s'))} s, successor reading "
                  f"{fmt(f.get('relink_s'))} s later)")
    print(f"    head {order[0] if order else '?'}: {fmt(res['head_mbit_s'], '%.1f')} Mbit/s of payload;"
          f" first done {fmt(res['bed_first_done_s'])} s, last {fmt(res['bed_last_done_s'])} s")
    print(f"    CPU-s/GiB sender {fmt(cpu['sender'])}, hop {fmt(cpu['hop'])}, last {fmt(cpu['last'])};"
          f" sender {fmt(sender and sender['cpu_s'])} CPU-s, {fmt(sender and sender['hwm_mib'], '%.0f')} MiB peak;"
          f" longest heartbeat gaps {[(round(g, 2), nm) for g, nm in gaps[:3]]}")
    if res["sim"]:
        s = res["sim"]
        print(f"    sim: total {fmt(s.get('total_s'))} s, stall {fmt(s.get('stall_s'))} s, mean {fmt(s.get('mean_s'))} s,"
              f" survivors {s.get('survivors')}, ideal {fmt(s.get('ideal_s'))} s")
    elif res["sim_error"]:
        print(f"    sim: {res['sim_error']}")
    print(f"    receivers: peak RSS {fmt(res['receiver_rss_max_mib'], '%.0f')} MiB max, "
          f"{fmt(res['receivers_rss_mib'], '%.0f')} MiB summed over {n}")
    for w in res["warnings"][:8]:
        print(f"    sender: {w}")
    for c, ex in res["node_msgs"][:6]:
        print(f"    nodes ({c}x): {ex}")
    for p in notes:
        print(f"    note: {p}")
    for p in problems:
        print(f"    PROBLEM: {p}")
    return 0


def fmt(x, spec="%.2f"):
    return "n/a" if x is None else spec % x


# ---------------------------------------------------------------- table
def within(sim, bed, tol=0.10):
    return sim is not None and bed is not None and bed > 0 and abs(sim / bed - 1) <= tol


def table(workdir):
    runs = []
    base = os.path.join(workdir, "runs")
    for d in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        try:
            runs.append(json.load(open(os.path.join(base, d, "result.json"))))
        except (OSError, ValueError):
            pass
    for r in runs:
        m = re.search(r"\.r(\d+)$", r.get("run", ""))
        r["repeat"] = int(m.group(1)) if m else 1
    runs.sort(key=lambda r: (r["n"], r["faults"] != "none", r["repeat"]))
    label = lambda r: r["faults"] + (f" (run {r['repeat']})" if r["repeat"] > 1 else "")
    out = []
    out.append("| N | faults | bed total s | sim total s | sim/bed | bed stall s | sim stall s | survivors byte-exact"
               " | sender CPU-s / node | sender MiB / node | flag | sim @ goodput s (sim/bed) |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        s = r.get("sim") or {}
        st, ss = r["bed_total_s"], s.get("total_s")
        flags = []
        if s and not within(ss, st):
            flags.append("total >10 %")
        bs, sst = r.get("bed_stall_s"), s.get("stall_s")
        # stall: the bed samples every `interval` s, so differences under two samples are below its resolution
        res_s = 2 * float(r.get("interval") or 0.1)
        if s and bs is not None and sst is not None and abs(sst - bs) > res_s and not within(sst, bs):
            flags.append("stall >10 %")
        if r["problems"]:
            flags.append("PROBLEMS")
        if not s:
            flags.append("no sim" if not r.get("sim_error") else "sim failed")
        ok = f"{r['survivors_ok']}/{r['survivors']}" + ("" if not r["problems"] else " (see problems)")
        g = (r.get("sim_goodput") or {}).get("total_s")
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["n"], label(r), fmt(st), fmt(ss), fmt(ss / st if ss and st else None, "%.3f"), fmt(bs),
            fmt(sst), ok, fmt(r.get("sender_cpu_per_node"), "%.3f"), fmt(r.get("sender_mib_per_node"), "%.2f"),
            ", ".join("**%s**" % f for f in flags) or "ok",
            ("%.2f (%.3f)" % (g, g / st)) if g and st else "n/a"))
    out.append("")
    out.append("Measured on the bed and passed to the simulator (same run):")
    out.append("")
    out.append("| N | faults | load before | startup s | joins over s | freeze -> drop s | kill -> drop s"
               " | drop -> successor reading s | CPU-s/GiB sender"
               " | hop | last | sender CPU-s | sender peak MiB | node peak MiB | bed mean / p99 s | sim mean / p99 s"
               " | first / last done s | head Mbit/s | longest heartbeat gap s |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        s = r.get("sim") or {}
        c = r["cpu_per_gib"]
        snd = r.get("sender") or {}
        gap = r["max_hb_gaps"][0] if r["max_hb_gaps"] else None
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s / %s | %s | %s |" % (
            r["n"], label(r), r.get("load") or "n/a", fmt(r["startup_s"]), fmt(r["join_span_s"]),
            " ".join("%.2f" % d for d in r["detects_s"]) or "-", " ".join("%.2f" % d for d in r["kill_detects_s"]) or "-",
            " ".join("%.2f" % d for d in r.get("relinks_s") or []) or "-",
            fmt(c.get("sender")), fmt(c.get("hop")), fmt(c.get("last")), fmt(snd.get("cpu_s")),
            fmt(snd.get("hwm_mib"), "%.0f"), fmt(r.get("receiver_rss_max_mib"), "%.0f"), fmt(r["bed_mean_s"]), fmt(r["bed_p99_s"]), fmt(s.get("mean_s")),
            fmt(s.get("p99_s")), fmt(r.get("bed_first_done_s")), fmt(r.get("bed_last_done_s")),
            fmt(r.get("head_mbit_s"), "%.1f"), ("%.2f (%s)" % tuple(gap)) if gap else "n/a"))
    notes = [(r["n"], label(r), p) for r in runs for p in r.get("notes", [])]
    if notes:
        out.append("")
        out.append("Notes (the bed, not ka):")
        for n, f, p in notes:
            out.append(f"- N={n} ({f}): {p}")
    probs = [(r["n"], label(r), p) for r in runs for p in r["problems"]]
    errs = [(r["n"], label(r), r["sim_error"]) for r in runs if r.get("sim_error")]
    if probs or errs:
        out.append("")
        out.append("Problems:")
        for n, f, p in probs:
            out.append(f"- N={n} ({f}): {p}")
        for n, f, e in errs:
            out.append(f"- N={n} ({f}): simulator: {e}")
    if any(r.get("link_efficiency") for r in runs):
        out.append("")
        out.append("sim @ goodput: the same simulation with every link scaled to the payload rate measured at the"
                   " head of the chain (" + ", ".join("N=%d %.1f %%" % (r["n"], 100 * r["link_efficiency"])
                                                       for r in runs if r.get("link_efficiency")) +
                   " of the tc rate): TCP/IP headers and ka's frames on a tbf link, which the fluid model does not"
                   " count. Diagnostic only; the judged column is sim/bed.")
    sims = [(r["n"], label(r), r["sim_args"]) for r in runs if r.get("sim_args")]
    if sims:
        out.append("")
        out.append("Simulator commands:")
        out.append("")
        for n, f, a in sims:
            out.append(f"    {a}")
    print("\n".join(out))
    bad = any(r["problems"] for r in runs)
    return 1 if bad else 0


def simonly(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="scale_bench.py simonly")
    for k in ("nodes", "size", "rate", "rate0", "buffer", "faults", "sim-bin", "cores", "latency-ms", "sim-args",
              "sim-chains"):
        ap.add_argument("--" + k, default="")
    for k, d in (("startup", 2.0), ("detect", 1.5), ("cpu-sender", 1.0), ("cpu-hop", 1.2), ("cpu-last", 1.0)):
        ap.add_argument("--" + k, type=float, default=d)
    a = ap.parse_args(argv)
    print("| N | faults | sim total s | sim stall s | mean s | p99 s | ideal s | survivors |")
    print("|---|---|---|---|---|---|---|---|")
    rc = 0
    for n in a.nodes.split():
        for spec in ("none", a.faults or default_spec(int(n))):
            meta = {"sim_bin": a.sim_bin, "n": n, "size": a.size, "rate": a.rate, "rate0": a.rate0,
                    "buffer": a.buffer, "cores": a.cores, "latency_ms": a.latency_ms, "faults": spec,
                    "sim_args": a.sim_args, "sim_chains": a.sim_chains}
            params = {"startup_s": a.startup, "detect_s": a.detect if "freeze" in spec else None,
                      "cpu_sender": a.cpu_sender, "cpu_hop": a.cpu_hop, "cpu_last": a.cpu_last}
            args, out, err = run_sim(meta, params)
            if out is None:
                print(f"| {n} | {spec} | sim failed: {err} | | | | | |")
                rc = 1
                continue
            print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, spec, fmt(out.get("total_s")), fmt(out.get("stall_s")), fmt(out.get("mean_s")),
                fmt(out.get("p99_s")), fmt(out.get("ideal_s")), out.get("survivors")))
    return rc


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "faults":
        print(default_spec(int(rest[0])))
        return 0
    if cmd == "check-spec":
        try:
            check_spec(rest[0], int(rest[1]))
        except ValueError as e:
            print(f"scale_bench: {e}", file=sys.stderr)
            return 1
        return 0
    if cmd == "monitor":
        return monitor(rest)
    if cmd == "analyze":
        return analyze(rest[0])
    if cmd == "table":
        return table(rest[0])
    if cmd == "simonly":
        return simonly(rest)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())

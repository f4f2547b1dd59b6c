#!/usr/bin/env bash
# chain_bench.sh - throughput and CPU cost of a ka chain on a shaped network test bed.
#
# Builds a bed of 1+8 hosts (tests/lib/bed.sh) with every link shaped to RATE (tc tbf on the
# host egress and the switch-port egress: full duplex), then in one run:
#   (a) baseline: iperf3 h0 -> h1, the same byte count (throughput and CPU of both ends);
#   (b) ka send from h0 to N = 1, 4, 8 receivers (h1..hN, --output /dev/null): the sender's
#       report gives bytes and seconds -> MiB/s per node and the ratio to iperf3;
#   (c) CPU seconds (user+sys, /usr/bin/time) per GiB: the sender, the forwarding hops (every
#       node but the last), the last node; iperf3's for comparison.
# Prints markdown tables for docs/performance.md. Everything is cleaned up at exit.
#
# Usage: bench/chain_bench.sh [--quick] [--rate RATE] [--nodes "1 4 8"]
#   --quick          256 MiB instead of 1 GiB (smoke run)
# Env: SIZE_MIB (default 1024), RATE (default 1gbit), BENCH_NODES (default "1 4 8"),
#      BENCH_DIGESTS (default "full frames": the sender's --digest modes to run),
#      BENCH_SECRET=0 (run ka without a secret; default uses one), KA_BUFFER (passed as --buffer),
#      KA_BIN, KA_KEEP=1 (keep the work dir with logs, reports and time files).
# shellcheck source-path=SCRIPTDIR
set -uo pipefail
# shellcheck source=../tests/lib/bed.sh
. "$(dirname "$0")/../tests/lib/bed.sh"

SIZE_MIB=${SIZE_MIB:-}
RATE=${RATE:-1gbit}
NODES=${BENCH_NODES:-1 4 8}
DIGESTS=${BENCH_DIGESTS:-full frames}
quick=0
while (( $# )); do
  case $1 in
    --quick) quick=1 ;;
    --rate) RATE=$2; shift ;;
    --nodes) NODES=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "chain_bench: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[[ -n $SIZE_MIB ]] || { if (( quick )); then SIZE_MIB=256; else SIZE_MIB=1024; fi; }
BYTES=$(( SIZE_MIB << 20 ))
MAXN=0
for n in $NODES; do (( n > MAXN )) && MAXN=$n; done
(( MAXN >= 1 )) || { echo "chain_bench: bad --nodes '$NODES'" >&2; exit 2; }

bed_require_root
bed_require_ka
for tool in iperf3 /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "chain_bench: $tool not installed (scripts/setup.sh)" >&2; exit 1; }
done
bed_trap
bed_workdir
W=$BED_WORK
# generous hard limit: the run must fail rather than hang
KA_TIMEOUT=$(( SIZE_MIB / 4 + 120 ))
TIMEF='%U %S %e'
secret_args=()
if [[ ${BENCH_SECRET:-1} != 0 ]]; then bed_secret "$W/secret"; secret_args=(--secret-file "$W/secret"); fi
buffer_args=()
[[ -n ${KA_BUFFER:-} ]] && buffer_args=(--buffer "$KA_BUFFER")

bed_up "$MAXN" "$RATE" || exit 1
bed_log "generating $SIZE_MIB MiB of random data"
head -c "$BYTES" /dev/urandom >"$W/src.bin"

# ---------------------------------------------------------------- (a) iperf3 baseline
bed_log "iperf3 h0 -> h1, $SIZE_MIB MiB"
bed_bg 1 "$W/iperf_s.log" /usr/bin/time -f "$TIMEF" -o "$W/iperf_s.time" \
  timeout "$KA_TIMEOUT" iperf3 -s -1 -p 5201
ipid=$BED_LAST_PID
bed_wait_tcp 1 5201 20 || { echo "chain_bench: iperf3 server did not start" >&2; exit 1; }
bed_exec 0 /usr/bin/time -f "$TIMEF" -o "$W/iperf_c.time" \
  timeout "$KA_TIMEOUT" iperf3 -c "$(bed_ip 1)" -p 5201 -n "$BYTES" -J >"$W/iperf.json" \
  || { echo "chain_bench: iperf3 client failed" >&2; cat "$W/iperf.json" >&2; exit 1; }
bed_wait "$ipid" || echo "chain_bench: iperf3 server exited non-zero" >&2

# ---------------------------------------------------------------- (b)+(c) ka chains
status=0
for d in $DIGESTS; do
for n in $NODES; do
  bed_log "ka: $SIZE_MIB MiB -> $n receiver(s), --digest $d"
  S=bench$d$n.$$
  K=ka$d$n
  bed_bg 0 "$W/$K.send.log" /usr/bin/time -f "$TIMEF" -o "$W/$K.send.time" \
    timeout "$KA_TIMEOUT" "$KA_BIN" send --nodes "$n" --session "$S" "${secret_args[@]}" \
    "${buffer_args[@]}" --digest "$d" --report "$W/$K.json" "$W/src.bin"
  spid=$BED_LAST_PID
  rpids=()
  for (( i = 1; i <= n; i++ )); do
    bed_bg "$i" "$W/$K.node$i.log" /usr/bin/time -f "$TIMEF" -o "$W/$K.node$i.time" \
      timeout "$KA_TIMEOUT" "$KA_BIN" receive --session "$S" "${secret_args[@]}" "${buffer_args[@]}" \
      --name "node$i" --output /dev/null
    rpids+=("$BED_LAST_PID")
  done
  rc=0; bed_wait "$spid" || rc=$?
  (( rc == 0 )) || { echo "chain_bench: ka send to $n node(s) exited $rc" >&2; status=1; bed_dump "$W/$K.send.log"; }
  for (( i = 1; i <= n; i++ )); do
    rc=0; bed_wait "${rpids[i-1]}" || rc=$?
    (( rc == 0 )) || { echo "chain_bench: receiver node$i (N=$n) exited $rc" >&2; status=1; bed_dump "$W/$K.node$i.log"; }
  done
done
done

# ---------------------------------------------------------------- tables
python3 - "$W" "$BYTES" "$RATE" "$NODES" "$(uname -r)" "$(nproc)" \
  "$(bed_exec 0 sysctl -n net.ipv4.tcp_congestion_control)" "${#secret_args[@]}" "$DIGESTS" <<'PYEOF' || status=1
import json, os, sys
W, nbytes, rate, nodes, kernel, ncpu, cc, secret, digests = sys.argv[1:10]
nbytes = int(nbytes); gib = nbytes / 2**30; mib = nbytes / 2**20

def cpu(path):   # /usr/bin/time -f '%U %S %e' (last line; an earlier one may say "exited with")
    try:
        u, s, e = open(path).read().split("\n")[-2].split()
        return float(u) + float(s), float(e)
    except Exception:
        return None, None

ip = json.load(open(os.path.join(W, "iperf.json")))
ip_bps = ip["end"]["sum_received"]["bits_per_second"]
ip_mibs = ip_bps / 8 / 2**20
ip_secs = ip["end"]["sum_received"]["seconds"]
ipc, _ = cpu(os.path.join(W, "iperf_c.time"))
ips, _ = cpu(os.path.join(W, "iperf_s.time"))

def f(x, fmt="%.2f"):
    return "n/a" if x is None else fmt % x

print()
print(f"### ka chain on a {rate} test bed ({mib:.0f} MiB, {ncpu} cores, kernel {kernel}, tcp {cc}, "
      f"{'with' if secret != '0' else 'without'} --secret-file)")
print()
print("Baseline iperf3, one link h0 -> h1, same byte count:")
print()
print("| tool | seconds | Mbit/s | MiB/s | sender CPU s/GiB | receiver CPU s/GiB |")
print("|---|---:|---:|---:|---:|---:|")
print(f"| iperf3 | {ip_secs:.2f} | {ip_bps/1e6:.0f} | {ip_mibs:.1f} | {f(ipc and ipc/gib)} | {f(ips and ips/gib)} |")
print()
print("ka, sender h0 -> chain of N receivers (--output /dev/null); MiB/s = bytes / report seconds,"
      " i.e. what every node received per second; CPU = user+sys per GiB per process:")
print()
print("| digest | N | seconds | MiB/s per node | vs iperf3 | aggregate MiB/s | sender CPU s/GiB | forwarding hop CPU s/GiB (avg) | last node CPU s/GiB | all nodes ok |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
bad = False
for d, n in [(d, int(n)) for d in digests.split() for n in nodes.split()]:
    K = f"ka{d}{n}"
    try:
        r = json.load(open(os.path.join(W, f"{K}.json")))
    except Exception as e:
        print(f"| {d} | {n} | failed: no report ({e.__class__.__name__}) | | | | | | | no |")
        bad = True
        continue
    secs, b = r.get("seconds") or 0, r.get("bytes") or 0
    mibs = b / 2**20 / secs if secs else 0
    sc, _ = cpu(os.path.join(W, f"{K}.send.time"))
    by_pos = sorted((nd.get("position", 0), nd.get("name")) for nd in r.get("nodes", []))
    hop, last = [], None
    for k, (_, name) in enumerate(by_pos):
        c, _ = cpu(os.path.join(W, f"{K}.{name}.time"))
        if c is None:
            continue
        if k == len(by_pos) - 1:
            last = c / gib
        else:
            hop.append(c / gib)
    allok = (len(r.get("ok", [])) == n and not r.get("ko") and b == nbytes)
    bad |= not allok
    print(f"| {d} | {n} | {secs:.2f} | {mibs:.1f} | {mibs/ip_mibs:.2f} | {mibs*n:.0f} | {f(sc and sc/gib)} | "
          f"{f(sum(hop)/len(hop)) if hop else '-'} | {f(last)} | {'yes' if allok else 'NO'} |")
print()
sys.exit(1 if bad else 0)
PYEOF
if (( status )); then echo "chain_bench: some runs FAILED (see above)"; fi
exit "$status"

#!/usr/bin/env bash
# bench/scale_predict.sh - the predictions of docs/scale.md: `ka sim` for 10 GiB to 1,000 and 10,000
# nodes, with 1 % of the nodes failing (half killed, half frozen, at random times: --seed), on
# 10 GbE (sender and nodes), a 10 GbE sender with 1 GbE nodes, and 1 GbE everywhere; the chain
# (laid out by the sender's own planner), the swarm model and the striped forest (--mode forest: k
# stripe trees, k chosen by the model among 2..8), side by side with the goal (1.2 x S/B for the
# survivors). Prints a markdown table.
#
# The model's parameters are the bed's measurements (docs/scale.md, Validation), not guesses:
#   --hop-bytes 1M          each hop holds ~1 MiB at 1 Gbit/s (bed, N = 8: 8.6 ms per hop)
#   --detect 1.5            a frozen node is dropped after 1.3-1.5 s (bed, N = 8..100), ka send's
#                           default; --detect 0.5: ka send --freeze-detect 0.5 (bed, N = 100: 0.65-0.69 s)
#   --swarm-efficiency 0.57 libtorrent's payload per node on the bed at N = 8 (0.54 of the raw rate,
#                           network-bound): the swarm's best case measured here
#   --wire-efficiency       ka sim's default, 1448/1538 (TCP on Ethernet, MTU 1500)
# Usage: bench/scale_predict.sh [--seeds "1 2 3"] [--detect S] [EXTRA KA SIM OPTIONS...]
# Env: KA_BIN (default build/ka).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
KA_BIN=${KA_BIN:-$root/build/ka}
seeds="1"
detect=1.5
if [[ ${1:-} == --seeds ]]; then seeds=$2; shift 2; fi
if [[ ${1:-} == --detect ]]; then detect=$2; shift 2; fi
[[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,18p' "$0"; exit 0; }
[[ -x $KA_BIN ]] || { echo "scale_predict: no ka at $KA_BIN (build it or set KA_BIN)" >&2; exit 1; }

common=(--size 10G --fail-rate 0.01 --hop-bytes 1M --detect "$detect" --swarm-efficiency 0.57 --mode auto --json "$@")
echo "Command: bench/scale_predict.sh${*:+ $*} (seeds $seeds, --detect $detect); ka $(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)"
echo
echo "| nodes | sender / node links | seed | chain: topology | chain s | chain / (S/B) | swarm s | swarm / (S/B) | forest: k, depth | forest s | forest / (S/B) | S/B s | fastest | goal 1.2 x S/B met by |"
echo "|---:|---|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---|---|"
for links in "10gbit 10gbit" "10gbit 1gbit" "1gbit 1gbit"; do
  read -r up link <<<"$links"
  for n in 1000 10000; do
    for seed in $seeds; do
      "$KA_BIN" sim --nodes "$n" --link "$link" --uplink "$up" --seed "$seed" "${common[@]}" |
        python3 -c '
import json, sys
j = json.load(sys.stdin)
c, w, f = j["chain"], j["swarm"], j["forest"]
ideal = c["ideal_s"]
lens = c["lengths"]
topo = "%d x %d" % (c["chains"], max(lens)) if c["chains"] > 1 else "1 x %d" % lens[0]
met = [m for m, r in (("chain", c), ("swarm", w), ("forest", f)) if r["incomplete"] == 0 and r["total_s"] <= 1.2 * ideal]
print("| %s | %s / %s | %s | %s | %.1f | %.2f | %.1f | %.2f | %d, %d | %.1f | %.2f | %.1f | %s | %s |" % (
    format(int(sys.argv[1]), ","), sys.argv[2], sys.argv[3], sys.argv[4], topo, c["total_s"], c["total_s"] / ideal,
    w["total_s"], w["total_s"] / ideal, f["stripes"], f["depth"], f["total_s"], f["total_s"] / ideal, ideal,
    j["chosen"], " and ".join(met) or "none"))
' "$n" "$up" "$link" "$seed"
    done
  done
done

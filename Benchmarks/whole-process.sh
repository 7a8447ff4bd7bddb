#!/usr/bin/env bash
# Whole-process speed of the commands issue 17 targets (and the timed replay under the other eviction rules), as a user runs them: release binary,
# wall clock and peak resident memory, median of RUNS runs. Prints the machine and each command.
#
#   Benchmarks/whole-process.sh [MOESIM]     (make bench-process builds the release binary first)
#
# Inputs: the real ESFT trace from ../shared/traces (imported once into a temporary folder),
# its long-format CSV and JSON Lines exports (5.19 M rows), block-bootstrap syntheses of it, and a
# parametric synthesis (no reference).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MOESIM=${1:-$ROOT/.build/release/moesim}
RUNS=${RUNS:-5}
ESFT=${ESFT:-$ROOT/../shared/traces/esft-deepseek-v2-lite}
[ -x "$MOESIM" ] || { echo "build the release binary first (make release)"; exit 1; }
[ -d "$ESFT" ] || { echo "needs the real ESFT trace at $ESFT"; exit 1; }
T=$(mktemp -d /tmp/moesim-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
echo "moesim:  $MOESIM ($("$MOESIM" --version))"
echo "runs:    median of $RUNS, wall clock and peak RSS (/usr/bin/time)"
echo

# measure NAME DECISIONS UNIT COMMAND...: runs COMMAND RUNS times (removing $T/out.sqlite before each).
measure() {
    local name=$1 count=$2 unit=$3; shift 3
    local times=() rss=()
    for _ in $(seq "$RUNS"); do
        rm -f "$T/out.sqlite"
        /usr/bin/time -f "%e %M" -o "$T/time" "$@" >/dev/null 2>&1
        read -r seconds kb < "$T/time"
        times+=("$seconds"); rss+=("$kb")
    done
    local median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
    local peak=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
    printf '%-58s %7.2f s  %8.3f M %s/s  %5d MiB\n' "$name" "$median" "$(awk -v c="$count" -v t="$median" 'BEGIN { print c / t / 1e6 }')" "$unit" "$(( peak / 1024 ))"
    echo "    $*" | sed "s|$T|\$T|g; s|$ROOT/||g"
}

"$MOESIM" trace import --format esft "$ESFT" -o "$T/esft.sqlite" >/dev/null
"$MOESIM" trace export "$T/esft.sqlite" --format csv -o "$T/esft.csv" >/dev/null
"$MOESIM" trace export "$T/esft.sqlite" --format jsonl -o "$T/esft.jsonl" >/dev/null
D=5191524
measure "timed replay, on-demand, LRU 400 experts, prefill-as-decode" $D decisions \
    "$MOESIM" simulate --trace "$T/esft.sqlite" --prefill-as-decode --cache-mib 6600 --eviction lru --json
measure "timed replay, the same, event by event (--event-driven)" $D decisions \
    "$MOESIM" simulate --trace "$T/esft.sqlite" --prefill-as-decode --cache-mib 6600 --eviction lru --json --event-driven
measure "timed replay, on-demand, Belady 400 experts (pre-pass incl.)" $D decisions \
    "$MOESIM" simulate --trace "$T/esft.sqlite" --prefill-as-decode --cache-mib 6600 --eviction belady --json
for rule in lfu lfu-perfect s3fifo arc random; do
    measure "timed replay, on-demand, $rule 400 experts" $D decisions \
        "$MOESIM" simulate --trace "$T/esft.sqlite" --prefill-as-decode --cache-mib 6600 --eviction $rule --json
done
measure "timed replay, on-demand, no cache" $D decisions \
    "$MOESIM" simulate --trace "$T/esft.sqlite" --prefill-as-decode --json
measure "ESFT import (text folders, zstd 19)" $D decisions \
    "$MOESIM" trace import --format esft "$ESFT" -o "$T/out.sqlite"
measure "long-format CSV import (5.19 M rows, zstd 19)" $D decisions \
    "$MOESIM" trace import --format csv "$T/esft.csv" --model deepseek-v2-lite -o "$T/out.sqlite"
measure "long-format CSV import (5.19 M rows, zstd 1)" $D decisions \
    "$MOESIM" trace import --format csv "$T/esft.csv" --model deepseek-v2-lite --level 1 -o "$T/out.sqlite"
measure "long-format CSV import, zstd 1, no --model (two passes)" $D decisions \
    "$MOESIM" trace import --format csv "$T/esft.csv" --level 1 -o "$T/out.sqlite"
measure "long-format JSONL import (5.19 M rows, zstd 1)" $D decisions \
    "$MOESIM" trace import --format jsonl "$T/esft.jsonl" --model deepseek-v2-lite --level 1 -o "$T/out.sqlite"
measure "synth --like ESFT, 100k tokens (zstd 19)" 100000 tokens \
    "$MOESIM" trace synth --like "$T/esft.sqlite" --tokens 100000 --level 19 -o "$T/out.sqlite"
measure "synth --like ESFT, 1M tokens (default: zstd 1)" 1000000 tokens \
    "$MOESIM" trace synth --like "$T/esft.sqlite" --tokens 1000000 -o "$T/out.sqlite"
measure "synth --like ESFT, 1M tokens (zstd fast level -5)" 1000000 tokens \
    "$MOESIM" trace synth --like "$T/esft.sqlite" --tokens 1000000 --level -5 -o "$T/out.sqlite"
measure "synth --model qwen3-30b-a3b, 200k tokens (parametric, zstd 1)" 200000 tokens \
    "$MOESIM" trace synth --model qwen3-30b-a3b --tokens 200000 -o "$T/out.sqlite"

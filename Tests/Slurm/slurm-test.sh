#!/usr/bin/env bash
# make test-slurm: `moesim sweep --slurm --submit` against a real Slurm on this machine.
#
# Installs slurm-wlm and munge (Debian packages) when missing, starts munged, slurmctld and
# slurmd for one local node from a slurm.conf generated in a temporary folder
# (ProctrackType=proctrack/linuxproc, no cgroups, no accounting), then:
#   1. runs the demo sweep here without Slurm (the reference);
#   2. submits it as 3 shards with --submit, waits for the merge job, and checks the merged
#      database equals the reference point for point (every report and every layer row);
#   3. submits it again into another folder, cancels one array task midway with scancel,
#      reruns the same command, and checks that only that shard was resubmitted, that it
#      resumed from the points it had stored, and that the merge again equals the reference.
# It tears the daemons down on exit. It skips (exit 0, saying why) only where the daemons
# cannot be installed or started; any other failure exits 1 with the daemons' logs.
#
#   MOESIM   the moesim binary (default .build/release/moesim; the Makefile builds it)
#   KEEP=1   keep the temporary folder for inspection
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MOESIM=${MOESIM:-$ROOT/.build/release/moesim}
SPEC=traces/demo-sweep.toml
TASKS=3
start=$(date +%s)

say() { echo "test-slurm: $*"; }
skip() { say "SKIPPED: $*"; exit 0; }

[ -x "$MOESIM" ] || { say "FAILED: $MOESIM is not built (make release)"; exit 1; }
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then exec sudo -n MOESIM="$MOESIM" KEEP="${KEEP:-0}" "$0"; fi
    skip "slurmd must run as root to start jobs; this is uid $(id -u) without passwordless sudo"
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null) \
        || skip "apt-get could not install slurm-wlm and munge"
fi

D=$(mktemp -d /tmp/moesim-slurm.XXXXXX)
chmod 755 "$D"
export SLURM_CONF=$D/slurm.conf
PIDS=()
dump() {
    for log in "$D"/slurmctld.log "$D"/slurmd.log "$D"/out*/*.slurm/logs/*.out; do
        [ -f "$log" ] && { echo "---- $log (last 20 lines)"; tail -n 20 "$log"; }
    done
}
fail() { say "FAILED: $*"; dump; exit 1; }
teardown() {
    if [ ${#PIDS[@]} -gt 0 ]; then
        scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
        for _ in $(seq 20); do [ -z "$(squeue --noheader 2>/dev/null)" ] && break; sleep 0.5; done
        kill "${PIDS[@]}" 2>/dev/null || true
        wait "${PIDS[@]}" 2>/dev/null || true
    fi
    if [ "${KEEP:-0}" = 1 ]; then say "kept $D"; else rm -rf "$D"; fi
}
trap teardown EXIT

# ---- daemons ---------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
dd if=/dev/urandom of="$D/munge.key" bs=1024 count=1 status=none
chmod 400 "$D/munge.key"
munged --force --key-file="$D/munge.key" --socket="$D/munge.socket" --pid-file="$D/munged.pid" \
       --log-file="$D/munged.log" --seed-file="$D/munge.seed" || skip "munged did not start (see $D/munged.log)"
PIDS+=("$(cat "$D/munged.pid")")
node=$(slurmd -C | head -n 1)
mkdir -p "$D/state" "$D/spool"
cat > "$SLURM_CONF" <<CONF
ClusterName=moesimtest
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge.socket
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -D -i >"$D/slurmctld.out" 2>&1 & PIDS+=($!)
slurmd -D >"$D/slurmd.out" 2>&1 & PIDS+=($!)
for _ in $(seq 60); do
    state=$(sinfo --noheader --format=%t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
[ "${state:-}" = idle ] || { dump; skip "the local node did not come up (sinfo says '${state:-nothing}')"; }
say "slurmctld and slurmd up ($(slurmctld -V), $(echo "$node" | grep -o 'CPUs=[0-9]*')) in $(( $(date +%s) - start )) s"

# ---- helpers ---------------------------------------------------------------------------
cd "$ROOT"
stored() {  # points in a results database (0 when missing)
    python3 - "$1" <<'PY'
import os, sqlite3, sys
path = sys.argv[1]
print(sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("select count(*) from points").fetchone()[0] if os.path.exists(path) else 0)
PY
}
same_as_reference() {  # every point's report and every layer row equal the reference's
    python3 - "$D/local.sqlite" "$1" <<'PY'
import sqlite3, sys
def read(path):
    db = sqlite3.connect(path)
    return (dict(db.execute("select point_hash, report from points")),
            sorted(db.execute("select * from layers")))
(a_points, a_layers), (b_points, b_layers) = read(sys.argv[1]), read(sys.argv[2])
if a_points != b_points or a_layers != b_layers:
    missing = set(a_points) - set(b_points); extra = set(b_points) - set(a_points)
    differ = [h for h in set(a_points) & set(b_points) if a_points[h] != b_points[h]]
    sys.exit(f"{sys.argv[2]}: {len(missing)} points missing, {len(extra)} extra, {len(differ)} differ, layers equal: {a_layers == b_layers}")
print(f"{len(b_points)} points and {len(b_layers)} layer rows equal the reference")
PY
}
wait_for_merge() {  # until the merge job has left the queue and the output holds every point
    local output=$1 deadline=$(( $(date +%s) + 240 ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if [ -z "$(squeue --noheader --name=moesim-merge-"$hash" --format=%i)" ] && [ "$(stored "$output")" = "$points" ]; then return 0; fi
        # The merge may finish between the check above and this one: count again once the queue is empty.
        if [ -z "$(squeue --noheader --format=%i)" ]; then
            local held; held=$(stored "$output")
            [ "$held" = "$points" ] && return 0
            fail "the queue emptied but $output holds $held of $points points"
        fi
        sleep 1
    done
    fail "no merge within 240 s"
}

# ---- 1. the reference ------------------------------------------------------------------
"$MOESIM" sweep "$SPEC" -o "$D/local.sqlite" --jobs 2 >/dev/null 2>&1 || fail "the local sweep failed"
points=$(stored "$D/local.sqlite")
say "reference: $points points run here in $(( $(date +%s) - start )) s so far"

# ---- 2. submit, wait, compare -----------------------------------------------------------
mkdir -p "$D/out1"
"$MOESIM" sweep "$SPEC" -o "$D/out1/results.sqlite" --slurm --tasks $TASKS --submit | tee "$D/submit1.txt"
grep -q "submitted array job [0-9]*: shards 0,1,2 of 3" "$D/submit1.txt" || fail "the array job was not submitted"
grep -q "submitted merge job [0-9]* (after [0-9]*)" "$D/submit1.txt" || fail "the merge job was not submitted after the array"
hash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["specHash"][:8])' "$D/out1/results.sqlite.slurm/plan.json")
wait_for_merge "$D/out1/results.sqlite"
"$MOESIM" sweep status "$D/out1/results.sqlite"
same_as_reference "$D/out1/results.sqlite" || fail "the Slurm sweep differs from the local one"
again=$("$MOESIM" sweep "$SPEC" -o "$D/out1/results.sqlite" --slurm --submit)
echo "$again" | grep -q "already holds all $points points; nothing to submit" || fail "a finished sweep was submitted again: $again"
say "3-task sweep through Slurm equals the local run ($(( $(date +%s) - start )) s so far)"

# ---- 3. cancel a task midway, rerun ------------------------------------------------------
mkdir -p "$D/out2"
out=$D/out2/results.sqlite
"$MOESIM" sweep "$SPEC" -o "$out" --slurm --tasks $TASKS --submit | tee "$D/submit2.txt"
array=$(sed -n 's/^submitted array job \([0-9]*\).*/\1/p' "$D/submit2.txt")
shard1=$D/out2/results.sqlite.slurm/shards/shard-1.sqlite
deadline=$(( $(date +%s) + 120 ))
until [ "$(stored "$shard1")" -ge 3 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "shard 1 stored nothing within 120 s"
    sleep 0.2
done
scancel "${array}_1"
for _ in $(seq 40); do squeue --noheader --array --format=%i | grep -qx "${array}_1" || break; sleep 0.25; done
before=$(stored "$shard1")
[ "$before" -lt $(( points / TASKS )) ] || fail "shard 1 finished before it could be cancelled"
say "cancelled ${array}_1 with $before of $(( points / TASKS )) points of shard 1 stored"
"$MOESIM" sweep status "$out" || true
"$MOESIM" sweep "$SPEC" -o "$out" --slurm --submit | tee "$D/resubmit.txt"
grep -q "submitted array job [0-9]*: shards 1 of 3" "$D/resubmit.txt" || fail "the rerun did not resubmit exactly shard 1"
wait_for_merge "$out"
"$MOESIM" sweep status "$out"
same_as_reference "$out" || fail "the resumed Slurm sweep differs from the local one"
resumed=$(grep -c "^sweep '.*' (shard 1/3): $(( points / TASKS - before )) points computed, $before already in" "$D/out2/results.sqlite.slurm/logs/shard-1.out" || true)
[ "$resumed" = 1 ] || fail "shard 1's log does not say it computed $(( points / TASKS - before )) points and found $before stored"
say "cancelled shard resumed: $before points kept, $(( points / TASKS - before )) computed, none repeated"
say "passed in $(( $(date +%s) - start )) s"

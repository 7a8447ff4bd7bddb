#!/usr/bin/env python3
"""Times the host terms of a PyTorch serving engine on the GPU at hand, as eager PyTorch
issues them, beside what `moesim gpu calibrate` measures with bare driver calls.

The engine files price a PyTorch engine's host work with the profile's `sync`, `launch` and
`copy_call` (engines/yalis.toml: `router_sync_ns = "sync + launch"`, `copy_issue_ns =
"copy_call"`; engines/hf-transformers.toml likewise). A calibrated profile holds moesim's own
driver calls; PyTorch adds its dispatch on top. This script measures the same three things
through PyTorch so that the difference is a measured figure, not a guess:

- launch_ns: host time to issue one small eager op (`x.add_(1)` on 16 int32), issued back to
  back, per op (the GPU keeps up: each kernel is a few microseconds).
- copy_call_ns: host time to issue one `dst.copy_(src, non_blocking=True)` of 4 KiB from pinned
  host memory, as YALIS's buffer_manager.py copy_rows does per expert row and weight tensor.
- op_then_read_ns: host wall time of one small op followed by `ids.cpu()` (64 bytes) on an
  idle GPU, as YALIS's manager.py `_move_rows_to_gpu` reads the routed ids
  (`row_indices.cpu()`): the profile prices it as `sync + launch` (engines/yalis.toml's
  `router_sync_ns`), which `gpu calibrate` measures through the driver (its sync is the same
  round trip less the launch gap). CUDA events cannot split it: the event before the op runs
  while the host is still dispatching it. The 2026-12-04 runs printed it as `sync_wall_ns`.

Medians of 7 repetitions. Prints one JSON object; with --toml, a hardware profile's
`[framework.pytorch]` table instead (launch_ns, sync_ns = op_then_read_ns − launch_ns so that
`sync + launch` is the round trip, copy_call_ns, measured_on), to append to the profile that
`moesim gpu calibrate` wrote on the same machine: engines whose host code is PyTorch
(`framework = "pytorch"` in engines/*.toml) then have their host operations priced by it.
Needs a CUDA GPU and PyTorch.

    python3 Benchmarks/torch-host-terms.py [--toml] [>> profile.toml]
"""
import datetime
import json
import platform
import statistics
import sys
import time

import torch


def median_of(fn, repetitions=7):
    return statistics.median(fn() for _ in range(repetitions))


def launch_ns(x, n=20000):
    torch.cuda.synchronize()
    start = time.perf_counter_ns()
    for _ in range(n):
        x.add_(1)
    elapsed = time.perf_counter_ns() - start
    torch.cuda.synchronize()
    return elapsed / n


def copy_call_ns(dst, src, n=5000):
    torch.cuda.synchronize()
    start = time.perf_counter_ns()
    for i in range(n):
        dst[i % dst.shape[0]].copy_(src[i % src.shape[0]], non_blocking=True)
    elapsed = time.perf_counter_ns() - start
    torch.cuda.synchronize()
    return elapsed / n


def op_then_read_ns(x, n=2000):
    walls = []
    for _ in range(n):
        torch.cuda.synchronize()
        start = time.perf_counter_ns()
        x.add_(1)
        x.cpu()
        walls.append(time.perf_counter_ns() - start)
    return statistics.median(walls)


def main():
    torch.cuda.init()
    device = torch.device("cuda")
    x = torch.zeros(16, dtype=torch.int32, device=device)
    rows = 64
    src = torch.zeros(rows, 1024, dtype=torch.int32).pin_memory()
    dst = torch.zeros(rows, 1024, dtype=torch.int32, device=device)
    for _ in range(3):  # warm-up: first calls load kernels and set up the allocator
        launch_ns(x, 1000)
        copy_call_ns(dst, src, 500)
        op_then_read_ns(x, 100)
    terms = {
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "launch_ns": round(median_of(lambda: launch_ns(x))),
        "copy_call_ns": round(median_of(lambda: copy_call_ns(dst, src))),
        "op_then_read_ns": round(median_of(lambda: op_then_read_ns(x))),
        "repetitions": 7,
    }
    print(framework_table(terms) if "--toml" in sys.argv[1:] else json.dumps(terms))


def host_cpu():
    """The host CPU's model name (Linux), else the platform's word for it."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def framework_table(terms):
    """The terms as a hardware profile's [framework.pytorch] table."""
    measured_on = "PyTorch %s (CUDA %s) on %s, host %s, Benchmarks/torch-host-terms.py, %s" % (
        terms["torch"], terms["cuda"], terms["gpu"], host_cpu(),
        datetime.date.today().isoformat())
    return "\n".join([
        "",
        "[framework.pytorch]   # the host's operations through this framework, for engines whose host code runs in it",
        "launch_ns = %d  # one small eager operation issued" % terms["launch_ns"],
        "sync_ns = %d  # an operation's few bytes read on the host, less one launch" % max(0, terms["op_then_read_ns"] - terms["launch_ns"]),
        "copy_call_ns = %d  # one non-blocking host-to-device copy issued" % terms["copy_call_ns"],
        "measured_on = %s" % json.dumps(measured_on),
    ])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Per-kernel device times of an engine run from Nsight Compute's CSV, grouped by task (layer suffix dropped).

TornadoVM's own profiler reports no kernel times for plans replayed as CUDA graphs (PTX), so time the kernels with
Nsight Compute on the GPU machine, skipping the start-up and warm-up launches:
    ncu --clock-control none --metrics gpu__time_duration.sum --launch-skip 4000 --launch-count 450 --csv \\
        --log-file ncu.csv scripts/bt-tornado bench --backend tornado --device ptx --weights f16 --kv-cache f16 \\
        --models vanilla-410m --prompt-len 128 --new-tokens 64 --batch-sizes 1 --format json --no-files --no-charts
    scripts/ncu_kernels.py ncu.csv
TornadoVM names a kernel <graph>_<task>_<layer>_<method>_...: the graphs are in (the call's inputs), g0.. (few-token
layer groups), p0.. / t0.. (many-token: float32 tiles / tensor cores), out (final LayerNorm) and linear (the output
head and token selection). Launches are summed per graph family and task, e.g. g:attn for every layer's attention in
the few-token graphs.
"""
import argparse
import collections
import csv
import re
import sys

UNITS = {"ns": 1.0, "nsecond": 1.0, "us": 1e3, "usecond": 1e3, "ms": 1e6, "msecond": 1e6, "s": 1e9, "second": 1e9}


def records(path):
    """(kernel name, nanoseconds) of every row of the CSV that has a duration."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        sys.exit(f"ncu_kernels: cannot read {path}: {e.strerror}")
    header = None
    for row in rows:
        if "Kernel Name" in row and "Metric Value" in row:
            header = row
            continue
        if header is None or len(row) != len(header):
            continue
        d = dict(zip(header, row))
        unit = UNITS.get(d.get("Metric Unit", "nsecond"))
        if unit is None:
            sys.exit(f"ncu_kernels: unexpected unit {d.get('Metric Unit')!r} in {path}")
        yield d["Kernel Name"], float(d["Metric Value"].replace(",", "")) * unit
    if header is None:
        sys.exit(f"ncu_kernels: {path} has no 'Kernel Name' / 'Metric Value' table (was it written with --csv?)")


def task_of(name):
    """'g3_up_5_linear_uk_...' -> 'g:up'; names of another shape are kept whole, shortened."""
    m = re.match(r"([a-z]+)\d*_([a-zA-Z]+)", name)
    return f"{m.group(1)}:{m.group(2)}" if m else name[:40]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("csv", help="Nsight Compute CSV (--csv --log-file FILE, metric gpu__time_duration.sum)")
    args = p.parse_args()
    total = collections.defaultdict(float)
    count = collections.Counter()
    for name, ns in records(args.csv):
        key = task_of(name)
        total[key] += ns
        count[key] += 1
    if not count:
        sys.exit(f"ncu_kernels: no kernel durations in {args.csv}")
    all_ns = sum(total.values())
    print(f"{sum(count.values())} launches, {all_ns / 1e3:.1f} us of kernel time")
    print(f"{'task':24s} {'launches':>8s} {'total us':>10s} {'us/launch':>10s} {'share':>6s}")
    for key, ns in sorted(total.items(), key=lambda kv: -kv[1]):
        print(f"{key:24s} {count[key]:8d} {ns / 1e3:10.1f} {ns / 1e3 / count[key]:10.2f} {100 * ns / all_ns:5.1f}%")


if __name__ == "__main__":
    main()

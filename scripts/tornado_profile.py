#!/usr/bin/env python3
"""Where a GPU run's time goes: a summary of TornadoVM's profiler dump, per stack call and per kernel.

Run the engine with TornadoVM's profiler writing its JSON to a file, then summarise it:

    BT_JAVA_OPTS="-Dtornado.profiler=True -Dtornado.profiler.dump.dir=profile.json" \\
        scripts/bt-tornado bench --backend tornado --device 0:0 --models vanilla-410m --prompt-len 128 \\
        --new-tokens 8 --batch-sizes 256 --warmup-tokens 0 --format json --no-files
    scripts/tornado_profile.py profile.json            # every stack call: family, graph time, kernel time
    scripts/tornado_profile.py profile.json --last 3   # per-kernel times over the last 3 stack calls
    scripts/tornado_profile.py profile.json --calls 66-68   # ... over calls 66 to 68 (numbers from the listing)

A stack call is the run of graphs from one `in` graph to the next (`in`, the layer groups `g0..` or `p0..`, `out`);
kernels are grouped by task name without the layer suffix (`up_7` -> `up`). Times are TornadoVM's: TOTAL_TASK_GRAPH_TIME
per graph and TASK_KERNEL_TIME per task, in nanoseconds in the dump, printed in milliseconds. The profiler itself
synchronises after every task, so graph times are upper bounds; kernel times are the device's.
"""
import argparse
import collections
import json
import re
import sys


def graph_executions(path):
    """Every (graph name, its record) in the order TornadoVM wrote them (the dump is a stream of JSON objects)."""
    with open(path, encoding="utf-8") as f:
        # The dump leaves a trailing comma before some closing braces.
        text = re.sub(r",(\s*})", r"\1", f.read())
    decoder = json.JSONDecoder()
    at = 0
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text):
            return
        obj, at = decoder.raw_decode(text, at)
        for name, record in obj.items():
            yield name, record


def stack_calls(executions):
    """Groups graph executions into stack calls; graphs before the first `in` (the output head) are skipped."""
    calls = []
    for name, record in executions:
        if name == "in":
            calls.append({"family": "", "graph_ns": 0, "kernels": collections.Counter(), "launches": collections.Counter()})
        if not calls:
            continue
        call = calls[-1]
        if re.fullmatch(r"[gp]\d+", name):
            call["family"] = "few-token" if name[0] == "g" else "many-token"
        call["graph_ns"] += int(record.get("TOTAL_TASK_GRAPH_TIME", 0))
        for task, t in record.items():
            if isinstance(t, dict) and "TASK_KERNEL_TIME" in t:
                kernel = re.sub(r"_\d+$", "", task.split(".", 1)[1])
                call["kernels"][kernel] += int(t["TASK_KERNEL_TIME"])
                call["launches"][kernel] += 1
    return calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump", help="the file given to -Dtornado.profiler.dump.dir")
    parser.add_argument("--last", type=int, default=0, help="per-kernel times over the last N stack calls")
    parser.add_argument("--calls", default="", help="per-kernel times over stack calls A-B (inclusive)")
    args = parser.parse_args()
    try:
        calls = stack_calls(graph_executions(args.dump))
    except (OSError, ValueError) as e:
        sys.exit(f"tornado_profile: cannot read {args.dump}: {e}")
    if not calls:
        sys.exit(f"tornado_profile: no stack calls in {args.dump} (was it written with -Dtornado.profiler=True?)")
    if args.calls:
        try:
            first, last = (int(v) for v in args.calls.split("-"))
        except ValueError:
            sys.exit(f"tornado_profile: --calls wants A-B, e.g. 66-68, got '{args.calls}'")
        if not 0 <= first <= last < len(calls):
            sys.exit(f"tornado_profile: --calls {args.calls}: the dump has calls 0-{len(calls) - 1}")
        chosen = calls[first:last + 1]
    elif args.last > 0:
        chosen = calls[-args.last:]
    else:
        print(f"{'call':>5}  {'family':<10}  {'graph ms':>9}  {'kernel ms':>9}  largest kernels (ms)")
        for i, c in enumerate(calls):
            top = ", ".join(f"{k} {v / 1e6:.2f}" for k, v in c["kernels"].most_common(4))
            print(f"{i:>5}  {c['family']:<10}  {c['graph_ns'] / 1e6:>9.2f}  {sum(c['kernels'].values()) / 1e6:>9.2f}  {top}")
        return
    kernels = collections.Counter()
    launches = collections.Counter()
    for c in chosen:
        kernels.update(c["kernels"])
        launches.update(c["launches"])
    n = len(chosen)
    print(f"{n} stack call(s), per call:")
    print(f"{'kernel':<14}  {'ms':>8}  {'launches':>8}  {'us/launch':>9}")
    for k, v in kernels.most_common():
        print(f"{k:<14}  {v / 1e6 / n:>8.2f}  {launches[k] / n:>8.0f}  {v / 1e3 / launches[k]:>9.1f}")
    total = sum(kernels.values()) / 1e6 / n
    graph = sum(c["graph_ns"] for c in chosen) / 1e6 / n
    print(f"{'all kernels':<14}  {total:>8.2f}    (graph time {graph:.2f} ms)")


if __name__ == "__main__":
    main()

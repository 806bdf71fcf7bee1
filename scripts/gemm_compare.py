#!/usr/bin/env python3
"""Times cuBLAS (through PyTorch) on the shapes GemmBenchmark measured and prints our kernels beside it.

Reads the JSON lines GemmBenchmark wrote (n, k, m, kernel, median_us, tflops, max_err), times
torch.matmul(x[m, k], w[n, k].T) in float16 and in float32 (TF32 off: plain float32 arithmetic, as ours) on the
same card with CUDA events (median of 20 after 5 warm-ups, fresh random operands), and prints one row per shape
and token count: our tensor-core kernel against cuBLAS fp16, our tiled kernels against cuBLAS fp32. Writes the
combined rows as JSON (--out) for docs/results.

    python3 scripts/gemm_compare.py ours.jsonl [--out gemm.json]
"""
import argparse
import json
import statistics
import sys


def time_cublas(torch, m, n, k, dtype):
    x = torch.randn(m, k, device="cuda", dtype=dtype)
    w = torch.randn(n, k, device="cuda", dtype=dtype) / k ** 0.5
    for _ in range(5):
        torch.matmul(x, w.t())
    times = []
    for _ in range(20):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        torch.matmul(x, w.t())
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1e3)
    us = statistics.median(times)
    return us, 2.0 * m * n * k / (us * 1e-6) / 1e12


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ours", help="GemmBenchmark's JSON lines")
    p.add_argument("--out", help="write the combined rows as JSON here")
    a = p.parse_args()
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    rows = [json.loads(line) for line in open(a.ours) if line.strip()]
    by_case = {}
    for r in rows:
        by_case.setdefault((r["n"], r["k"], r["m"]), {})[r["kernel"]] = r
    card = torch.cuda.get_device_name(0)
    out = []
    print(f"card: {card}; TFLOP/s of 2*M*N*K over the median kernel time; % of cuBLAS in the same precision")
    print(f"{'N x K':>12} {'M':>5} | {'cuBLAS f16':>10} {'mma':>7} {'%':>5} | {'cuBLAS f32':>10}"
          f" {'tiled':>7} {'%':>5} | {'tiled-f16w':>10} | {'mma err':>8}")
    for (n, k, m), kernels in sorted(by_case.items(), key=lambda e: (e[0][0] * e[0][1], e[0][2])):
        f16_us, f16 = time_cublas(torch, m, n, k, torch.float16)
        f32_us, f32 = time_cublas(torch, m, n, k, torch.float32)
        mma = kernels.get("mma", {}).get("tflops")
        tiled = kernels.get("tiled-f32", {}).get("tflops")
        tiled16 = kernels.get("tiled-f16", {}).get("tflops")
        err = kernels.get("mma", {}).get("max_err")

        def pct(ours, ref):
            return f"{100 * ours / ref:5.1f}" if ours is not None else "    -"

        def val(v):
            return f"{v:7.1f}" if v is not None else "      -"
        print(f"{n:>6}x{k:<5} {m:>5} | {f16:10.1f} {val(mma)} {pct(mma, f16)} |"
              f" {f32:10.1f} {val(tiled)} "
              f"{pct(tiled, f32)} | {(tiled16 or 0):10.1f} | {err if err is not None else '-':>8}")
        out.append({"n": n, "k": k, "m": m, "card": card, "cublas_f16_tflops": f16, "cublas_f16_us": f16_us,
                    "cublas_f32_tflops": f32, "cublas_f32_us": f32_us, "ours": kernels})
    if a.out:
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Side by side on the CPU: Hugging Face transformers' generate() and this engine on the same model shape.

Builds a GPTNeoXForCausalLM with random weights in the shape of the engine's `vanilla-70m` preset (Pythia-70M:
vocabulary 50304, hidden 512, 6 layers, 8 heads, intermediate 2048, rotary on 25% of each head, parallel residual),
float32 on the CPU, and times greedy generate() of random prompts (prompt 128, 128 new tokens, every token generated)
at batch 1 and 32. Then runs `scripts/bt bench` on the same shape and lengths and prints tokens/s of both and the
ratio engine / PyTorch.

If torch and transformers cannot be imported, it says so and compares against the PyTorch numbers recorded earlier
on the 2-core development machine (PyTorch 2.13, fp32: 76 tok/s at batch 1, 220 at batch 8, 451 at batch 32),
labelled as recorded. Install them with your package manager or pip (e.g. `pip install torch transformers`) for a
measurement on your machine.

Usage:
  scripts/pytorch_compare.py                      batch 1 and 32, prompt 128, 128 new
  scripts/pytorch_compare.py --batch-sizes 1,8,32 --threads 2
  scripts/pytorch_compare.py --json               one JSON object per batch size
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESET = "vanilla-70m"
SHAPE = dict(vocab_size=50304, hidden_size=512, num_hidden_layers=6, num_attention_heads=8,
             intermediate_size=2048, max_position_embeddings=2048)
# Measured earlier with this script's method on the 2-core development machine (AMD EPYC, AVX-512), PyTorch 2.13,
# transformers 5.17, fp32, prompt 128, 128 new tokens.
RECORDED = {1: 76.0, 8: 220.0, 32: 451.0}
RECORDED_NOTE = "recorded earlier on the 2-core development machine (PyTorch 2.13, fp32, prompt 128, 128 new)"


def torch_available():
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
        return None
    except Exception as e:  # ImportError, or a broken installation
        return f"{type(e).__name__}: {e}"


def torch_tokens_per_second(batch_sizes, prompt_len, new_tokens, threads, seed):
    import torch
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    config = GPTNeoXConfig(**SHAPE, rotary_pct=0.25, rotary_emb_base=10000, use_parallel_residual=True,
                           hidden_act="gelu", layer_norm_eps=1e-5, bos_token_id=0, eos_token_id=0,
                           pad_token_id=0, tie_word_embeddings=False)
    model = GPTNeoXForCausalLM(config).to(torch.float32).eval()
    out = {}
    for b in batch_sizes:
        ids = torch.randint(1, SHAPE["vocab_size"], (b, prompt_len), generator=torch.Generator().manual_seed(seed + b))
        mask = torch.ones_like(ids)
        kwargs = dict(attention_mask=mask, do_sample=False, pad_token_id=0, num_beams=1)
        with torch.inference_mode():
            # Warm-up with the same shapes, fewer tokens.
            model.generate(ids, max_new_tokens=8, min_new_tokens=8, **kwargs)
            t0 = time.perf_counter()
            res = model.generate(ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, **kwargs)
            seconds = time.perf_counter() - t0
        generated = (res.shape[1] - prompt_len) * b
        out[b] = generated / seconds
        print(f"pytorch: batch {b}: {out[b]:.1f} tok/s ({seconds:.2f} s)", file=sys.stderr)
    return out, f"measured now (torch {torch.__version__}, {torch.get_num_threads()} threads)"


def engine_tokens_per_second(batch_sizes, prompt_len, new_tokens, threads, weights):
    cmd = [os.path.join(ROOT, "scripts", "bt"), "bench", "--models", PRESET, "--prompt-len", str(prompt_len),
           "--new-tokens", str(new_tokens), "--batch-sizes", ",".join(str(b) for b in batch_sizes),
           "--weights", weights, "--format", "json", "--no-files", "--quiet"]
    if threads:
        cmd += ["--threads", str(threads)]
    print("engine: " + " ".join(cmd[1:]), file=sys.stderr)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    if proc.returncode != 0:
        sys.exit(f"error: the engine benchmark failed (exit {proc.returncode})")
    out = {}
    device = ""
    for line in proc.stdout.splitlines():
        if line.strip():
            run = json.loads(line)
            out[run["batch_size"]] = run["tokens_per_s"]
            device = run["device"]
    return out, device


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-sizes", default="1,32", help="comma-separated batch sizes (default 1,32)")
    p.add_argument("--prompt-len", type=int, default=128)
    p.add_argument("--new-tokens", type=int, default=128)
    p.add_argument("--threads", type=int, default=0, help="threads for both (0 = their defaults: all cores)")
    p.add_argument("--weights", default="f32", choices=["f32", "bf16"], help="the engine's weights in memory")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-torch", action="store_true", help="use the recorded PyTorch numbers")
    p.add_argument("--json", action="store_true", help="print one JSON object per batch size")
    a = p.parse_args()
    batch_sizes = [int(b) for b in a.batch_sizes.split(",")]

    why = "--skip-torch given" if a.skip_torch else torch_available()
    if why is None:
        torch_tps, torch_source = torch_tokens_per_second(batch_sizes, a.prompt_len, a.new_tokens, a.threads, a.seed)
    else:
        print(f"PyTorch/transformers are not usable here ({why}).", file=sys.stderr)
        print(f"Comparing with the PyTorch numbers {RECORDED_NOTE}.", file=sys.stderr)
        if (a.prompt_len, a.new_tokens) != (128, 128):
            print("warning: the recorded numbers are for prompt 128, 128 new tokens", file=sys.stderr)
        torch_tps = {b: RECORDED[b] for b in batch_sizes if b in RECORDED}
        torch_source = "recorded"

    engine_tps, device = engine_tokens_per_second(batch_sizes, a.prompt_len, a.new_tokens, a.threads, a.weights)

    rows = []
    for b in batch_sizes:
        t = torch_tps.get(b)
        e = engine_tps.get(b)
        rows.append(dict(model=PRESET, batch_size=b, prompt_len=a.prompt_len, new_tokens=a.new_tokens,
                         pytorch_tokens_per_s=t, pytorch_source=torch_source, engine_tokens_per_s=e,
                         engine_weights=a.weights, ratio=(e / t if t and e else None), device=device))
    if a.json:
        for r in rows:
            print(json.dumps(r))
        return
    print(f"{PRESET} shape, prompt {a.prompt_len}, {a.new_tokens} new tokens, greedy, float32 PyTorch vs engine "
          f"({a.weights} weights)")
    print(f"engine device: {device}")
    print(f"PyTorch: {torch_source if torch_source != 'recorded' else RECORDED_NOTE}")
    print(f"{'batch':>5}  {'PyTorch tok/s':>14}  {'engine tok/s':>12}  {'engine / PyTorch':>16}  goal 2x")
    for r in rows:
        t = r["pytorch_tokens_per_s"]
        ratio = r["ratio"]
        label = "" if torch_source != "recorded" else " (rec.)"
        print(f"{r['batch_size']:>5}  {(f'{t:.1f}' + label) if t else 'n/a':>14}  "
              f"{r['engine_tokens_per_s']:>12.1f}  {(f'{ratio:.2f}x' if ratio else 'n/a'):>16}  "
              f"{('met' if ratio and ratio >= 2 else 'not met') if ratio else ''}")


if __name__ == "__main__":
    main()

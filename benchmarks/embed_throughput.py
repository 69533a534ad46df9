"""Embedding throughput: images/s and peak GPU memory per backbone, batch size and precision.

Runs on CPU with a tiny random model (a smoke test of the numbers' plumbing) and, on CUDA, also on
real-size randomly initialised DINOv2 ViT-g/14 and OpenCLIP ViT-bigG-14 (no weights needed: random
weights cost the same FLOPs). Two measurements per configuration:

* ``model``: forward passes on a pre-made (B, 3, 224, 224) batch already on the device (the ceiling);
* ``pipeline`` (tiny model only): ``alkit.embedding.embed`` end to end on a generated ImageFolder
  (decode + transform + DataLoader + model + chunked cache writes).

Usage::

    python benchmarks/embed_throughput.py                 # auto device, writes benchmarks/results/latest/
    python benchmarks/embed_throughput.py --device cpu --quick
    python benchmarks/embed_throughput.py --budget-s 240  # stop starting new configs after 240 s
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alkit.embedding import backbones  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
FIELDS = [
    "mode",
    "backbone",
    "params_m",
    "batch_size",
    "precision",
    "device",
    "device_name",
    "images",
    "seconds",
    "images_per_s",
    "peak_mem_gb",
    "torch",
]


def _tiny_openclip() -> str:
    import open_clip

    open_clip.factory._MODEL_CONFIGS["bench-tiny-vit"] = {
        "embed_dim": 64,
        "vision_cfg": {
            "image_size": 224,
            "layers": 4,
            "width": 128,
            "head_width": 32,
            "patch_size": 16,
        },
        "text_cfg": {"context_length": 8, "vocab_size": 64, "width": 16, "heads": 2, "layers": 1},
    }
    return "openclip:bench-tiny-vit:random"


def _models(device: torch.device) -> list[tuple[str, str]]:
    """(label, registry name) pairs; real sizes only on CUDA."""
    backbones.register_dinov2(
        "bench:dinov2-tiny",
        "vit_small_patch14_dinov2",
        pretrained=False,
        timm_kwargs={"embed_dim": 64, "depth": 4, "num_heads": 2},
        overwrite=True,
    )
    out = [("dinov2-tiny (random)", "bench:dinov2-tiny")]
    try:
        out.append(("openclip-tiny (random)", _tiny_openclip()))
    except ImportError:
        pass
    if device.type == "cuda":
        backbones.register_dinov2(
            "bench:dinov2-vitg14-random",
            "vit_giant_patch14_dinov2",
            pretrained=False,
            dim=1536,
            overwrite=True,
        )
        out.append(("dinov2 ViT-g/14 (random)", "bench:dinov2-vitg14-random"))
        out.append(("openclip ViT-bigG-14 (random)", "openclip:ViT-bigG-14:random"))
    return out


def _device_name(device: torch.device) -> str:
    return (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else (platform.processor() or "cpu")
    )


def bench_model(name: str, device: torch.device, batch: int, precision: str, iters: int) -> dict:
    from alkit.embedding.extract import _autocast

    torch.manual_seed(0)
    b = backbones.load_backbone(name, device, download=False)
    params = sum(p.numel() for p in b.model.parameters()) / 1e6
    x = torch.randn(batch, 3, 224, 224, device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with torch.inference_mode(), _autocast(device, precision):
        b.model(x)  # warm-up (kernels, allocator)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        for _ in range(iters):
            b.model(x)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        dt = time.perf_counter() - t0
    peak = (
        torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
    )
    del b, x
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return {
        "mode": "model",
        "params_m": round(params, 1),
        "batch_size": batch,
        "precision": precision,
        "images": batch * iters,
        "seconds": round(dt, 4),
        "images_per_s": round(batch * iters / dt, 1),
        "peak_mem_gb": round(peak, 3),
    }


def bench_pipeline(
    name: str, device: torch.device, batch: int, precision: str, n_images: int
) -> dict:
    from PIL import Image

    from alkit.embedding import embed

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bench"
        for k in range(4):
            d = root / "train" / f"c{k}"
            d.mkdir(parents=True)
            for i in range(n_images // 4):
                arr = rng.integers(0, 255, (256, 320, 3), dtype=np.uint8)
                Image.fromarray(arr).save(d / f"{i:05d}.jpg", quality=90)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        emb = embed(
            root,
            name,
            device=str(device),
            batch_size=batch,
            precision=precision,
            progress=False,
            cache_dir=Path(tmp) / "cache",
            chunk_size=max(batch, 512),
        )
        dt = time.perf_counter() - t0
    peak = (
        torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
    )
    return {
        "mode": "pipeline",
        "params_m": float("nan"),
        "batch_size": batch,
        "precision": precision,
        "images": len(emb.x_train),
        "seconds": round(dt, 3),
        "images_per_s": round(len(emb.x_train) / dt, 1),
        "peak_mem_gb": round(peak, 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--batch-sizes", type=int, nargs="+", default=None, help="default: 64 256 (CUDA), 16 (CPU)"
    )
    p.add_argument(
        "--precisions", nargs="+", default=None, help="default: fp16 fp32 (CUDA), fp32 (CPU)"
    )
    p.add_argument(
        "--iters", type=int, default=None, help="timed forward passes (default 10 CUDA, 3 CPU)"
    )
    p.add_argument(
        "--pipeline-images", type=int, default=None, help="images for the end-to-end run"
    )
    p.add_argument(
        "--budget-s", type=float, default=270.0, help="do not start new configs after this"
    )
    p.add_argument(
        "--quick", action="store_true", help="one batch size, fewer images (CI smoke run)"
    )
    p.add_argument(
        "--out",
        default=None,
        help="CSV path (default benchmarks/results/latest/embed_throughput_<device>.csv; "
        "--quick: benchmarks/results/quick/)",
    )
    args = p.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from alkit._devices import resolve_device

    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    batches = (
        args.batch_sizes or ([64] if args.quick else [64, 256])
        if cuda
        else (args.batch_sizes or [16])
    )
    precisions = args.precisions or (["fp16", "fp32"] if cuda else ["fp32"])
    iters = args.iters or (10 if cuda else 3)
    n_pipe = args.pipeline_images or (2048 if cuda and not args.quick else 128)
    out = (
        Path(args.out)
        if args.out
        else OUT / ("quick" if args.quick else "latest") / f"embed_throughput_{device.type}.csv"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    common = {
        "device": str(device),
        "device_name": _device_name(device),
        "torch": torch.__version__,
    }

    start, rows = time.perf_counter(), []
    for label, name in _models(device):
        for prec in precisions:
            for bs in batches:
                if time.perf_counter() - start > args.budget_s:
                    print(f"budget reached, skipping {label} bs={bs} {prec}", flush=True)
                    continue
                try:
                    row = bench_model(name, device, bs, prec, iters)
                except torch.cuda.OutOfMemoryError:
                    row = {
                        "mode": "model",
                        "batch_size": bs,
                        "precision": prec,
                        "images_per_s": "OOM",
                    }
                    torch.cuda.empty_cache()
                rows.append({**common, **row, "backbone": label})
                print(rows[-1], flush=True)
        if name.startswith("bench:dinov2-tiny") and time.perf_counter() - start < args.budget_s:
            rows.append(
                {
                    **common,
                    **bench_pipeline(name, device, batches[0], precisions[0], n_pipe),
                    "backbone": label,
                }
            )
            print(rows[-1], flush=True)
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in FIELDS})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

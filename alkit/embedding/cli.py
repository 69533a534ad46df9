"""``alkit embed``: embed a data set with a frozen backbone and cache it."""

from __future__ import annotations

import argparse

EPILOG = """examples:
  alkit embed --dataset cifar100 --backbone dinov2:vitg14 --root ~/data/cifar100
  alkit embed --dataset ~/my_images --backbone openclip:ViT-B-16:laion2b_s34b_b88k --on-corrupt skip
  alkit embed --dataset my_images --root ./images --backbone torchvision:resnet18:random
  alkit embed --dataset labels.csv --backbone torchvision:resnet18 --device cpu
  alkit embed --dataset cifar100 --backbone openclip:ViT-B-16:laion2b_s34b_b88k --text-templates prompts.txt
  alkit embed --dataset cifar100 --backbone openclip:ViT-B-16:laion2b_s34b_b88k --add-text
  alkit embed --list-backbones
then: alkit run --dataset cifar100__dinov2:vitg14 --strategy dropquery
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``alkit embed``."""
    parser.epilog = EPILOG
    parser.add_argument(
        "--dataset",
        help="data card name (see `alkit datasets`), image folder, or path,label CSV; or a name "
        "of your choice with --root the folder or CSV of your images",
    )
    parser.add_argument(
        "--backbone",
        help="e.g. dinov2:vitg14, openclip:ViT-bigG-14:laion2b_s39b_b160k, torchvision:resnet18",
    )
    parser.add_argument(
        "--root",
        default=None,
        help="where the images are (default $ALKIT_HOME/data/<dataset>): class folders "
        "root/<class>/*.jpg (labeled by folder), a flat root/*.jpg (unlabeled) or both",
    )
    parser.add_argument(
        "--unlabeled",
        action="store_true",
        help="your own images: ignore class-folder names (and CSV labels), every image unlabeled",
    )
    parser.add_argument(
        "--name", default=None, help="data-set name in the cache key (default: card/folder name)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=64, help="images per forward pass (default: 64)"
    )
    parser.add_argument(
        "--num-workers",
        type=int,
        default=None,
        help="DataLoader workers (default 8 on CUDA, 0 on CPU)",
    )
    parser.add_argument("--chunk-size", type=int, default=4096, help="images per resumable chunk")
    parser.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda")
    parser.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "fp16", "bf16"],
        help="autocast precision of the backbone (auto: fp16 on GPU, fp32 on CPU)",
    )
    parser.add_argument("--cache-dir", default=None, help="default $ALKIT_HOME/embeddings")
    parser.add_argument(
        "--on-corrupt",
        default="fail",
        choices=["fail", "skip"],
        help="unreadable image: stop with its path (fail) or leave it out and list it (skip)",
    )
    parser.add_argument("--force", action="store_true", help="recompute even if cached")
    parser.add_argument("--no-download", action="store_true", help="never download weights")
    parser.add_argument(
        "--download-data", action="store_true", help="let torchvision download the data set"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--list-backbones", action="store_true", help="print the backbone registry and exit"
    )
    text = parser.add_argument_group(
        "class texts (openclip: backbones)",
        "the class names' text embeddings, the zero-shot classifier, are stored with the cache",
    )
    text.add_argument(
        "--add-text",
        action="store_true",
        help="add the class text embeddings to the existing cache of --dataset/--backbone (or "
        "the .npz given as --dataset) without reading or re-embedding any image",
    )
    text.add_argument(
        "--text-templates",
        default=None,
        metavar="FILE",
        help="prompt templates, one per line with {} for the class name (default: open_clip's "
        "80 OpenAI ImageNet templates)",
    )
    text.add_argument(
        "--class-names",
        default=None,
        metavar="FILE",
        help="names to put into the templates, one per line in class order (default: the data "
        "card's class_descriptions, else the class names)",
    )
    text.add_argument("--no-text", action="store_true", help="store no class text embeddings")


def format_backbones(backbones, width: int = 100) -> str:
    """The registry as a table of at most ``width`` columns, then the name patterns, with the
    ``:random`` variants that need no download (tests, teaching, offline runs)."""
    lines = [f"{'name':<40} {'dim':>5}  {'weights':<8}  licence"]
    for name in backbones.available():
        i = backbones.info(name)
        dim = "?" if i["dim"] is None else str(i["dim"])
        line = f"{name:<40} {dim:>5}  {i['weights_size']:<8}  {i['license']}"
        lines.append(line if len(line) <= width else line[: width - 1] + "…")
    lines += [
        "",
        "Also by pattern (weights downloaded on first use unless the tag is `random`):",
        "  openclip:<arch>:<tag>         any pair of open_clip.list_pretrained()",
        "  torchvision:<model>           any torchvision.models classifier (ImageNet-1k weights)",
        "Random weights, no download (tests, teaching, offline runs):",
        "  openclip:<arch>:random        e.g. openclip:ViT-B-32:random",
        "  torchvision:<model>:random    e.g. torchvision:resnet18:random",
        "  dim ? = found on the first batch.",
    ]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    """Run ``alkit embed``; returns the exit status."""
    from . import backbones
    from .extract import cache_path, embed
    from .images import describe_layout

    if args.list_backbones:
        print(format_backbones(backbones))
        return 0
    names = None
    if args.class_names:  # one name per line, in class order
        from pathlib import Path

        lines = Path(args.class_names).expanduser().read_text(encoding="utf-8-sig").splitlines()
        names = [ln.strip() for ln in lines if ln.strip()]
    if args.add_text:
        return _add_text(args, names)
    if not args.dataset or not args.backbone:
        from ..errors import InvalidInputError

        raise InvalidInputError(
            "alkit embed needs --dataset and --backbone, e.g. `alkit embed --dataset ./images "
            "--backbone torchvision:resnet18:random`; `alkit embed --list-backbones` lists them."
        )
    emb = embed(
        args.dataset,
        args.backbone,
        args.root,
        device=args.device,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        cache_dir=args.cache_dir,
        chunk_size=args.chunk_size,
        precision=args.precision,
        on_corrupt=args.on_corrupt,
        force=args.force,
        download_weights=not args.no_download,
        download_data=args.download_data,
        progress=not args.no_progress,
        name=args.name,
        unlabeled=args.unlabeled,
        text=not args.no_text,
        text_templates=args.text_templates,
        class_names=names,
    )
    path = cache_path(emb.dataset, emb.backbone, args.cache_dir)
    source = emb.meta.get("data_source") or {}
    if source.get("kind") in ("image_folder", "csv"):
        print(
            describe_layout(
                source.get("layout"), emb.y_train, emb.n_classes, emb.meta.get("data_root")
            )
        )
    test = f", test {emb.x_test.shape}" if emb.has_test else ""
    print(
        f"{emb!r}\ntrain {emb.x_train.shape}{test}, skipped {emb.meta.get('n_skipped', 0)}\ncache: {path}"
    )
    key = f"{emb.dataset}__{emb.backbone}"
    if emb.has_text:
        print(_text_line(emb))
    if (emb.y_train < 0).any():
        print(f"use: alkit next --project my_project --embeddings {key} --classes classes.txt")
    else:
        print(f"use: alkit run --dataset {key}")
    return 0


def _text_line(emb) -> str:
    t = emb.meta.get("text", {})
    line = (
        f"class texts: {emb.class_text.shape[0]} classes × {t.get('n_templates')} templates "
        f"({t.get('names_from')})"
    )
    if emb.has_test:
        from ..zeroshot import zeroshot_metrics

        acc = zeroshot_metrics(emb.x_test, emb.y_test, emb.class_text)["accuracy"]
        line += f"; zero-shot accuracy on the test split {100 * acc:.1f} %"
    return line


def _add_text(args, names) -> int:
    """``alkit embed --add-text``: the class texts into an existing cache, images untouched."""
    from pathlib import Path

    from ..errors import MissingResourceError
    from .extract import cache_path
    from .text import add_text

    if not args.dataset:
        raise SystemExit("alkit embed --add-text: --dataset is required (a cache entry or .npz)")
    target = Path(args.dataset).expanduser()
    if not (target.is_file() or (target.is_dir() and (target / "meta.json").exists())):
        if not args.backbone:
            raise SystemExit("alkit embed --add-text: --backbone is required with a data-set name")
        s = str(args.dataset)
        name = args.name or (Path(s).stem if ("/" in s or s.endswith(".csv")) else s)
        target = cache_path(name, args.backbone, args.cache_dir)
        if not target.exists():
            raise MissingResourceError(
                f"No cached embeddings at {target}; embed the images first (alkit embed without "
                "--add-text), which stores the class texts too."
            )
    emb = add_text(
        target,
        backbone=args.backbone,
        templates=args.text_templates,
        class_names=names,
        device=args.device,
        download_weights=not args.no_download,
    )
    print(f"{emb!r}\n{_text_line(emb)}\ncache: {target} (images not re-embedded)")
    return 0

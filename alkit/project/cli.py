"""The practitioner's commands: ``alkit next`` (in a labeling project, or stateless) and
``alkit project init | status | relabel``."""

from __future__ import annotations

import argparse
from pathlib import Path

NEXT_EPILOG = """examples:
  a labeling project, which remembers the labels, the strategy and the seed between rounds:
    alkit next --project my_project --embeddings pool.npz --classes classes.txt --budget 6
    # fill in the label column of my_project/rounds/round_001/to_label.csv, then:
    alkit next --project my_project
  stateless, you keep the labels yourself:
    alkit next --embeddings my.npz --labels labeled.csv --budget 50 --out to_label.csv
labeled.csv has columns index,label (label = class name or index).
See docs/labeling.md for the loop, the estimated accuracy and the stopping hint."""

PROJECT_EPILOG = """examples:
  alkit project init my_project --embeddings pool.npz --classes classes.txt --budget 6
  alkit next --project my_project
  alkit project status my_project
  alkit project relabel my_project --labels corrections.csv"""

#: Settings fixed when a project is created (``--budget`` may change from round to round).
_CREATION = ("embeddings", "classes", "strategy", "param", "initial_pool", "seed", "initial_budget")


def parse_params(items, strategy: str) -> dict:
    """``--param KEY=VALUE`` options as checked strategy parameters (only those given).

    Values are read by :func:`alkit.validation.parse_value` (JSON, else text) and then by
    :func:`alkit.strategies.check_params` with ``from_text=True``: ``cluster=False`` is
    ``False``, ``cluster=maybe`` an error.
    """
    from .. import strategies
    from ..errors import AlkitError, InvalidInputError
    from ..validation import parse_value

    params: dict = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInputError(
                f"--param expects KEY=VALUE (e.g. --param cluster=true); got {item!r}."
            )
        if key in params:
            raise InvalidInputError(f"--param {key} is given twice; give each parameter once.")
        if key == "device":
            raise InvalidInputError("--param device=… is not a strategy parameter; use --device.")
        params[key] = parse_value(text)
    try:
        checked = strategies.check_params(strategy, params, from_text=True)
    except AlkitError as exc:
        raise type(exc)(f"--param: {exc}") from exc
    return {k: checked[k] for k in params}


# ------------------------------------------------------------------------------ alkit next
def add_next_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``alkit next``."""
    p.description = (
        "Which of your items to label next. With --project DIR the folder remembers everything "
        "between rounds: the first call creates it (give --embeddings and --classes), each later "
        "call reads the filled batch of the previous round, appends it to DIR/labels.csv, "
        "retrains, prints the estimated accuracy and the stopping hint, and writes the next "
        "batch. Without --project it is stateless: pass every label so far with --labels."
    )
    p.epilog = NEXT_EPILOG
    p.add_argument(
        "--project",
        metavar="DIR",
        help="a labeling project folder (created on the first call)",
    )
    _creation_options(p)
    p.add_argument(
        "--labels",
        help="labels so far: CSV with columns index,label; with --project, the answers to read "
        "instead of the round's to_label.csv (a CSV, or a Label Studio JSON export)",
    )
    p.add_argument(
        "--budget",
        type=int,
        help="items to label in this batch (default with --project: the project's budget, "
        "which the first call sets: the number of classes unless given)",
    )
    p.add_argument(
        "--initial-budget",
        type=int,
        help="size of a new project's first batch (default: --budget)",
    )
    p.add_argument("--seed", type=int, help="seeds the run's random streams (default: 0)")
    p.add_argument(
        "--images",
        metavar="DIR",
        help="where a new project's images are (default: the embeddings' data root); for "
        "Label Studio tasks and the widget",
    )
    p.add_argument(
        "--format",
        choices=["csv", "labelstudio"],
        help="with --project: also write the batch as Label Studio tasks (labelstudio); the CSV "
        "is always written (default: the project's choice, set by the first call)",
    )
    p.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda")
    p.add_argument(
        "--out",
        help="without --project: the CSV to write (default: to_label.csv); predictions.csv and "
        "probe.npz go next to it",
    )


def _creation_options(p: argparse.ArgumentParser) -> None:
    """The options that describe a project's pool and strategy (``next`` and ``project init``)."""
    p.add_argument(
        "--embeddings",
        help=".npz/.npy file or cached key (alkit datasets); y_train = -1 where unknown",
    )
    p.add_argument("--classes", help="text file, one class name per line")
    p.add_argument("--strategy", help="query strategy (default: dropquery)")
    p.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="strategy parameter, repeatable (e.g. --param cluster=true)",
    )
    p.add_argument("--initial-pool", help="default: the strategy's paper default")


def next_main(args: argparse.Namespace) -> int:
    """Run ``alkit next``."""
    if args.project:
        return _next_in_project(args)
    return _next_stateless(args)


def _next_in_project(args) -> int:
    from ..errors import InvalidInputError
    from .core import Project

    if args.out:
        raise InvalidInputError(
            f"--out does not go with --project: each batch is written to "
            f"{args.project}/rounds/round_NNN/to_label.csv."
        )
    folder = Path(args.project)
    if not Project.exists(folder):
        if not args.embeddings:
            raise InvalidInputError(
                f"{folder} holds no labeling project yet; the first call creates it: alkit next "
                f"--project {folder} --embeddings FILE --classes classes.txt [--budget N]."
            )
        project = _create(folder, args)
    else:
        project = Project.open(folder)
        _check_unchanged(project, args)
    result = project.next_round(
        args.labels,
        budget=args.budget,
        formats=None if args.format is None else (args.format,),
        device=args.device,
    )
    print(result.text(folder))
    return 0


def _create(folder: Path, args):
    from .core import Project

    strategy = args.strategy or "dropquery"
    project = Project.create(
        folder,
        args.embeddings,
        classes=args.classes,
        strategy=strategy,
        params=parse_params(args.param, strategy),
        initial_pool=args.initial_pool,
        budget=args.budget,
        initial_budget=args.initial_budget,
        seed=0 if args.seed is None else args.seed,
        images=args.images,
        formats=(args.format,) if args.format else ("csv",),
    )
    cfg = project.config["learner"]
    known = len(project.labels().effective()[0])
    print(
        f"Created the labeling project {folder}: {project.n} items, {len(project.classes)} "
        f"classes, strategy {cfg['strategy']}, {cfg['budget']} items per round, seed "
        f"{cfg['seed']}; labels go to {project.labels_path}"
        + (f" ({known} already labeled, recorded as round 0)." if known else ".")
    )
    return project


def _check_unchanged(project, args) -> None:
    """A creation setting given again must be the project's: they are fixed for its life."""
    from ..errors import InvalidInputError
    from ..oracle import read_class_list

    cfg = project.config["learner"]
    given = {k: getattr(args, k) for k in _CREATION if getattr(args, k) not in (None, [])}
    theirs = {
        "strategy": cfg["strategy"],
        "seed": cfg["seed"],
        "initial_pool": cfg["initial_pool"],
        "initial_budget": cfg["initial_budget"],
    }
    for key, value in given.items():
        if key == "classes":
            same = read_class_list(value) == project.classes
        elif key == "embeddings":
            from ..sources import load_embeddings

            same = load_embeddings(value).checksum == project.config["embeddings"]["checksum"]
        elif key == "param":
            wanted = parse_params(value, cfg["strategy"])
            same = all(cfg["params"].get(k) == v for k, v in wanted.items())
        else:
            same = theirs[key] == value
        if not same:
            flag = "--" + key.replace("_", "-")
            raise InvalidInputError(
                f"{flag} differs from the project's (it is fixed when {project.folder} is "
                f"created; see alkit project status {project.folder}). Leave {flag} out, or "
                "start a new project in another folder."
            )


def _next_stateless(args) -> int:
    import numpy as np

    from ..errors import EmptyPoolError, InvalidInputError
    from ..learner import ActiveLearner
    from ..oracle import read_class_list, read_labels_csv
    from ..sources import load_embeddings

    missing = [
        f for f, v in (("--embeddings", args.embeddings), ("--budget", args.budget)) if v is None
    ]
    if missing:
        raise InvalidInputError(
            f"alkit next needs {' and '.join(missing)} (or --project DIR, which remembers them)."
        )
    for flag in ("format", "images", "initial_budget"):
        if getattr(args, flag):
            raise InvalidInputError(f"--{flag.replace('_', '-')} needs --project DIR.")
    strategy = args.strategy or "dropquery"
    emb = load_embeddings(args.embeddings)
    known = np.flatnonzero(emb.y_train >= 0)
    classes = emb.classes
    if args.classes:
        classes = read_class_list(args.classes)
        if len(known) and emb.classes != classes:
            raise InvalidInputError(
                f"{args.embeddings} carries labels of the classes {emb.classes[:10]} but "
                f"{args.classes} lists {classes[:10]}; use one class list for both."
            )
    if len(classes) < 2:
        where = args.classes if args.classes else args.embeddings
        raise InvalidInputError(
            f"{where} names {len(classes)} class(es) ({classes}); active learning needs at least "
            "2. Pass --classes FILE (one class name per line) listing every class you will label."
        )
    idx, lab = known, emb.y_train[known]
    if args.labels:
        idx_csv, lab_csv = read_labels_csv(args.labels, classes, n_rows=len(emb.x_train))
        clash = np.flatnonzero(np.isin(idx_csv, known))
        for j in clash:
            if emb.y_train[idx_csv[j]] != lab_csv[j]:
                raise InvalidInputError(
                    f"{args.labels}: index {idx_csv[j]} is labeled {classes[lab_csv[j]]!r} but "
                    f"{args.embeddings} already labels it {classes[emb.y_train[idx_csv[j]]]!r}."
                )
        new = ~np.isin(idx_csv, known)
        idx = np.concatenate([idx, idx_csv[new]])
        lab = np.concatenate([lab, lab_csv[new]])
    learner = ActiveLearner(
        emb.x_train,
        classes=classes,
        strategy=strategy,
        budget=args.budget,
        seed=0 if args.seed is None else args.seed,
        initial_pool=args.initial_pool,
        device=args.device,
        ids=emb.meta.get("ids"),
        **parse_params(args.param, strategy),
    )
    if len(idx):
        learner.teach(idx, lab)
    try:
        sel = learner.query(args.budget)
    except EmptyPoolError as exc:
        if len(known):
            raise EmptyPoolError(
                f"{exc} {len(known)} of the {len(emb.x_train)} items already carry labels in "
                f"{args.embeddings} (images in class folders are labeled by their folder name "
                "when embedded). To label them yourself, embed them again with --unlabeled."
            ) from exc
        raise
    out = Path(args.out or "to_label.csv")
    paths = learner.export(out.parent if out.suffix == ".csv" else out)
    if out.suffix == ".csv" and paths["to_label"] != out:
        Path(paths["to_label"]).replace(out)
        paths["to_label"] = out
    phase = "initial pool (nothing labeled yet)" if not len(idx) else f"strategy {strategy!r}"
    print(f"{len(sel.indices)} items to label next ({phase}): {paths['to_label']}")
    for key in ("predictions", "probe"):
        if key in paths:
            print(f"{key}: {paths[key]}")
    return 0


# ------------------------------------------------------------------------------ alkit project
def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``alkit project``."""
    p.description = "Create and inspect labeling projects (see alkit next --project)."
    p.epilog = PROJECT_EPILOG
    sub = p.add_subparsers(
        dest="project_command", required=True, help="init, status or relabel a project"
    )
    init = sub.add_parser(
        "init",
        help="create a labeling project in a folder",
        description="Create a labeling project; then run alkit next --project DIR each round.",
    )
    init.add_argument("dir", help="the project folder (created)")
    _creation_options(init)
    init.add_argument("--budget", type=int, help="items per round (default: number of classes)")
    init.add_argument("--initial-budget", type=int, help="first batch (default: --budget)")
    init.add_argument("--seed", type=int, default=0, help="seeds the random streams (default: 0)")
    init.add_argument("--labels", help="CSV index,label of labels you already have (round 0)")
    init.add_argument("--images", metavar="DIR", help="where the images are (default: data root)")
    init.add_argument(
        "--format",
        choices=["csv", "labelstudio"],
        default="csv",
        help="labelstudio: each round also writes Label Studio tasks (default: csv only)",
    )
    init.add_argument(
        "--stop-window", type=int, default=3, help="rounds the stopping hint averages (default 3)"
    )
    init.add_argument(
        "--stop-threshold",
        type=float,
        default=0.99,
        help="mean kappa at which the hint says stop (default 0.99)",
    )
    status = sub.add_parser("status", help="labels, rounds, the latest estimate and hint")
    status.add_argument("dir", help="the project folder")
    relabel = sub.add_parser("relabel", help="correct labels given before (recorded as relabel)")
    relabel.add_argument("dir", help="the project folder")
    relabel.add_argument("--labels", required=True, help="CSV index,label of the corrections")


def main(args: argparse.Namespace) -> int:
    """Run ``alkit project``."""
    from ..errors import InvalidInputError
    from ..oracle import read_labels_csv
    from .core import Project

    if args.project_command == "init":
        if not args.embeddings:
            raise InvalidInputError("alkit project init needs --embeddings FILE.")
        strategy = args.strategy or "dropquery"
        project = Project.create(
            args.dir,
            args.embeddings,
            classes=args.classes,
            strategy=strategy,
            params=parse_params(args.param, strategy),
            initial_pool=args.initial_pool,
            budget=args.budget,
            initial_budget=args.initial_budget,
            seed=args.seed,
            labels=args.labels,
            images=args.images,
            formats=(args.format,),
            stop_window=args.stop_window,
            stop_threshold=args.stop_threshold,
        )
        print(project.status())
        return 0
    project = Project.open(args.dir)
    if args.project_command == "relabel":
        idx, lab = read_labels_csv(args.labels, project.classes, n_rows=project.n)
        changed = project.relabel(idx, lab)
        print(f"{changed} label(s) changed in {project.labels_path}; the next round uses them.")
        return 0
    print(project.status())
    return 0

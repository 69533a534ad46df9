"""Rendering for the labeling widget: an image array or file as PNG bytes or an ipywidgets Image."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError, MissingResourceError

__all__ = ["to_png", "image_widget", "in_voila"]

#: Environment variables Voilà sets in the kernels it starts (voila.utils.ENV_VARIABLE).
VOILA_VARIABLES = (
    "VOILA_KERNEL_ID",
    "VOILA_BASE_URL",
    "VOILA_SERVER_URL",
    "VOILA_APP_PORT",
    "VOILA_REQUEST_URL",
    "VOILA_PREHEAT",
)


def in_voila() -> bool:
    """Whether this kernel was started by Voilà (the notebook is a web app: its cells cannot be
    rerun, so text telling the reader to rerun one is noise there)."""
    return any(v in os.environ for v in VOILA_VARIABLES)


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError as exc:  # pragma: no cover - ipywidgets is in the notebooks extra
        raise MissingResourceError(
            "The labeling widget needs ipywidgets: pip install 'alkit[notebooks]' (or pip install ipywidgets)."
        ) from exc
    return ipywidgets


def to_png(image: Any, size: int = 64, invert: bool = False) -> bytes:
    """Render an image array or an image file as PNG bytes, resized to ``size`` pixels.

    Parameters
    ----------
    image : ndarray of shape (h, w), (h, w, 3) or (h, w, 4), or str / path / bytes
        An array (any numeric range: floats are min-max scaled per image, ``uint8`` is
        used as is; a flat vector of a square length such as digits' 64 pixels is
        reshaped to a square), the path of an image file, or encoded image bytes.
    size : int
        Length of the longer side of the output, in pixels. Small images are enlarged
        with nearest-neighbour sampling so pixels stay crisp (an 8×8 digit stays readable).
    invert : bool
        Render dark-on-light (as sklearn's digits are usually shown).

    Returns
    -------
    bytes
        A PNG file.
    """
    from PIL import Image

    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise InvalidInputError(
                f"Image file {path} does not exist; pass an existing image path or an array."
            )
        img = Image.open(path)
        img.load()
    elif isinstance(image, (bytes, bytearray)):
        img = Image.open(io.BytesIO(image))
        img.load()
    else:
        arr = np.asarray(image)
        if arr.ndim == 1:
            side = int(round(np.sqrt(arr.size)))
            if side * side != arr.size:
                raise InvalidInputError(
                    f"A flat image vector must have a square length (e.g. 64 = 8×8); got {arr.size}. "
                    "Pass an (h, w) or (h, w, 3) array."
                )
            arr = arr.reshape(side, side)
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
            raise InvalidInputError(
                f"An image must have shape (h, w), (h, w, 3) or (h, w, 4); got {arr.shape}."
            )
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[:, :, 0]
        if arr.dtype != np.uint8:
            arr = arr.astype(np.float64)
            if not np.isfinite(arr).all():
                raise InvalidInputError("The image holds NaN or inf values.")
            lo, hi = float(arr.min()), float(arr.max())
            arr = np.zeros_like(arr) if hi <= lo else (arr - lo) / (hi - lo)
            arr = np.round(arr * 255).astype(np.uint8)
        img = Image.fromarray(arr)
    if img.mode not in ("L", "RGB", "RGBA"):
        img = img.convert("RGB")
    if invert:
        from PIL import ImageOps

        img = ImageOps.invert(img.convert("L") if img.mode == "L" else img.convert("RGB"))
    scale = size / max(img.size)
    new_size = (max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale)))
    resample = Image.NEAREST if scale >= 1 else Image.BILINEAR
    img = img.resize(new_size, resample)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def image_widget(image: Any, size: int = 64, invert: bool = False):
    """An ``ipywidgets.Image`` showing ``image`` (see :func:`to_png` for what it accepts)."""
    w = _ipywidgets()
    return w.Image(
        value=to_png(image, size=size, invert=invert),
        format="png",
        layout=w.Layout(width=f"{size}px", height="auto"),
    )

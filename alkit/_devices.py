"""Where computations run: the device ``"auto"`` resolves to, and how much memory is left."""

from __future__ import annotations

import torch

__all__ = ["resolve_device", "memory_headroom_bytes"]


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn ``"auto"`` into ``cuda`` when a GPU is present, else ``cpu``."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        from .errors import InvalidInputError

        raise InvalidInputError(
            "device='cuda' was requested but no CUDA GPU is visible; use device='auto' or 'cpu'."
        )
    return dev


def memory_headroom_bytes() -> int:
    """Bytes this process can still allocate: ``MemAvailable``, and when an address-space limit
    (``RLIMIT_AS``) is set, that limit minus the current virtual size (whichever is smaller)."""
    avail = 2 << 30
    try:
        with open("/proc/meminfo") as f:
            avail = next(
                int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:")
            )
    except (OSError, StopIteration, ValueError):
        pass
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/status") as f:
                vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
            avail = min(avail, soft - vm)
    except (ImportError, OSError, StopIteration, ValueError):
        pass
    return max(0, int(avail))

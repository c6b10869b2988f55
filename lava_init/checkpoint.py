"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)`` only."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from lava_init.models import build_model


def atomic_write(path: str | Path, write: Callable[[str], object]) -> Path:
    """``write(temp_path)`` to a temp file in the target's folder, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(temp)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def atomic_save(obj: object, path: str | Path) -> Path:
    """``torch.save`` to a temp file in the target's folder, then rename over ``path``."""
    return atomic_write(path, lambda temp: torch.save(obj, temp))


def atomic_write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` to a temp file in the target's folder, then rename over ``path``."""
    return atomic_write(path, lambda temp: Path(temp).write_text(text))


def save_model(path: str | Path, model: torch.nn.Module, config: dict, **extra) -> Path:
    """Save ``{"model_config": config, "model_state": state_dict, **extra}`` atomically."""
    return atomic_save({"model_config": config, "model_state": model.state_dict(), **extra}, path)


def load_checkpoint(path: str | Path) -> dict:
    """The checkpoint dict at ``path``; a clear error when it is missing or not a checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; train one with 'lava-init train'")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"{path} is not a lava-init checkpoint ({error})") from None
    if not isinstance(checkpoint, dict) or "model_config" not in checkpoint:
        raise ValueError(f"{path} is not a lava-init checkpoint (no 'model_config' entry)")
    return checkpoint


def load_model(path: str | Path) -> torch.nn.Module:
    """Rebuild the network saved at ``path`` and load its weights."""
    checkpoint = load_checkpoint(path)
    model = build_model(checkpoint["model_config"])
    model.load_state_dict(checkpoint["model_state"])
    return model

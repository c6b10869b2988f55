"""Grow a trained network deeper: its blocks keep their weights, relays fill the new places.

A network of ``depth`` hidden blocks grown from a trained one of ``base_depth`` (Net2Net's
deepening, Chen, Goodfellow, Shlens, arXiv 1511.05641, with lava-init's relays as the identity
blocks): the base's first ``base_depth`` blocks take the first places, its blocks after them
(Flatten, the Dense hidden layer, the readout) the last ones, and the ``depth - base_depth``
blocks in between start as relays (``initialize(model, "relay")``), which copy their input
(spike for spike with ``relay_noise`` 0, nearly with the relay rule's small noise). So the
grown network starts where the base ended, computing what it computed, and training goes on
from there at the full depth.
"""

from __future__ import annotations

from pathlib import Path

import torch

from lava_init.training.checkpoints import check_model_state, load_checkpoint

#: The parts of a model config that a grown network shares with its base (all but ``depth``).
SHARED_FIELDS = ("arch", "in_features", "in_shape", "out_features", "width", "channels",
                 "settings", "input")


def grown_block(index: int, base_depth: int, depth: int) -> int:
    """Where the base's block ``index`` sits in the network grown to ``depth``.

    Args:
        index: a block's place in the base (``model.blocks[index]``).
        base_depth: the base's hidden layers (mlp) or convolutions (cnn, cnn1d).
        depth: the grown network's.

    Returns:
        ``index`` for the base's hidden blocks, ``index + depth - base_depth`` for the blocks
        after them.

    Example:
        >>> [grown_block(i, 4, 16) for i in range(7)]  # 4 convolutions, Flatten, Dense, readout
        [0, 1, 2, 3, 16, 17, 18]
    """
    return index if index < base_depth else index + depth - base_depth


def grow_from_checkpoint(model: torch.nn.Module, config: dict, path: str | Path) -> int:
    """Load the trained network at ``path`` into ``model``, which is the same network with
    more hidden blocks, initialized with relays (:mod:`lava_init.training.growth`).

    Args:
        model: the deeper network (built from ``config``; its blocks between the base's
            hidden blocks and its last ones left as the relay init made them).
        config: ``model``'s config (:func:`~lava_init.training.models.build_model`).
        path: a checkpoint (``lava-init train --out``'s or
            :func:`~lava_init.training.checkpoints.save_model`'s) of the same network with
            ``depth`` at most ``config["depth"]``.

    Returns:
        The base's depth. Raises one clear ValueError for a checkpoint of another network.

    Example:
        >>> import tempfile
        >>> from lava_init import initialize
        >>> from lava_init.training.checkpoints import save_model
        >>> from lava_init.training.models import build_model
        >>> base_config = {"arch": "mlp", "in_features": 16, "out_features": 2, "depth": 1,
        ...                "width": 8}
        >>> path = save_model(tempfile.mkdtemp() + "/base.pt", build_model(base_config),
        ...                   base_config)
        >>> config = {**base_config, "depth": 3}
        >>> model = build_model(config)
        >>> _ = initialize(model, "relay")
        >>> grow_from_checkpoint(model, config, path)  # blocks 0 and 3 from the base
        1
    """
    checkpoint = load_checkpoint(path)
    check_model_state(checkpoint, path)
    base = checkpoint["model_config"]
    differ = [name for name in SHARED_FIELDS if base.get(name) != config.get(name)]
    if differ:
        raise ValueError(f"{path} holds another network than the one to grow (its {differ[0]} "
                         f"is {base.get(differ[0])!r}, not {config.get(differ[0])!r}); grow "
                         "from a checkpoint of the same network with fewer layers")
    base_depth, depth = base["depth"], config["depth"]
    if base_depth > depth:
        raise ValueError(f"{path} holds a network of depth {base_depth}, deeper than the "
                         f"{depth} to grow; give --depth {base_depth} or more")
    state = model.state_dict()
    for key, tensor in checkpoint["model_state"].items():
        _, index, rest = key.split(".", 2)
        target = f"blocks.{grown_block(int(index), base_depth, depth)}.{rest}"
        if target not in state or state[target].shape != tensor.shape:
            raise ValueError(f"{path}: its {key} does not fit the grown network's {target} "
                             "(a stride or a size depends on the depth); grow a network whose "
                             "added layers keep the shape")
        state[target] = tensor
    model.load_state_dict(state)
    return base_depth

"""Turning static data into SLAYER spike tensors."""

from __future__ import annotations

import torch

from lava_init.checks import check_count

#: Levels per unit of :func:`ramp_encode`'s graded values: each lies on the 1/16 grid, so Lava
#: receives it as an integer message of at most 5 bits (``16 * value``). Lava's 24-bit current
#: then holds a first-layer membrane up to 2048 / 16 = 128 (SLAYER units) before it wraps
#: (:class:`lava_init.slayer_blocks.LavaCurrentWrap`); with 64 levels, 32, which a trained
#: Fashion-MNIST first layer exceeds (docs/netx_export.md).
GRADED_LEVELS = 16


def encoding_input_levels(encoding: str) -> int | None:
    """Levels per unit of an encoding's graded values (``export_netx``'s ``input_levels``);
    None for the spike encodings.

    Args:
        encoding: ``"graded"`` (:func:`ramp_encode`), or a spike encoding such as ``"rate"``.

    Returns:
        :data:`GRADED_LEVELS` for graded input, else None.

    Example:
        >>> encoding_input_levels("graded"), encoding_input_levels("regular")
        (16, None)
    """
    return GRADED_LEVELS if encoding == "graded" else None


def _check_intensities(values: torch.Tensor, encoder: str) -> None:
    if values.numel() and (values.min() < 0 or values.max() > 1):
        raise ValueError(f"{encoder} needs intensities in [0, 1]; divide the data by its maximum")


def rate_encode(
    values: torch.Tensor, time_steps: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Bernoulli spikes with probability ``values`` (in [0, 1]) at each of ``time_steps`` steps.

    Args:
        values: intensities in [0, 1], shape (batch, features...); ValueError outside.
        time_steps: steps T (>= 1).
        generator: the random generator (None: torch's global one).

    Returns:
        Spikes (batch, features..., time_steps), float 0/1.

    Example:
        >>> rate_encode(torch.tensor([[0.0, 1.0]]), 4).tolist()
        [[[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]]
    """
    check_count(time_steps, "time_steps")
    _check_intensities(values, "rate_encode")
    probabilities = values.unsqueeze(-1).expand(*values.shape, time_steps)
    return torch.bernoulli(probabilities, generator=generator)


def regular_encode(values: torch.Tensor, time_steps: int) -> torch.Tensor:
    """Deterministic spikes: ``round(values * time_steps)`` of them, spread evenly over the
    ``time_steps`` steps (a spike at step t when ``floor((t + 1) v + 1/2) > floor(t v + 1/2)``:
    an integrate-and-fire encoder with subtractive reset, starting half charged).

    The same rate as :func:`rate_encode` without its sampling noise (at T = 3 a Bernoulli
    count of a mid-grey pixel is anything from 0 to 3).

    Args:
        values: (batch, features...) in [0, 1].
        time_steps: the number of steps.

    Returns:
        Spikes of shape (batch, features..., time_steps), float 0/1.

    Example:
        >>> regular_encode(torch.tensor([0.0, 0.34, 0.5, 1.0]), 3).sum(-1).tolist()
        [0.0, 1.0, 2.0, 3.0]
    """
    check_count(time_steps, "time_steps")
    _check_intensities(values, "regular_encode")
    steps = torch.arange(time_steps + 1, dtype=values.dtype, device=values.device)
    charge = torch.floor(values.unsqueeze(-1) * steps + 0.5)
    return charge.diff(dim=-1)


def ramp_encode(values: torch.Tensor, time_steps: int, levels: int = GRADED_LEVELS
                ) -> torch.Tensor:
    """Graded input, a ramp over the steps: step ``t`` (0-based) carries ``values * (t + 1) / T``
    rounded to the ``1 / levels`` grid.

    A memoryless first layer fires at step ``t`` when ``W values > theta T / (t + 1)``: each of
    its neurons reports its full-precision input against T thresholds, 0 .. T spikes, instead
    of a binary code of a binarized image per step. On Lava the values are messages of
    ``levels * value`` (``export_netx(..., input_levels=)``).

    Args:
        values: intensities (batch, features...) in [0, 1].
        time_steps: T.
        levels: grid points per unit (default :data:`GRADED_LEVELS`).

    Returns:
        Graded values (batch, features..., time_steps), multiples of ``1 / levels`` in [0, 1].

    Example:
        >>> (ramp_encode(torch.tensor([0.5, 1.0]), 2, levels=4) * 4).tolist()
        [[1.0, 2.0], [2.0, 4.0]]
    """
    check_count(time_steps, "time_steps")
    check_count(levels, "levels")
    _check_intensities(values, "ramp_encode")
    ramp = torch.arange(1, time_steps + 1, dtype=values.dtype, device=values.device) / time_steps
    return torch.round(values.unsqueeze(-1) * ramp * levels) / levels

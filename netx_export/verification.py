"""Compare a SLAYER network with its NetX export on Lava, spike for spike and layer by layer."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from lava_init.records import LayerActivity, layer_activity, propagates, propagation_verdict
from lava_init.slayer_blocks import (
    block_kind,
    chain_blocks,
    eval_mode,
    parameter_device,
    slayer_block_type,
)
from lava_init.tables import format_table
from netx_export.netx_file import EXPORTABLE_BLOCKS
from netx_export.running.lava_run import run_lava


@dataclass
class LayerComparison:
    """One Lava layer against its SLAYER block.

    ``slayer`` and ``lava``: each side's activity from ``latency`` on, the first Lava step at
    which the input can reach the layer. ``mismatches``: spikes that differ over all compared
    steps; ``first_mismatch_step``: the first Lava step with one (None when spike-exact).
    """

    kind: str
    slayer: LayerActivity
    lava: LayerActivity
    mismatches: int
    first_mismatch_step: int | None
    steps_compared: int

    name = property(lambda self: self.lava.name, doc="The layer's block name.")
    latency = property(lambda self: self.lava.latency, doc="First step input reaches it.")
    slayer_rate = property(lambda self: self.slayer.rate, doc="SLAYER's spike rate.")
    lava_rate = property(lambda self: self.lava.rate, doc="Lava's spike rate.")
    silent_fraction = property(lambda self: self.lava.silent_fraction,
                               doc="Neurons that never spike on Lava.")


@dataclass
class VerifyReport:
    """SLAYER vs Lava per layer; ``str()`` prints the table and the verdict.
    ``lava_spikes``: Lava's output per layer, (batch, neurons, steps), as run."""

    backend: str
    samples: int
    time_steps: int
    layers: list[LayerComparison] = field(default_factory=list)
    lava_spikes: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def total_mismatches(self) -> int:
        return sum(layer.mismatches for layer in self.layers)

    @property
    def propagates(self) -> bool:
        """True when every Lava layer, the last included, emits spikes."""
        return propagates([layer.lava for layer in self.layers])

    def __str__(self) -> str:
        headers = ["layer", "kind", "neurons", "latency", "slayer_rate", "lava_rate",
                   "mismatches", "first_mismatch", "silent"]
        rows = [[layer.name, layer.kind, layer.lava.neurons, layer.latency, layer.slayer_rate,
                 layer.lava_rate,
                 layer.mismatches, "-" if layer.first_mismatch_step is None
                 else layer.first_mismatch_step, layer.silent_fraction]
                for layer in self.layers]
        lines = [
            f"SLAYER vs Lava {self.backend}: {self.samples} sample(s) x {self.time_steps} steps",
            format_table(headers, rows),
            f"total mismatched spikes: {self.total_mismatches}"
            + ("" if self.total_mismatches else " (spike-exact)"),
            propagation_verdict([layer.lava for layer in self.layers]),
        ]
        return "\n".join(lines)


def _is_lava_layer(block: torch.nn.Module) -> bool:
    """True for a block NetX turns into a Lava layer with neurons: one of a NetX layer type
    (``netx_file.LAYER_TYPES``) that has a neuron (Flatten has none, an Input block may)."""
    return (slayer_block_type(block) in EXPORTABLE_BLOCKS
            and getattr(block, "neuron", None) is not None)


def _lava_layers(blocks: list[tuple[str, torch.nn.Module]]) -> list[tuple[str, torch.nn.Module]]:
    """The blocks NetX turns into Lava layers (:func:`_is_lava_layer`)."""
    return [(name, block) for name, block in blocks if _is_lava_layer(block)]


@torch.no_grad()
def _slayer_outputs(blocks: list[tuple[str, torch.nn.Module]], spikes: torch.Tensor,
                    ) -> dict[str, np.ndarray]:
    """Each block's output, (batch, neurons, T), computed in eval mode."""
    outputs = {}
    for name, block in blocks:
        spikes = block(spikes)
        if isinstance(spikes, tuple):
            spikes = spikes[0]
        outputs[name] = spikes.reshape(spikes.shape[0], -1, spikes.shape[-1]).cpu().numpy()
    return outputs


def _time_offsets(blocks: list[tuple[str, torch.nn.Module]]) -> dict[str, int]:
    """SLAYER step matching Lava step 0, per Lava layer: the SLAYER blocks' delay_shift steps
    so far minus Lava's one step per layer before it (SLAYER input padded by one zero step
    when the net has no Input block)."""
    offsets, shifts, index = {}, 0, 0
    for name, block in blocks:
        shifts += int(getattr(block, "delay_shift", False) is True)
        if _is_lava_layer(block):
            offsets[name] = shifts - index
            index += 1
    return offsets


def _compare(name: str, block: torch.nn.Module, slayer: np.ndarray, lava: np.ndarray,
             offset: int, latency: int) -> LayerComparison:
    """Mismatches over every step both runs cover; rates and silence from ``latency`` on."""
    start = max(0, -offset)
    stop = min(lava.shape[-1], slayer.shape[-1] - offset)
    lava_window = lava[..., start:stop].astype(np.int64)
    slayer_window = slayer[..., start + offset:stop + offset].astype(np.int64)
    differs = lava_window != slayer_window
    steps_with_mismatch = np.flatnonzero(differs.any(axis=(0, 1)))
    first = int(steps_with_mismatch[0]) + start if steps_with_mismatch.size else None
    driven = max(0, latency - start)

    def side(window: np.ndarray) -> LayerActivity:
        activity = layer_activity(name, window, driven)
        return replace(activity, latency=latency)

    return LayerComparison(
        kind=block_kind(block), slayer=side(slayer_window), lava=side(lava_window),
        mismatches=int(differs.sum()), first_mismatch_step=first,
        steps_compared=max(0, stop - start))


def _checked_spikes(spikes, blocks: list[tuple[str, torch.nn.Module]],
                    lava_layers: list[tuple[str, torch.nn.Module]]) -> torch.Tensor:
    """``spikes`` as a float tensor, with enough time steps for every layer."""
    tensor = torch.as_tensor(np.asarray(
        spikes.detach().cpu() if hasattr(spikes, "detach") else spikes), dtype=torch.float32)
    _check_steps(blocks, lava_layers, int(tensor.shape[-1]))
    return tensor


def _check_steps(blocks: list[tuple[str, torch.nn.Module]],
                 lava_layers: list[tuple[str, torch.nn.Module]], steps: int) -> None:
    """ValueError, before any run, when ``steps`` leave a layer no step that both SLAYER and
    Lava cover (each Lava layer adds a step of delay)."""
    padded = steps + (0 if slayer_block_type(lava_layers[0][1]) == "Input" else 1)
    for name, offset in _time_offsets(blocks).items():
        covered = min(steps, padded - offset) - max(0, -offset)
        if covered < 1:
            raise ValueError(f"{steps} time step(s) leave layer {name!r} no step to compare "
                             "(Lava delays each layer by one step); give at least "
                             f"{steps + 1 - covered} time steps")


def verify(net: torch.nn.Module, path: str | Path, spikes, backend: str = "fixed_pt",
           progress: bool = False, workers: int | None = None) -> VerifyReport:
    """Run ``net`` (SLAYER, eval mode) and the NetX file ``path`` (Lava) on the same spikes.

    Lava delays each layer by one step and SLAYER each delay_shift block by one; a net
    without an Input block gets one leading zero step on the SLAYER side so that the neuron
    biases line up. Lava step ``t`` of a layer is compared with the SLAYER step that saw the
    same input.

    Args:
        net: the SLAYER network ``path`` was exported from.
        path: its NetX file.
        spikes: binary, SLAYER order, ``(*input, T)`` or ``(batch, *input, T)``.
        backend: ``"fixed_pt"`` (Lava's CPU simulator) or ``"loihi2"`` (needs lava-loihi).
        progress: a progress bar over the Lava samples (on stderr, only on a terminal).
        workers: Lava processes sharing the samples (default: one per 2 available cores).

    Returns a :class:`VerifyReport`: per layer both sides' activity, the differing spikes and
    the first Lava step with a difference.

    >>> import tempfile, torch; from lava.lib.dl import slayer; from netx_export import export_netx
    >>> torch.manual_seed(0) and None
    >>> neuron = {"threshold": 0.5, "current_decay": 1.0, "voltage_decay": 1.0}
    >>> net = torch.nn.Sequential(slayer.block.cuba.Dense(neuron, 8, 4))
    >>> path = export_netx(net, tempfile.mkdtemp() + "/net.net")
    >>> verify(net, path, (torch.rand(2, 8, 6) < 0.5).float()).total_mismatches
    0
    """
    blocks = chain_blocks(net)
    lava_layers = _lava_layers(blocks)
    spikes_tensor = _checked_spikes(spikes, blocks, lava_layers)
    lava_outputs = run_lava(path, spikes_tensor, backend, progress, workers)
    if len(lava_outputs) != len(lava_layers):
        raise ValueError(
            f"{path} has {len(lava_outputs)} Lava layers but the network has "
            f"{len(lava_layers)} blocks with neurons; export this network with export_netx first"
        )
    batched = lava_outputs[0].ndim == 3
    if not batched:
        lava_outputs = [layer[None] for layer in lava_outputs]
        spikes_tensor = spikes_tensor[None]
    starts_with_input = slayer_block_type(lava_layers[0][1]) == "Input"
    if not starts_with_input:
        spikes_tensor = torch.cat([torch.zeros_like(spikes_tensor[..., :1]), spikes_tensor], -1)
    with eval_mode(net):
        slayer_outputs = _slayer_outputs(blocks, spikes_tensor.to(parameter_device(net)))
    offsets = _time_offsets(blocks)
    report = VerifyReport(backend, samples=int(spikes_tensor.shape[0]),
                          time_steps=int(lava_outputs[0].shape[-1]), lava_spikes=lava_outputs)
    first_latency = 0 if starts_with_input else 1
    for index, ((name, block), lava) in enumerate(zip(lava_layers, lava_outputs, strict=True)):
        if slayer_outputs[name].shape[1] != lava.shape[1]:
            raise ValueError(
                f"layer {name!r} has {slayer_outputs[name].shape[1]} neurons in SLAYER but "
                f"{lava.shape[1]} in {path}; the file was exported from another network"
            )
        report.layers.append(_compare(name, block, slayer_outputs[name], lava, offsets[name],
                                      latency=first_latency + index))
    return report

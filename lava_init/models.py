"""SLAYER networks built from lava-dl CUBA blocks, exportable to NetX."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from lava.lib.dl import slayer


@dataclass(frozen=True)
class NeuronConfig:
    """CUBA neuron parameters (SLAYER units). Decays are fractions per step: 1.0 forgets at
    once (the paper's memoryless neuron), lava-dl's tutorials use current 0.25, voltage 0.03."""

    threshold: float = 1.25
    current_decay: float = 0.25
    voltage_decay: float = 0.03
    tau_grad: float = 0.03
    scale_grad: float = 3.0
    requires_grad: bool = False

    def params(self) -> dict:
        """The ``neuron_params`` dict SLAYER blocks take."""
        return asdict(self)


#: The paper's memoryless neuron: the membrane is this step's weighted input only.
MEMORYLESS = NeuronConfig(current_decay=1.0, voltage_decay=1.0)


class SlayerMLP(torch.nn.Module):
    """``depth`` hidden CUBA Dense layers of ``width`` neurons and a CUBA Dense output layer.

    Input and output are SLAYER spike tensors (batch, features, time). ``blocks`` is the
    ``ModuleList`` NetX export walks.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        depth: int = 10,
        width: int = 100,
        neuron: NeuronConfig = NeuronConfig(),
    ):
        super().__init__()
        if depth < 1 or width < 1 or in_features < 1 or out_features < 1:
            raise ValueError(
                f"an MLP needs depth >= 1, width >= 1 and at least one input and output feature "
                f"(got depth={depth}, width={width}, in={in_features}, out={out_features})"
            )
        sizes = [in_features] + [width] * depth + [out_features]
        self.blocks = torch.nn.ModuleList(
            slayer.block.cuba.Dense(neuron.params(), n_in, n_out)
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
        )

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            spikes = block(spikes)
        return spikes


def build_model(config: dict) -> torch.nn.Module:
    """A network from its JSON-able config, as stored in checkpoints.

    ``{"arch": "mlp", "in_features": 64, "out_features": 10, "depth": 10, "width": 100,
    "neuron": {...NeuronConfig fields...}}``.
    """
    config = dict(config)
    arch = config.pop("arch", None)
    neuron = NeuronConfig(**config.pop("neuron", {}))
    if arch == "mlp":
        return SlayerMLP(neuron=neuron, **config)
    raise ValueError(f"unknown architecture {arch!r}; valid: {', '.join(ARCHITECTURES)}")


ARCHITECTURES = ("mlp",)

"""lava-init's initialization for a snnTorch network, through NIR: the rate of every layer of a
20-layer snnTorch Leaky MLP in snnTorch's own simulation, PyTorch's default init against the
weights :func:`lava_init.nir.initialize_nir` drew for snnTorch's exported graph.

    .venv/bin/python benchmarks/nir_snntorch_init.py            # about 1 min on 2 CPU cores

The MLP: 20 x (Linear(width, width, no bias) -> Leaky(beta, threshold 1, reset to zero)),
beta and threshold tensors of the layer's shape (snnTorch 1.0.0's exporter needs them), driven
by Bernoulli spikes (rate 0.2) for T steps. The weights go back into the snnTorch modules by
the names snnTorch gave the graph's nodes. Results go to
``benchmarks/results/nir/snntorch_init.json`` with the command and commit.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import nir
import snntorch as snn
import torch
from provenance import current_provenance
from snntorch.export_nir import export_to_nir

from lava_init.files import atomic_write_text
from lava_init.nir import initialize_nir
from lava_init.tables import format_table

RESULTS = Path(__file__).resolve().parent / "results" / "nir" / "snntorch_init.json"
#: snnTorch's exporter writes its time constants for this time step.
SNNTORCH_DT = 1e-4


def leaky_mlp(depth: int, width: int, beta: float) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for _ in range(depth):
        layers += [torch.nn.Linear(width, width, bias=False),
                   snn.Leaky(beta=torch.full((width,), beta), threshold=torch.ones(width),
                             reset_mechanism="zero", init_hidden=True)]
    return torch.nn.Sequential(*layers)


@torch.no_grad()
def layer_rates(model: torch.nn.Sequential, spikes: torch.Tensor) -> list[float]:
    """Spikes per neuron per step of every Leaky layer, snnTorch stepping (batch, width, T)."""
    for module in model:
        if isinstance(module, snn.Leaky):
            module.reset_mem()
    totals = [0.0] * (len(model) // 2)
    for step in range(spikes.shape[-1]):
        x = spikes[..., step]
        for index in range(0, len(model), 2):
            x = model[index + 1](model[index](x))
            totals[index // 2] += float(x.mean())
    return [total / spikes.shape[-1] for total in totals]


@torch.no_grad()
def initialized_through_nir(model: torch.nn.Sequential, width: int, method: str) -> dict:
    """Export ``model``, initialize the graph, copy its weights back by node name."""
    graph = export_to_nir(model, torch.zeros(1, width), ignore_dims=[0])
    initialized, report = initialize_nir(graph, dt=SNNTORCH_DT, method=method)
    modules = dict(model.named_modules())
    for name, node in initialized.nodes.items():
        if isinstance(node, (nir.Linear, nir.Affine)):
            modules[name].weight.copy_(torch.as_tensor(node.weight, dtype=torch.float32))
    return {"method": method, "init_report": str(report)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--beta", type=float, default=0.5)
    parser.add_argument("--time-steps", type=int, default=30)
    parser.add_argument("--method", default="variance_conserving")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    spikes = (torch.rand(16, args.width, args.time_steps) < 0.2).float()
    model = leaky_mlp(args.depth, args.width, args.beta)
    default = layer_rates(model, spikes)
    record = initialized_through_nir(model, args.width, args.method)
    through_nir = layer_rates(model, spikes)
    record.update({"depth": args.depth, "width": args.width, "beta": args.beta,
                   "time_steps": args.time_steps, "input_rate": 0.2,
                   "rates_pytorch_default": default, "rates_lava_init_through_nir": through_nir,
                   "last_over_first_lava_init": through_nir[-1] / through_nir[0]
                   if through_nir[0] else None,
                   "provenance": current_provenance(__file__, argv)})
    rows = [[index + 1, a, b] for index, (a, b) in enumerate(zip(default, through_nir,
                                                                  strict=True))]
    print(format_table(["layer", "PyTorch default", f"lava-init {args.method} via NIR"], rows))
    atomic_write_text(json.dumps(record, indent=2) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

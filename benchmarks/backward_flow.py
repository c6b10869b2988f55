"""Backward conservation at initialization: weight-gradient norm per layer of a deep
memoryless SLAYER MLP, with the surrogate as given and with ``initialize(..., surrogate=True)``.

One forward/backward pass (cross-entropy on output spike counts) of an MLP of ``--depth``
hidden memoryless CUBA Dense layers of ``--width`` (threshold 1.25, T = 3, delay_shift off)
on the first MNIST training samples (random spikes at rate 0.13 where MNIST is absent), for
lava-dl's tutorial surrogate (tau_grad 0.03, scale_grad 3) and the training default (0.01, 10).
Prints max / min of the hidden layers' weight-gradient norms and writes ``backward_flow.json``
and ``backward_flow.png`` (norm per layer)::

    .venv/bin/python benchmarks/backward_flow.py --out docs/figures/backward_flow
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from provenance import current_provenance  # noqa: E402

from lava_init.files import atomic_write, atomic_write_text  # noqa: E402
from lava_init.network_init import initialize  # noqa: E402
from lava_init.tables import format_table  # noqa: E402
from lava_init.training.config import MEMORYLESS, BlockSettings
from lava_init.training.data import SHARED_DATA, load_dataset  # noqa: E402
from lava_init.training.models import SlayerMLP  # noqa: E402

#: (label, tau_grad, scale_grad)
SURROGATES = (("tutorial 0.03/3", 0.03, 3.0), ("training 0.01/10", 0.01, 10.0))


def input_spikes(samples: int, time_steps: int, data_dir: Path
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as spikes (samples, 784, T) and labels; random spikes where MNIST is absent."""
    if (data_dir / "mnist").is_dir():
        data = load_dataset("mnist", True, data_dir / "mnist", time_steps=time_steps,
                            flatten=True, limit=samples)
        return torch.stack([data[i][0] for i in range(len(data))]), data.labels[:samples]
    generator = torch.Generator().manual_seed(0)
    spikes = (torch.rand(samples, 784, time_steps, generator=generator) < 0.13).float()
    return spikes, torch.randint(0, 10, (samples,), generator=generator)


def gradient_norms(depth: int, width: int, tau_grad: float, scale_grad: float,
                   conserve: bool, spikes: torch.Tensor, labels: torch.Tensor,
                   seed: int) -> list[float]:
    """Weight-gradient norm of every block (hidden ones, then the readout)."""
    torch.manual_seed(seed)
    neuron = dataclasses.replace(MEMORYLESS, tau_grad=tau_grad, scale_grad=scale_grad)
    net = SlayerMLP(spikes.shape[1], 10, depth=depth, width=width,
                    settings=BlockSettings(neuron=neuron, delay_shift=False))
    initialize(net, surrogate=conserve, generator=torch.Generator().manual_seed(seed))
    F.cross_entropy(net(spikes).sum(-1), labels).backward()
    return [float(block.synapse.weight.grad.norm()) for block in net.blocks]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=30)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--samples", type=int, default=128)
    parser.add_argument("--time-steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/backward_flow"))
    args = parser.parse_args(argv)
    spikes, labels = input_spikes(args.samples, args.time_steps, args.data_dir)
    results, rows = {}, []
    for label, tau_grad, scale_grad in SURROGATES:
        for conserve in (False, True):
            norms = gradient_norms(args.depth, args.width, tau_grad, scale_grad, conserve,
                                   spikes, labels, args.seed)
            key = f"{label}, {'conserved' if conserve else 'as given'}"
            results[key] = norms
            hidden = norms[:-1]
            ratio = max(hidden) / min(hidden) if min(hidden) > 0 else float("inf")
            rows.append([key, hidden[0], hidden[-1], norms[-1], ratio])
    atomic_write_text(json.dumps({"settings": {k: str(v) for k, v in vars(args).items()},
                                  "norms": results,
                                  "provenance": current_provenance(__file__, argv)},
                                 indent=1), args.out / "backward_flow.json")
    figure, axis = plt.subplots(figsize=(6, 3.6))
    for key, norms in results.items():
        axis.plot(range(1, len(norms) + 1), [max(n, 1e-30) for n in norms], marker=".",
                  label=key)
    axis.set(xlabel="block (last: readout)", ylabel="weight-gradient norm", yscale="log",
             title=f"{args.depth} memoryless layers x {args.width}, T = {args.time_steps}")
    axis.legend(fontsize=7)
    figure.tight_layout()
    atomic_write(args.out / "backward_flow.png", lambda temp: figure.savefig(temp, format="png",
                                                                               dpi=80))
    print(format_table(["surrogate", "grad layer 1", f"grad layer {args.depth}", "grad readout",
                        "hidden max / min"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

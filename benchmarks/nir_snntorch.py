"""snnTorch -> NIR -> Lava: a snnTorch network trained on digits, exported with snnTorch's own
``export_to_nir``, imported with :func:`lava_init.nir.from_nir` and run on Lava fixed_pt.

    .venv/bin/python benchmarks/nir_snntorch.py                 # about 10 min on 2 CPU cores

The network: Conv2d(1->8, 3x3, pad 1) -> Leaky -> Conv2d(8->16, 3x3, stride 2, pad 1) ->
Leaky -> Flatten -> Linear(256->64) -> Leaky -> Linear(64->10) -> Leaky (4 spiking layers, no
biases; every Leaky with ``reset_mechanism="zero"``, Loihi's reset, and beta, threshold given
as tensors of the layer's shape, as snnTorch 1.0.0's exporter needs; weights drawn by lava-init
and trained on Loihi's 8-bit grid), trained briefly on scikit-learn's 8x8 digits rate-encoded
over T steps. The accuracy on the full digits test split
(the last 20%, 360 images, the same spikes for every side) of snnTorch, of the imported SLAYER
network and of Lava; the spike agreement per layer (snnTorch vs SLAYER, each SLAYER block one
step later) and SLAYER vs Lava's mismatches. Results go to
``benchmarks/results/nir/snntorch_to_lava.json`` with the command and commit.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import snntorch as snn
import torch
from provenance import current_provenance
from snntorch import surrogate
from snntorch.export_nir import export_to_nir
from torch.nn.utils import parametrize

from lava_init.encoding import rate_encode
from lava_init.files import atomic_write_text
from lava_init.initializers import variance_conserving_
from lava_init.nir import from_nir
from lava_init.quantization import SLAYER_8BIT
from lava_init.tables import format_table
from lava_init.training.data import load_digits_images
from netx_export import export_netx, verify

RESULTS = Path(__file__).resolve().parent / "results" / "nir" / "snntorch_to_lava.json"
#: snnTorch's exporter writes its time constants for this time step (and says it nowhere).
SNNTORCH_DT = 1e-4
#: The Leaky layers' output shapes.
SHAPES = ((8, 8, 8), (16, 4, 4), (64,), (10,))


def leaky(shape: tuple[int, ...], beta: float) -> snn.Leaky:
    """A Leaky layer snnTorch can export and Loihi runs as it does: tensors of the layer's
    shape, reset to zero."""
    return snn.Leaky(beta=torch.full(shape, beta), threshold=torch.ones(shape),
                     reset_mechanism="zero", init_hidden=True,
                     spike_grad=surrogate.fast_sigmoid())


class LoihiGrid(torch.nn.Module):
    """Weights on SLAYER's 8-bit grid (1/32 in [-4, 3.97]) in the forward pass, gradients
    straight through: the network trains on the values Loihi will hold."""

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return weight + (SLAYER_8BIT.apply(weight) - weight).detach()


class SnnNet(torch.nn.Module):
    """The benchmark's network, its weights drawn by lava-init's ``variance_conserving_`` for
    threshold 1 (PyTorch's default leaves the last two layers silent: nothing to compare) and
    trained on Loihi's weight grid (:class:`LoihiGrid`)."""

    def __init__(self, beta: float):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.lif1 = leaky(SHAPES[0], beta)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.lif2 = leaky(SHAPES[1], beta)
        self.flat = torch.nn.Flatten()
        self.fc1 = torch.nn.Linear(256, 64, bias=False)
        self.lif3 = leaky(SHAPES[2], beta)
        self.fc2 = torch.nn.Linear(64, 10, bias=False)
        self.lif4 = leaky(SHAPES[3], beta)
        for synapse in (self.conv1, self.conv2, self.fc1, self.fc2):
            variance_conserving_(synapse.weight.data, threshold=1.0)
            parametrize.register_parametrization(synapse, "weight", LoihiGrid())

    def fix_weights(self) -> None:
        """Keep the weights on Loihi's grid as plain tensors (what the exporter reads)."""
        for synapse in (self.conv1, self.conv2, self.fc1, self.fc2):
            parametrize.remove_parametrizations(synapse, "weight", leave_parametrized=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lif2(self.conv2(self.lif1(self.conv1(x))))
        return self.lif4(self.fc2(self.lif3(self.fc1(self.flat(x)))))

    def run(self, spikes: torch.Tensor) -> list[torch.Tensor]:
        """(batch, 1, 8, 8, T) -> each Leaky layer's spikes (batch, neurons, T), states
        reset first."""
        layers = [self.lif1, self.lif2, self.lif3, self.lif4]
        for layer in layers:
            layer.reset_mem()
        recorded = [[] for _ in layers]
        for step in range(spikes.shape[-1]):
            x = spikes[..., step]
            for index, (synapse, layer) in enumerate(self._stages()):
                x = layer(synapse(x))
                recorded[index].append(x.flatten(1))
        return [torch.stack(r, dim=-1) for r in recorded]

    def _stages(self):
        return ((self.conv1, self.lif1), (lambda x: self.conv2(x), self.lif2),
                (lambda x: self.fc1(self.flat(x)), self.lif3), (self.fc2, self.lif4))


def digits(train: bool, steps: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = load_digits_images(train)
    generator = torch.Generator().manual_seed(seed)
    return rate_encode(images.float() / 16, steps, generator), labels


def train(net: SnnNet, epochs: int, steps: int, seed: int) -> None:
    spikes, labels = digits(True, steps, seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(labels), generator=generator).split(64):
            counts = net.run(spikes[batch])[-1].sum(-1)
            loss = torch.nn.functional.cross_entropy(counts, labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def agreement(reference: np.ndarray, imported: np.ndarray, shift: int) -> float:
    """Fraction of (sample, neuron, step) where ``imported`` ``shift`` steps later equals
    ``reference``."""
    steps = reference.shape[-1]
    return float((reference == imported[..., shift:shift + steps]).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--time-steps", type=int, default=16)
    parser.add_argument("--beta", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    net = SnnNet(args.beta)
    started = time.perf_counter()
    train(net, args.epochs, args.time_steps, args.seed)
    net.fix_weights()
    print(f"trained {args.epochs} epochs in {time.perf_counter() - started:.0f} s")
    spikes, labels = digits(False, args.time_steps, args.seed + 1)
    with torch.no_grad():
        reference = [layer.numpy() for layer in net.run(spikes)]
        graph = export_to_nir(net, torch.zeros(1, 1, 8, 8), ignore_dims=[0])
    imported = from_nir(graph, dt=SNNTORCH_DT)
    padded = torch.cat([spikes, torch.zeros(*spikes.shape[:-1], len(SHAPES))], dim=-1)
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = export_netx(imported, Path(folder) / "snntorch.net", input_shape=(1, 8, 8))
        report = verify(imported, path, padded)
    with torch.no_grad():
        slayer = []
        x = padded
        for block in imported.blocks:
            x = block(x)
            if hasattr(block, "neuron"):
                slayer.append(x.flatten(1, -2).numpy())
    lava_counts = report.lava_spikes[-1].sum(-1)
    accuracy = {"snntorch": float((reference[-1].sum(-1).argmax(-1) == labels.numpy()).mean()),
                "slayer": float((slayer[-1].sum(-1).argmax(-1) == labels.numpy()).mean()),
                "lava": float((lava_counts.argmax(-1) == labels.numpy()).mean())}
    record = {"test_samples": len(labels), "time_steps": args.time_steps,
              "epochs": args.epochs, "beta": args.beta, "accuracy": accuracy,
              "spike_agreement_snntorch_vs_slayer": [
                  agreement(ref, got, index + 1)
                  for index, (ref, got) in enumerate(zip(reference, slayer, strict=True))],
              "slayer_lava_mismatches": report.total_mismatches,
              "rate_per_layer_snntorch": [float(r.mean()) for r in reference],
              "rounding": str(imported.rounding),
              "provenance": current_provenance(__file__, argv)}
    print(format_table(["side", "test accuracy"], [[k, v] for k, v in accuracy.items()]))
    print("spike agreement snnTorch vs SLAYER per layer:",
          [f"{a:.4f}" for a in record["spike_agreement_snntorch_vs_slayer"]],
          f"; SLAYER vs Lava mismatches: {report.total_mismatches}")
    atomic_write_text(json.dumps(record, indent=2) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

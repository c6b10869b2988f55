"""NIR in and out of Lava: the NIR paper's Loihi 2 trace and the NetX -> NIR -> NetX round trips.

    .venv/bin/python benchmarks/nir_bridge.py                   # about 1 min on 2 CPU cores

Parts (``--parts``, default all):

* ``loihi``: ``lif_norse.nir`` (written by Norse, ../shared/nir) driven by the input column of
  the traces at dt = 1e-4 s, imported with :func:`lava_init.nir.from_nir`, exported to NetX
  and run on Lava fixed_pt: the output spikes (Lava and SLAYER) against Loihi 2's, and the
  voltage against the hardware's trace in the trace's units (1/16384 NIR volt; an import at
  another voltage scale is rescaled to them), for the NIR paper's scale (256 mantissa units
  per NIR volt) and for the automatic scale, with each decay rounding;
* ``two_lif``: ``two_lif_neurons.nir`` on the same input: SLAYER vs Lava per layer;
* ``round_trips``: NetX -> NIR -> NetX on every network of ``netx_examples.py`` and on
  lava-dl's ntidigits and PilotNet LIF files: whether every dataset comes back equal, whether
  every value NetX builds from comes back equal (Intel's files store some fields in an older
  layout that lava-dl 0.6.0's exporter writes differently), or the one-line refusal.

Results go to ``benchmarks/results/nir/nir_bridge.json`` (with the command and commit) and are
printed as tables.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path

import h5py
import numpy as np
import torch
from lava.lib.dl import netx as lava_netx
from netx_examples import EXAMPLES
from provenance import current_provenance

from lava_init.files import atomic_write_text
from lava_init.nir import from_nir, netx_to_nir
from lava_init.tables import format_table
from netx_export import export_netx, verify
from netx_export.netx_file import read_netx_file
from netx_export.running.voltages import lava_voltages

#: The NIR paper's reference graphs and traces.
SHARED_NIR = Path(__file__).resolve().parents[2] / "shared" / "nir"
RESULTS = Path(__file__).resolve().parent / "results" / "nir" / "nir_bridge.json"
#: The time step of the traces.
TRACE_DT = 1e-4
#: (label, voltage_scale, decay_rounding) of the lif_norse imports compared.
LIF_IMPORTS = (("NIR paper's scale x4, decays floor", 4.0, "floor"),
               ("NIR paper's scale x4, decays nearest", 4.0, "nearest"),
               ("automatic scale, decays floor", None, "floor"),
               ("automatic scale, decays nearest", None, "nearest"))
#: The scale of the Loihi 2 trace: the NIR paper's import held 256 mantissas per NIR volt.
LOIHI_TRACE_SCALE = 4.0
#: lava-dl 0.6.0's NetX networks (its wheel's test ground truths).
GROUND_TRUTHS = Path(lava_netx.__file__).resolve().parents[4] / "tests/lava/lib/dl/netx/gts"
INTEL_NETWORKS = {"ntidigits": GROUND_TRUTHS / "ntidigits/ntidigits.net",
                  "PilotNet LIF": GROUND_TRUTHS / "pilotnet_lif/network.net"}


def _trace(name: str) -> np.ndarray:
    return np.loadtxt(SHARED_NIR / name, delimiter=",")


def _spike_steps(spikes: np.ndarray) -> list[int]:
    return np.flatnonzero(spikes).tolist()


def lif_record(label: str, scale: float | None, rounding: str, folder: Path) -> dict:
    """One lif_norse import against the Loihi 2 trace and the Lava CPU trace."""
    loihi, cpu = _trace("lif_lava_loihi_fixed.csv"), _trace("lif_lava_cpu_fixed.csv")
    spikes = torch.tensor(loihi[:, 0], dtype=torch.float32)[None]
    net = from_nir(SHARED_NIR / "lif_norse.nir", dt=TRACE_DT, voltage_scale=scale,
                   decay_rounding=rounding)
    path = export_netx(net, folder / "lif_norse.net", input_shape=(1,))
    report = verify(net, path, spikes, workers=1)
    scale = net.rounding.voltage_scales[0][1]
    voltage = lava_voltages(path, spikes)[0][0] * (LOIHI_TRACE_SCALE / scale)
    lava_spikes = _spike_steps(report.lava_spikes[0][0, 0])
    with torch.no_grad():
        slayer_spikes = _spike_steps(net(spikes[None])[0, 0].numpy())
    quiet = np.ones(voltage.size, dtype=bool)
    quiet[_spike_steps(loihi[:, 2])] = False
    return {"import": label, "voltage_scale": scale,
            "decay_rounding": rounding, "lava_spikes": lava_spikes,
            "slayer_spikes": slayer_spikes, "loihi_spikes": _spike_steps(loihi[:, 2]),
            "exact_solution_spikes": _spike_steps(_trace("lif_exact.csv")[:, 2]),
            "slayer_lava_mismatches": report.total_mismatches,
            "max_voltage_difference_vs_loihi": float(np.abs(voltage - loihi[:, 1]).max()),
            "max_voltage_difference_vs_loihi_off_spike_steps":
                float(np.abs(voltage - loihi[:, 1])[quiet].max()),
            "max_voltage_difference_vs_lava_cpu_trace": float(np.abs(voltage - cpu[:, 1]).max()),
            "rounding": str(net.rounding)}


def two_lif_record(folder: Path) -> dict:
    """two_lif_neurons.nir on the traces' input: each layer's spikes, SLAYER vs Lava."""
    spikes = torch.tensor(_trace("lif_lava_loihi_fixed.csv")[:, 0], dtype=torch.float32)[None]
    net = from_nir(SHARED_NIR / "two_lif_neurons.nir", dt=TRACE_DT)
    report = verify(net, export_netx(net, folder / "two_lif.net", input_shape=(1,)), spikes,
                    workers=1)
    return {"network": "two_lif_neurons.nir", "dt": TRACE_DT,
            "slayer_lava_mismatches": report.total_mismatches,
            "lava_spikes_per_layer": [int(layer.sum()) for layer in report.lava_spikes],
            "rounding": str(net.rounding)}


def netx_datasets(path: Path) -> dict[str, np.ndarray]:
    """Every dataset of an HDF5 file by its path in the file."""
    found: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda name, item: found.__setitem__(name, np.asarray(item[()]))
                          if isinstance(item, h5py.Dataset) else None)
    return found


#: The fields of a layer NetX reads to build it (beside its type, shape and neuron type).
NETX_FIELDS = ("weight", "bias", "delay", "neuron/vThMant", "neuron/iDecay", "neuron/vDecay",
               "stride", "padding", "dilation", "groups")


def netx_values(path: Path) -> dict[str, object]:
    """What NetX builds from ``path``, independent of how the file stores it: per layer it
    creates, the type, the neurons, and the values of :data:`NETX_FIELDS` flattened (a
    missing bias as zeros; a LOIHI neuron is NetX's CUBA)."""
    netx, values = read_netx_file(path), {}
    with h5py.File(path, "r") as handle:
        for layer in netx.layers:
            group = handle[layer.name]
            values[f"{layer.name}/type"] = (layer.kind, layer.size, "neuron" in group)
            for key in NETX_FIELDS:
                if key in group:
                    values[f"{layer.name}/{key}"] = np.asarray(group[key][()]).ravel().tolist()
            if layer.has_neurons and "bias" not in group:
                values[f"{layer.name}/bias"] = [0.0]
            bias = values.get(f"{layer.name}/bias")
            if bias is not None and len(set(bias)) == 1:
                values[f"{layer.name}/bias"] = bias[:1]
    return values


def round_trip_record(name: str, path: Path, folder: Path) -> dict:
    """NetX -> NIR -> NetX of the file ``path``: whether the datasets come back equal (and
    which differ), whether what NetX builds is the same (:func:`netx_values`), the layers
    left out; or the refusal."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            net = from_nir(netx_to_nir(path, dt=1e-3))
            again = export_netx(net, folder / "again.net", input_shape=net.input_shape)
    except ValueError as error:
        return {"network": name, "same_datasets": False, "refused": str(error)}
    before, after = netx_datasets(path), netx_datasets(again)
    differ = sorted(k for k in set(before) | set(after) if k not in before or k not in after
                    or not np.array_equal(before[k], after[k]))
    return {"network": name, "same_datasets": not differ, "datasets": len(before),
            "differing": differ, "same_netx_values": netx_values(path) == netx_values(again),
            "left_out": [str(w.message) for w in caught if "left out" in str(w.message)],
            "rounded_parameters": len(net.rounding.rounded)}


def round_trip_records(folder: Path) -> list[dict]:
    records = []
    for name, (build, input_shape) in EXAMPLES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = export_netx(build(), folder / "example.net", input_shape=input_shape)
        records.append(round_trip_record(name, path, folder))
    records += [round_trip_record(name, path, folder) for name, path in INTEL_NETWORKS.items()]
    return records


def _print(results: dict) -> None:
    for record in results.get("loihi", []):
        print(f"lif_norse.nir, {record['import']}: Lava {record['lava_spikes']}, SLAYER "
              f"{record['slayer_spikes']}, Loihi 2 {record['loihi_spikes']}; voltage vs Loihi "
              f"2: max {record['max_voltage_difference_vs_loihi']} units "
              f"({record['max_voltage_difference_vs_loihi_off_spike_steps']} off the spike "
              f"steps), vs Lava CPU trace {record['max_voltage_difference_vs_lava_cpu_trace']}")
    if "two_lif" in results:
        print(f"two_lif_neurons.nir: {results['two_lif']}")
    rows = [[r["network"], r["same_datasets"], r.get("same_netx_values", False),
             len(r.get("differing", [])), r.get("refused", "-")[:60]]
            for r in results.get("round_trips", [])]
    if rows:
        print("NetX -> NIR -> NetX")
        print(format_table(["network", "same datasets", "same NetX values",
                            "datasets stored otherwise", "refused"], rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["loihi", "two_lif", "round_trips"],
                        choices=["loihi", "two_lif", "round_trips"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results: dict = {"provenance": current_provenance(__file__, argv)}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if "loihi" in args.parts:
            results["loihi"] = [lif_record(*case, folder) for case in LIF_IMPORTS]
        if "two_lif" in args.parts:
            results["two_lif"] = two_lif_record(folder)
        if "round_trips" in args.parts:
            results["round_trips"] = round_trip_records(folder)
    _print(results)
    atomic_write_text(json.dumps(results, indent=2) + "\n", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

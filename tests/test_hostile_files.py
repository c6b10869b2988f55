"""Files from strangers: every bad NetX file or checkpoint is refused with one line naming the
layer (or entry), the field, what was found and what is valid, before NetX or Lava sees it.

The hostile files are made here, from a small exported network, by the mutations in the
tables below: a new field is one row.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from lava_init.cli import main as cli
from lava_init.training.checkpoints import load_checkpoint, save_model
from lava_init.training.example_nets import DENSE_INPUT, conv_net, dense_net
from lava_init.training.models import build_model
from netx_export import export_netx, load_netx, run_lava
from netx_export.netx_file import NetxFileError, read_netx_file

ROOT = Path(__file__).resolve().parents[1]
Mutation = Callable[[h5py.File, Path], None]


def replace(key: str, value) -> Mutation:
    """Store ``value`` at ``key`` instead of what is there."""
    def mutate(handle: h5py.File, _folder: Path) -> None:
        if key in handle:
            del handle[key]
        handle[key] = value
    return mutate


def delete(key: str) -> Mutation:
    def mutate(handle: h5py.File, _folder: Path) -> None:
        del handle[key]
    return mutate


def transform(key: str, change: Callable[[np.ndarray], np.ndarray]) -> Mutation:
    """Store ``change(values)`` at ``key``."""
    def mutate(handle: h5py.File, folder: Path) -> None:
        replace(key, change(handle[key][()]))(handle, folder)
    return mutate


def set_levels(value) -> Mutation:
    def mutate(handle: h5py.File, _folder: Path) -> None:
        handle.attrs["input_levels"] = value
    return mutate


def external_storage(handle: h5py.File, folder: Path) -> None:
    """The weights' bytes kept in another file (as a file could point at /etc/passwd)."""
    secret = folder / "secret.bin"
    secret.write_bytes(np.full(16 * 32, 2.0).tobytes())
    del handle["layer/1/weight"]
    handle.create_dataset("layer/1/weight", (16, 32), "f8", external=[(str(secret), 0, 4096)])


def external_link(handle: h5py.File, folder: Path) -> None:
    with h5py.File(folder / "other.h5", "w") as other:
        other["w"] = np.zeros((16, 32))
    del handle["layer/1/weight"]
    handle["layer/1/weight"] = h5py.ExternalLink("other.h5", "/w")


def soft_link(handle: h5py.File, _folder: Path) -> None:
    del handle["layer/1/weight"]
    handle["layer/1/weight"] = h5py.SoftLink("/layer/0/weight")


def virtual_dataset(handle: h5py.File, folder: Path) -> None:
    with h5py.File(folder / "source.h5", "w") as source:
        source["w"] = np.zeros((16, 32))
    layout = h5py.VirtualLayout(shape=(16, 32), dtype="f8")
    layout[:] = h5py.VirtualSource(str(folder / "source.h5"), "w", shape=(16, 32))
    del handle["layer/1/weight"]
    handle.create_virtual_dataset("layer/1/weight", layout)


def declared_huge(handle: h5py.File, _folder: Path) -> None:
    """A dataset declaring 10^10 values the file does not hold (a few bytes on disk)."""
    del handle["layer/1/weight"]
    handle.create_dataset("layer/1/weight", (100_000, 100_000), "f8", chunks=(100, 100),
                          compression="gzip")


def compound_type(handle: h5py.File, _folder: Path) -> None:
    del handle["layer/0/neuron/vThMant"]
    handle["layer/0/neuron/vThMant"] = np.zeros(1, dtype=[("a", "i4"), ("b", "f4")])


def renumbered(handle: h5py.File, _folder: Path) -> None:
    handle.move("layer/1", "layer/5")


TYPE_LIST = "one of input, flatten, dense, dense_rec, dense_comp, conv, average, pool, convT"
LIF_THRESHOLD = "valid: a whole number in [1, 131072]"
#: (name, mutation of dense_net(bias=True)'s file, the line's expected text): each is refused.
DENSE_CASES: list[tuple[str, Mutation, str]] = [
    ("threshold_float", replace("layer/0/neuron/vThMant", 80.5),
     f"layer/0/neuron field vThMant: found 80.5; {LIF_THRESHOLD}"),
    ("threshold_nan", replace("layer/0/neuron/vThMant", np.nan),
     f"layer/0/neuron field vThMant: found NaN; {LIF_THRESHOLD}"),
    ("threshold_string", replace("layer/0/neuron/vThMant", b"80"),
     "layer/0/neuron field vThMant: found text; valid"),
    ("threshold_zero", replace("layer/0/neuron/vThMant", 0), f"found 0; {LIF_THRESHOLD}"),
    ("threshold_negative", replace("layer/1/neuron/vThMant", -5), f"found -5; {LIF_THRESHOLD}"),
    ("threshold_missing", delete("layer/0/neuron/vThMant"),
     "layer/0/neuron field vThMant: found nothing (the field is missing)"),
    ("threshold_compound", compound_type, "field vThMant: found values of type"),
    ("voltage_decay_nan", replace("layer/0/neuron/vDecay", np.nan),
     "layer/0/neuron field vDecay: found NaN; valid: a whole number in [0, 4096]"),
    ("voltage_decay_above_4096", replace("layer/0/neuron/vDecay", 5000), "found 5000"),
    ("current_decay_negative", replace("layer/1/neuron/iDecay", -1),
     "layer/1/neuron field iDecay: found -1; valid: a whole number in [0, 4096]"),
    ("neuron_type_unknown", replace("layer/0/neuron/type", b"IZH"),
     "layer/0/neuron field type: found 'IZH'; valid: one of CUBA, LOIHI, SDNN, RF"),
    ("bias_wrong_shape", replace("layer/0/bias", np.zeros(5)),
     "layer/0 field bias: found 5 values; valid: 1 or 32 values"),
    ("bias_nan", transform("layer/0/bias", lambda b: b * np.nan), "layer/0 field bias: found NaN"),
    ("weight_nan", transform("layer/1/weight", lambda w: np.where(w == w.max(), np.nan, w)),
     "layer/1 field weight: found NaN"),
    ("weight_infinite", transform("layer/1/weight", lambda w: w + np.inf), "found inf"),
    ("weight_huge", transform("layer/1/weight", lambda w: w * 1e12), "field weight: found"),
    ("weight_fraction", transform("layer/1/weight", lambda w: w + 0.5), "field weight: found"),
    ("weight_missing", delete("layer/1/weight"),
     "layer/1 field weight: found nothing (the field is missing)"),
    ("weight_transposed", transform("layer/1/weight", lambda w: w.T),
     "layer/1 field weight: found shape (32, 16); valid: shape (16, 32)"),
    ("weight_flat", transform("layer/1/weight", np.ravel),
     "layer/1 field weight: found shape (512,); valid: shape (16, 32)"),
    ("shape_disagrees", replace("layer/1/shape", np.array([20])), "valid: shape (20, 32)"),
    ("out_features_disagree", replace("layer/1/outFeatures", 7),
     "layer/1 field outFeatures: found 7; valid: 16"),
    ("delay_negative", replace("layer/1/delay", np.full(16, -1.0)),
     "layer/1 field delay: found -1"),
    ("type_integer", replace("layer/1/type", np.array([3])), "layer/1 field type: found int64"),
    ("type_unknown_last", replace("layer/1/type", np.array([b"foo"], "S10")),
     f"layer/1 field type: found 'foo'; valid: {TYPE_LIST}"),
    ("input_levels_zero", set_levels(0), "root attribute input_levels: found 0; valid: one "
     "whole number in [1, 1024]"),
    ("input_levels_negative", set_levels(-3), "input_levels: found -3"),
    ("input_levels_float", set_levels(2.5), "input_levels: found 2.5"),
    ("input_levels_huge", set_levels(2e9), "input_levels: found 2000000000.0"),
    ("input_levels_array", set_levels(np.array([16, 16])), "input_levels: found [16, 16]"),
    ("input_levels_string", set_levels("16"), "input_levels: found '16'"),
    ("external_storage", external_storage, "is stored in another file"),
    ("external_link", external_link, "/layer/1/weight is a link to other.h5; a NetX file "
     "must be self-contained"),
    ("soft_link", soft_link, "/layer/1/weight is a link to /layer/0/weight"),
    ("virtual_dataset", virtual_dataset, "/layer/1/weight is a virtual dataset"),
    ("declared_huge", declared_huge, "declares 10000000000 values but the file stores only"),
    ("layers_renumbered", renumbered, "layer/ holds 0, 5...; valid: groups 0 .. 1"),
    ("no_layers", delete("layer"), "the file has no layer group with layers"),
]
#: The same for conv_net(bias=True)'s file (layer/0 its input shape, 1 and 2 convolutions).
CONV_CASES: list[tuple[str, Mutation, str]] = [
    ("stride_zero", replace("layer/1/stride", np.array([0, 0])),
     "layer/1 field stride: found 0"),
    ("groups_zero", replace("layer/1/groups", 0), "layer/1 field groups: found 0"),
    ("kernel_channels_wrong", transform("layer/2/weight", lambda w: w[:, :2]),
     "layer/2 field weight: found shape (8, 2, 3, 3); valid: (8, 4 / 1, kernel height"),
    ("output_shape_wrong", replace("layer/2/shape", np.array([8, 5, 5])),
     "layer/2 field shape: found (8, 5, 5); valid: (8, 4, 4)"),
    ("in_channels_disagree", replace("layer/2/inChannels", 3),
     "layer/2 field inChannels: found 3; valid: 4"),
    ("input_shape_missing", delete("layer/0/shape"), "layer/0 field shape: found nothing"),
    ("giant_input", replace("layer/0/shape", np.array([2, 80_000, 80_000])),
     "layer/1 field shape: found (4, 4, 4); valid: (4, 40000, 40000)"),
]


@pytest.fixture(scope="module")
def netx_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("netx")
    return {"dense": export_netx(dense_net(bias=True), folder / "dense.net"),
            "conv": export_netx(conv_net(bias=True), folder / "conv.net",
                                input_shape=(2, 8, 8))}


def hostile_file(source: Path, folder: Path, mutation: Mutation) -> Path:
    path = folder / "hostile.net"
    shutil.copy(source, path)
    with h5py.File(path, "a") as handle:
        mutation(handle, folder)
    return path


@pytest.mark.parametrize("kind, mutation, message", [
    *[pytest.param("dense", mutation, message, id=name) for name, mutation, message in DENSE_CASES],
    *[pytest.param("conv", mutation, message, id=name) for name, mutation, message in CONV_CASES],
])
def test_a_hostile_netx_file_is_refused_with_one_line(netx_files, tmp_path, kind, mutation,
                                                      message):
    path = hostile_file(netx_files[kind], tmp_path, mutation)
    with pytest.raises(NetxFileError) as refused:
        read_netx_file(path)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(ValueError, match="valid|self-contained|declares|layer group"):
        load_netx(path)


def test_a_file_that_is_not_hdf5_is_refused(tmp_path):
    path = tmp_path / "text.net"
    path.write_text("not a network")
    with pytest.raises(NetxFileError, match="not an HDF5 file"):
        read_netx_file(path)


@pytest.mark.parametrize("mutation", [delete("layer/1/outFeatures"), delete("layer/1/inFeatures"),
                                      set_levels(1)], ids=["no_outFeatures", "no_inFeatures",
                                                           "input_levels_1"])
def test_optional_fields_may_be_missing_and_legal_values_load(netx_files, tmp_path, mutation):
    path = hostile_file(netx_files["dense"], tmp_path, mutation)
    net = load_netx(path)
    assert net.blocks[1].synapse.weight.shape[:2] == (16, 32)


def test_conv_sizes_come_from_the_weights_when_the_optional_fields_are_missing(netx_files,
                                                                               tmp_path):
    def strip(handle: h5py.File, _folder: Path) -> None:
        for key in ("inChannels", "outChannels", "kernelSize"):
            del handle[f"layer/2/{key}"]

    path = hostile_file(netx_files["conv"], tmp_path, strip)
    original, stripped = load_netx(netx_files["conv"]), load_netx(path)
    spikes = (torch.rand(1, 2, 8, 8, 6, generator=torch.Generator().manual_seed(0)) < 0.4)
    assert torch.equal(original(spikes.float()), stripped(spikes.float()))


def test_intels_own_netx_files_pass_the_checks():
    gts = Path(np.__file__).parents[1] / "tests/lava/lib/dl/netx/gts"
    files = sorted(gts.rglob("*.net"))
    assert len(files) >= 4, gts
    for path in files:
        assert read_netx_file(path).neurons > 0


#: Files that used to hang ``lava-init inspect`` (a Lava process failed, the parent waited).
FORMER_HANGS = ["threshold_float", "voltage_decay_nan", "bias_wrong_shape", "external_storage",
                "type_unknown_last"]


@pytest.mark.parametrize("name", FORMER_HANGS)
@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_inspect_refuses_a_hostile_file_within_seconds_in_one_line(netx_files, tmp_path, name):
    mutation, message = next((m, text) for case, m, text in DENSE_CASES if case == name)
    path = hostile_file(netx_files["dense"], tmp_path, mutation)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "lava_init.cli", "inspect", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert time.monotonic() - started < 30
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lava-init inspect: error: "), lines
    assert message in lines[0]


#: A command run in a fresh process that reports whether torch and lava-dl were loaded.
REFUSED_BEFORE_LOADING = """
import sys
from lava_init.cli.main import main
code = main(sys.argv[1:])
print(code, "torch" in sys.modules, "lava.lib.dl.slayer" in sys.modules)
"""


@pytest.mark.parametrize("command", ["inspect", "verify"])
@pytest.mark.integration  # a process start: the fast tier holds in-process tests
def test_a_hostile_file_is_refused_before_torch_and_lava_dl_load(netx_files, tmp_path, command):
    mutation, message = next((m, text) for case, m, text in DENSE_CASES
                             if case == "bias_wrong_shape")
    path = hostile_file(netx_files["dense"], tmp_path, mutation)
    argv = [command, str(path)] if command == "inspect" else [command, "model.pt", str(path)]
    done = subprocess.run([sys.executable, "-c", REFUSED_BEFORE_LOADING, *argv],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.stdout.split() == ["2", "False", "False"], done.stdout + done.stderr
    assert message in done.stderr


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_a_network_too_deep_for_lavas_process_cap_is_refused_before_any_process(tmp_path,
                                                                               monkeypatch):
    from lava.lib.dl import slayer

    neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
    net = torch.nn.Sequential(*[slayer.block.cuba.Dense(neuron, 4, 4) for _ in range(2)])
    path = export_netx(net, tmp_path / "deep.net")
    with h5py.File(path, "a") as handle:  # 300 layers of 4 neurons, as in a 1.6 MB file
        for index in range(2, 300):
            handle.copy(handle["layer/1"], f"layer/{index}")
    assert read_netx_file(path).neurons == 1200

    def no_process(*_args, **_kwargs):  # Lava starts its processes by forking
        raise AssertionError("a process was started before the refusal")

    monkeypatch.setattr(os, "fork", no_process)
    with pytest.raises(ValueError, match=r"its 300 Lava layers need 903 processes per run .* "
                                         r"over the cap of 384; run a network of at most 127"):
        run_lava(path, np.ones((4, 5)))


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_a_declared_giant_layer_is_refused_by_its_size_before_allocation(netx_files, tmp_path):
    def giant(handle: h5py.File, _folder: Path) -> None:  # 2 x 10^10 neurons in a small file
        handle["layer/0/shape"][...] = [2, 80_000, 80_000]
        handle["layer/1/shape"][...] = [4, 40_000, 40_000]
        handle["layer/2/shape"][...] = [8, 40_000, 40_000]
        del handle["layer/3"], handle["layer/4"]

    path = hostile_file(netx_files["conv"], tmp_path, giant)
    with pytest.raises(NetxFileError, match=r"declares 19200000000 neurons \(layer/2: "
                                            r"12800000000, shape \(8, 40000, 40000\)\) in a "
                                            r"file of \d+ bytes"):
        read_netx_file(path)
    with pytest.raises(ValueError, match=r"declares 19200000000 neurons"):
        load_netx(path)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "lava_init.cli", "inspect", str(path)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and time.monotonic() - started < 30
    assert len(done.stderr.strip().splitlines()) == 1 and "declares 19200000000" in done.stderr


# --- checkpoints ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def training_checkpoint(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    argv = ["train", "--dataset", "digits", "--depth", "1", "--width", "8", "--epochs", "1",
            "--limit", "32", "--test-limit", "16", "--time-steps", "2", "--no-progress",
            "--out", str(folder)]
    assert cli.main(argv) == 0
    return folder / "checkpoint.pt"


def edit(key: str, change: Callable[[object], object]) -> Callable[[dict], None]:
    def mutate(checkpoint: dict) -> None:
        if change is None:
            del checkpoint[key]
        else:
            checkpoint[key] = change(checkpoint[key])
    return mutate


def nan_weight(state: dict) -> dict:
    key = next(k for k in state if k.endswith("synapse.weight"))
    return {**state, key: state[key] * float("nan")}


#: (name, change of a training checkpoint, expected text) for ``lava-init export``.
EXPORT_CASES = [
    ("model_state_missing", edit("model_state", None), "has no model_state"),
    ("weights_nan", edit("model_state", nan_weight), "holds NaN or infinite values"),
    ("unknown_neuron_field", edit("model_config", lambda c: {**c, "settings": {
        **c["settings"], "neuron": {**c["settings"]["neuron"], "spin": 1}}}),
     "its model_config cannot build a network (TypeError"),
    ("cnn_without_in_shape", edit("model_config", lambda c: {**c, "arch": "cnn"}),
     "its model_config cannot build a network (KeyError: 'in_shape')"),
    ("wider_than_stored", edit("model_config", lambda c: {**c, "width": 10**6}),
     "needs shape (1000000, 64, 1, 1, 1)"),
]
#: The same for ``lava-init train --resume`` (a training checkpoint's own entries).
RESUME_CASES = [
    ("optimizer_state_missing", edit("optimizer_state", None),
     "its optimizer_state entry holds nothing"),
    ("rng_missing", edit("rng", None), "its rng entry holds nothing"),
    ("rng_wrong_size", edit("rng", lambda r: {**r, "torch": r["torch"][:100]}),
     "its rng entry is not the torch, Python and numpy random states"),
]


def refused_line(capsys, argv: list[str]) -> str:
    assert cli.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"lava-init {argv[0]}: error: "), lines
    return lines[0]


def damaged_checkpoint_argv(command: str, folder: Path) -> list[str]:
    """``lava-init export`` of ``folder/checkpoint.pt``, or ``train --resume`` from it."""
    if command == "export":
        return ["export", str(folder / "checkpoint.pt"), str(folder / "x.net")]
    return ["train", "--dataset", "digits", "--depth", "1", "--width", "8", "--epochs", "2",
            "--limit", "32", "--test-limit", "16", "--time-steps", "2", "--no-progress",
            "--out", str(folder), "--resume"]


@pytest.mark.parametrize("command, change, message", [
    *[pytest.param("export", *case[1:], id=case[0]) for case in EXPORT_CASES],
    *[pytest.param("resume", *case[1:], id=case[0]) for case in RESUME_CASES]])
def test_a_damaged_checkpoint_is_refused_in_one_line(capsys, training_checkpoint, tmp_path,
                                                     command, change, message):
    checkpoint = load_checkpoint(training_checkpoint)
    change(checkpoint)
    torch.save(checkpoint, tmp_path / "checkpoint.pt")
    assert message in refused_line(capsys, damaged_checkpoint_argv(command, tmp_path))
    assert not (tmp_path / "x.net").exists()


def test_a_saved_model_still_exports(tmp_path, capsys):
    config = {"arch": "mlp", "in_features": 24, "out_features": 4, "depth": 1, "width": 8}
    save_model(tmp_path / "model.pt", build_model(config), config)
    assert cli.main(["export", str(tmp_path / "model.pt"), str(tmp_path / "m.net")]) == 0
    assert read_netx_file(tmp_path / "m.net").input_shape == DENSE_INPUT[:0] + (24,)


@pytest.mark.parametrize("argv, message", [
    (["inspect", "NET", "--samples", "100000000"], "--samples 100000000 x 24 inputs x "
     "--time-steps 32 needs about"),
    (["train", "--dataset", "digits", "--time-steps", "100000000", "--no-progress"],
     "training a mlp of depth 10 on batches of 16 x 100000000 steps"),
    (["train", "--dataset", "digits", "--readout-population", "100000000", "--no-progress"],
     "with 100000000 output neurons per class needs about"),
    (["train", "--dataset", "digits", "--time-steps", "0"], "time-steps must be an integer >= 1"),
])
def test_sizes_beyond_the_machine_are_one_line_before_any_allocation(capsys, netx_files, argv,
                                                                     message):
    argv = [str(netx_files["dense"]) if item == "NET" else item for item in argv]
    line = refused_line(capsys, argv)
    assert message in line
    if "needs about" in message:
        assert "more than half of the" in line and "of memory available" in line

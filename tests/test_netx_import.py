"""load_netx, inspect and Intel's NetX ground truths, on real SLAYER blocks and Lava fixed point."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from lava.lib.dl import netx as lava_netx
from lava.lib.dl import slayer

from lava_init import initialize, measure_activity
from lava_init.cli.main import main
from lava_init.training.example_nets import (
    CONV_INPUT,
    DENSE_INPUT,
    NEURON,
    BlockNet,
    conv_net,
    dense_net,
    input_block_net,
    random_spikes,
    recurrent_net,
)
from netx_export import export, export_netx, inspect, load, load_netx, netx_file, run_lava, verify
from netx_export.load import NetxDense
from netx_export.verification import _is_lava_layer

#: The integration tier (Lava runs, training, subprocesses): not in `make test-fast`.
pytestmark = pytest.mark.integration

#: Where lava-dl 0.6.0's wheel installs its NetX test networks with recorded outputs.
GROUND_TRUTHS = (Path(lava_netx.__file__).resolve().parents[4]
                 / "tests/lava/lib/dl/netx/gts")


def ground_truth(name: str = "") -> Path:
    """The folder of one ground truth (no name: the folder of them all); the test is skipped
    (with the reason) when absent."""
    folder = GROUND_TRUTHS / name
    if not folder.is_dir():
        pytest.skip(f"lava-dl's NetX ground truths not found at {folder} (the lava-dl 0.6.0 "
                    "wheel from PyPI installs them)")
    return folder


def delay_net(seed: int = 11) -> BlockNet:
    """Dense 24 -> 32 (axonal delays 0..5) -> Dense 32 -> 16 (delays 0..3)."""
    torch.manual_seed(seed)
    net = BlockNet(NetxDense(NEURON, 24, 32, weight_scale=2, delay=True),
                   NetxDense(NEURON, 32, 16, weight_scale=2, delay=True))
    net(torch.zeros(1, 24, 2))
    generator = torch.Generator().manual_seed(seed)
    for block, longest in zip(net.blocks, (5, 3), strict=True):
        block.delay.delay.data = torch.randint(0, longest + 1, (block.synapse.out_channels,),
                                               generator=generator).float()
    return net


def input_bias_net(seed: int = 13) -> BlockNet:
    """Input block with weight 1.5 and bias 0.25 -> Dense 24 -> 16."""
    torch.manual_seed(seed)
    return BlockNet(slayer.block.cuba.Input(NEURON, weight=1.5, bias=0.25),
                    slayer.block.cuba.Dense(NEURON, 24, 16, weight_scale=2))


ROUND_TRIPS = {
    "dense_bias": (lambda: dense_net(bias=True), DENSE_INPUT),
    "conv_stride_padding_bias": (lambda: conv_net(bias=True), CONV_INPUT),
    "input_block": (input_block_net, DENSE_INPUT),
    "input_block_bias": (input_bias_net, DENSE_INPUT),
    "delays": (delay_net, DENSE_INPUT),
}


def datasets(path: Path) -> dict[str, np.ndarray]:
    found = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(lambda name, item: found.__setitem__(name, np.asarray(item[()]))
                          if isinstance(item, h5py.Dataset) else None)
    return found


@pytest.mark.parametrize("name", list(ROUND_TRIPS))
def test_round_trip_reproduces_the_file_and_slayer_matches_lava(name, tmp_path):
    build, input_shape = ROUND_TRIPS[name]
    original = export_netx(build(), tmp_path / "original.net", input_shape=input_shape)
    imported = load_netx(original)
    assert imported.input_shape == input_shape
    again = export_netx(imported, tmp_path / "again.net", input_shape=imported.input_shape)

    before, after = datasets(original), datasets(again)
    assert sorted(before) == sorted(after)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)
    report = verify(imported, original, random_spikes(input_shape, steps=14, batch=2), workers=1)
    assert report.total_mismatches == 0, str(report)
    assert report.propagates, str(report)


def test_graded_input_through_an_input_layer_with_bias_is_spike_exact(tmp_path):
    """Graded values on SLAYER's 1/32 grid: Lava's Input neurons get round(x * 96 + 16)."""
    path = export_netx(input_bias_net(), tmp_path / "graded.net", input_shape=DENSE_INPUT)
    generator = torch.Generator().manual_seed(3)
    graded = torch.randint(0, 64, (2, *DENSE_INPUT, 12), generator=generator) / 32
    report = verify(load_netx(path), path, graded, workers=1)
    assert report.total_mismatches == 0, str(report)
    assert report.propagates, str(report)


def test_ntidigits_lava_matches_intels_recorded_output_and_skips_the_average(tmp_path):
    folder = ground_truth("ntidigits")
    steps = 250  # causal: the first steps of the 3000 need only the first inputs
    spikes = np.load(folder / "input.npy")[:, :steps]
    recorded = np.load(folder / "output.npy")
    report = inspect(folder / "ntidigits.net", spikes, workers=1)

    assert [layer.activity.name for layer in report.layers] == ["layer/2", "layer/3", "layer/4"]
    assert report.skipped == [("layer/5", "average")]
    assert "layer/5 (average): skipped, NetX 0.6.0 cannot run it" in str(report)
    last = report.spikes[-1][0]
    assert last.sum() > 100
    # Intel's recording is one step later than Lava's output (its step 0 is before Lava's)
    np.testing.assert_array_equal(last[:, :steps - 1], recorded[:, 1:steps])


def test_an_imported_network_is_measured_reinitialized_and_exported_again(tmp_path):
    """load_netx's blocks derive from lava-dl's: initialize and measure_activity see them."""
    net = load_netx(export_netx(delay_net(), tmp_path / "original.net"))
    spikes = random_spikes(DENSE_INPUT, steps=14, batch=2)
    assert len(measure_activity(net, spikes).layers) == 2
    report = initialize(net, "variance_conserving", generator=torch.Generator().manual_seed(0))
    assert [row.kind for row in report.blocks] == ["NetxDense", "NetxDense"]
    path = export_netx(net, tmp_path / "reinitialized.net", input_shape=net.input_shape)
    assert verify(net, path, spikes, workers=1).total_mismatches == 0


def test_ntidigits_in_slayer_matches_intels_recorded_output_on_all_3000_steps():
    folder = ground_truth("ntidigits")
    spikes = torch.tensor(np.load(folder / "input.npy"), dtype=torch.float32)
    recorded = np.load(folder / "output.npy")
    net = load_netx(folder / "ntidigits.net")

    assert [block.delay is not None for block in net.blocks] == [True, True, False]
    assert net.skipped == [("layer/5", "average")]
    with torch.no_grad():
        output = net(spikes[None])[0].numpy()
    assert output.sum() == recorded.sum() > 20000
    np.testing.assert_array_equal(output[:, :-1], recorded[:, 1:])


def test_pilotnet_lif_graded_input_layer_matches_until_intels_reset():
    """PilotNet LIF: the image drives the Input layer's neurons (graded input). Lava's Input
    layer spikes equal Intel's recording on steps 0..16; the recording was made with
    reset_interval=16 (Intel's hardware test), which resets that layer at step 17. Intel's
    conv-layer recordings differ from Lava fixed point from step 1 on, so they are not
    compared (Intel's own test compares one hardware layer's current on Loihi 2 only)."""
    folder = ground_truth("pilotnet_lif")
    image = np.load(folder / "image.npy").astype(np.float64)  # (W, H, C) integer pixels
    graded = ((image - 36) / 40).transpose(2, 1, 0)  # transform: round(x * 40 + 36) = pixel
    spikes = np.repeat(graded[..., None], 18, axis=-1)
    recorded = np.load(folder / "input-s.npy").transpose(2, 1, 0, 3).reshape(-1, 24)
    path = folder / "network.net"
    with h5py.File(path, "r") as handle:
        assert handle["layer/0/weight"][()] == 40 and handle["layer/0/bias"][()] == 36
    input_layer = run_lava(path, spikes, workers=1)[0]
    np.testing.assert_array_equal(input_layer[:, :17], recorded[:, :17])


#: The ground truths the tests above compare with Lava and SLAYER.
GROUND_TRUTHS_COMPARED = ("ntidigits", "pilotnet_lif")
#: No .net file in the folder: arrays only, for a test that builds its network itself.
NO_NETWORK_FILE = "no .net file"
#: The folder's .net files have sigma-delta neurons, which load_netx refuses.
SDNN_NEURONS = "SDNN neurons"
#: The ground truths lava-dl's wheel ships that are not compared: what rules each out (checked
#: on its folder by test_the_ground_truths_not_compared_are_what_the_table_says) and why.
GROUND_TRUTHS_NOT_COMPARED = {
    "tinynet": (NO_NETWORK_FILE, "Intel's test builds it from arrays and drives the Input "
                                 "layer by overwriting its neurons' bias_mant per pixel"),
    "pilotnet_sdnn": (SDNN_NEURONS, "sigma-delta neurons with graded messages: load_netx "
                                    "imports CUBA layers, run_lava records binary spikes"),
    "tinynet_sdnn": (NO_NETWORK_FILE, "a sigma-delta network's arrays"),
    "dense": (NO_NETWORK_FILE, "a single Lava Dense block's arrays (weights, input, output)"),
    "complex_dense": (NO_NETWORK_FILE, "a complex-valued Dense block's arrays"),
}


def test_every_shipped_ground_truth_is_compared_or_listed_with_its_reason():
    shipped = {folder.name for folder in ground_truth().iterdir() if folder.is_dir()}
    assert not set(GROUND_TRUTHS_COMPARED) & set(GROUND_TRUTHS_NOT_COMPARED)
    assert shipped == {*GROUND_TRUTHS_COMPARED, *GROUND_TRUTHS_NOT_COMPARED}


@pytest.mark.parametrize("name", list(GROUND_TRUTHS_NOT_COMPARED))
def test_the_ground_truths_not_compared_are_what_the_table_says(name):
    folder = ground_truth(name)
    networks = sorted(folder.glob("*.net"))
    blocker, _ = GROUND_TRUTHS_NOT_COMPARED[name]
    if blocker == NO_NETWORK_FILE:
        assert networks == [] and list(folder.glob("*.npy"))
    else:
        assert blocker == SDNN_NEURONS and networks
        for path in networks:
            with pytest.raises(ValueError, match="has SDNN neurons; load_netx imports CUBA"):
                load_netx(path)


def test_load_netx_refuses_what_it_cannot_import(tmp_path):
    with pytest.raises(FileNotFoundError, match="no NetX network at"):
        load_netx(tmp_path / "missing.net")
    path = export_netx(dense_net(), tmp_path / "net.net")
    with h5py.File(path, "r+") as handle:
        del handle["layer/1/neuron/type"]
        handle["layer/1/neuron/type"] = "SDNN"
    with pytest.raises(ValueError, match=r"layer/1 has SDNN neurons; load_netx imports CUBA"):
        load_netx(path)


def test_cli_inspect_with_an_input_file_and_a_figure(tmp_path, capsys):
    path = export_netx(input_block_net(), tmp_path / "net.net", input_shape=DENSE_INPUT)
    inputs = tmp_path / "inputs.npy"
    np.save(inputs, random_spikes(DENSE_INPUT, steps=12, batch=2).numpy())
    figure = tmp_path / "rates.png"

    assert main(["inspect", str(path), "--input", str(inputs), "--figure", str(figure),
                 "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 sample(s) x 12 steps" in out and "activity reaches the last layer: yes" in out
    assert figure.read_bytes()[:4] == b"\x89PNG"
    assert main(["inspect", str(path), "--data", "digits"]) == 2
    assert capsys.readouterr().err.strip() == (
        "lava-init inspect: error: --data digits needs a network with 64 inputs (it has (24,)); "
        "use --data random or --input FILE.npy")
    np.save(inputs, np.full((2, 24, 12), np.nan))
    assert main(["inspect", str(path), "--input", str(inputs)]) == 2
    assert "NaN" in capsys.readouterr().err


def test_building_the_recurrent_example_leaves_the_shared_neuron_untouched():
    """lava-dl's Recurrent block writes persistent_state=True into its neuron_params dict."""
    before = dict(NEURON)
    recurrent_net()
    assert before == NEURON


def test_the_layer_type_table_is_the_one_place_a_netx_type_lives():
    """Each importable row of netx_file.LAYER_TYPES has its importer (load.IMPORTERS) and
    nothing else does; the exporter takes exactly the runnable rows' SLAYER blocks and refuses
    the unrunnable ones; verify counts a block as a Lava layer by its row."""
    assert set(load.IMPORTERS) == set(netx_file.IMPORTABLE_LAYERS)
    runnable = {row.block for row in netx_file.LAYER_TYPES.values() if row.created and row.block}
    assert set(export.SUPPORTED_BLOCKS) == runnable
    assert set(netx_file.UNRUNNABLE_BLOCKS) <= set(export.UNSUPPORTED_BLOCKS)
    assert not runnable & set(export.UNSUPPORTED_BLOCKS)
    neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
    assert _is_lava_layer(slayer.block.cuba.Dense(neuron, 4, 2))
    assert not _is_lava_layer(slayer.block.cuba.Flatten())

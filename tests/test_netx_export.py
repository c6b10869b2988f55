"""netx_export against real lava-dl SLAYER blocks and Lava's fixed-point simulator (no mocks)."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from lava.lib.dl import slayer
from lava.lib.dl.netx import hdf5
from torch.utils.data import TensorDataset

from lava_init.cli.main import main
from lava_init.encoding import GRADED_LEVELS, ramp_encode
from lava_init.network_init import initialize
from lava_init.quantization import SLAYER_8BIT, STATE_SCALE
from lava_init.records import InputContract
from lava_init.slayer_blocks import LavaCurrentWrap
from lava_init.temporal import LAVA_CURRENT_LIMIT
from lava_init.training.checkpoints import save_model
from lava_init.training.config import MEMORYLESS, BlockSettings
from lava_init.training.example_nets import (
    CONV_INPUT,
    DENSE_INPUT,
    NEURON,
    BlockNet,
    conv_net,
    deep_mlp,
    dense_net,
    input_block_net,
    random_spikes,
    recurrent_net,
    set_biases,
)
from lava_init.training.lava_check import measure_current_wrap
from lava_init.training.models import SlayerMLP, build_model
from netx_export import export_netx, load_netx, loihi2_available, run_lava, verify

#: The integration tier (Lava runs, training, subprocesses): not in `make test-fast`.
pytestmark = pytest.mark.integration

NETWORKS = {
    "dense": (dense_net, DENSE_INPUT),
    "dense_bias": (lambda: dense_net(bias=True), DENSE_INPUT),
    "conv_flatten_dense": (conv_net, CONV_INPUT),
    "conv_flatten_dense_bias": (lambda: conv_net(bias=True), CONV_INPUT),
    "input_block": (input_block_net, DENSE_INPUT),
    "recurrent": (recurrent_net, DENSE_INPUT),
    "dense_no_delay_shift": (lambda: SlayerMLP(
        24, 8, depth=2, width=32, settings=BlockSettings(neuron=MEMORYLESS, delay_shift=False)),
        DENSE_INPUT),
}


@pytest.mark.parametrize("name", list(NETWORKS))
def test_export_loads_and_lava_matches_slayer_spike_for_spike(name, tmp_path):
    build, input_shape = NETWORKS[name]
    net = build()
    if name == "dense_no_delay_shift":
        initialize(net, sigma=2.0, generator=torch.Generator().manual_seed(0))
    path = export_netx(net, tmp_path / f"{name}.net", input_shape=input_shape)

    network = hdf5.Network(net_config=str(path))
    network.net_config.f.close()
    neuron_blocks = [b for b in net.blocks if getattr(b, "neuron", None) is not None]
    assert len(network.layers) == len(neuron_blocks)

    report = verify(net, path, random_spikes(input_shape, steps=16, seed=len(name)))
    assert report.total_mismatches == 0, str(report)
    assert report.propagates, str(report)
    assert all(layer.slayer_rate == layer.lava_rate for layer in report.layers)


def test_exported_weights_are_the_8bit_quantized_weights(tmp_path):
    net = conv_net(bias=True)
    path = export_netx(net, tmp_path / "conv.net", input_shape=CONV_INPUT)
    with h5py.File(path, "r") as handle:
        assert handle["layer/0/type"][0] == b"input"  # shape-only group for the Conv input
        assert tuple(handle["layer/0/shape"][()]) == CONV_INPUT
        first_conv = handle["layer/1/weight"][()]
        dense = handle["layer/4/weight"][()]
        assert handle["layer/1/stride"][()].tolist() == [2, 2]
        assert handle["layer/1/padding"][()].tolist() == [1, 1]
        assert "bias" in handle["layer/1"]
    expected_conv = SLAYER_8BIT.apply(net.blocks[0].synapse.weight.detach()) * 64
    expected_dense = SLAYER_8BIT.apply(net.blocks[3].synapse.weight.detach()) * 64
    np.testing.assert_array_equal(first_conv, expected_conv.squeeze(-1).numpy())
    np.testing.assert_array_equal(dense, expected_dense.reshape(10, -1).numpy())


def test_export_leaves_the_network_unchanged(tmp_path):
    torch.manual_seed(6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates the weight_norm SLAYER uses
        net = BlockNet(slayer.block.cuba.Dense(NEURON, 24, 32, weight_norm=True),
                       slayer.block.cuba.Dense(NEURON, 32, 16, weight_norm=True))
    net.train()
    net.blocks[1].eval()
    parameters = dict(net.named_parameters())
    values = {name: p.detach().clone() for name, p in parameters.items()}
    modes = {name: m.training for name, m in net.named_modules()}

    export_netx(net, tmp_path / "wn.net")

    assert dict(net.named_parameters()) == parameters  # the same Parameter objects
    for name, parameter in net.named_parameters():
        assert torch.equal(parameter, values[name]), name
    assert {name: m.training for name, m in net.named_modules()} == modes
    assert all(block.synapse.weight_norm_enabled for block in net.blocks)
    weight_parameters = {name for name in parameters if ".synapse." in name}
    assert weight_parameters == {"blocks.0.synapse.weight_g", "blocks.0.synapse.weight_v",
                                 "blocks.1.synapse.weight_g", "blocks.1.synapse.weight_v"}


def test_reexport_over_a_file_an_open_netx_network_holds(tmp_path):
    net = dense_net()
    path = export_netx(net, tmp_path / "net.net")
    held_open = hdf5.Network(net_config=str(path))  # NetX keeps its h5py file open
    with torch.no_grad():
        net.blocks[0].synapse.weight.mul_(-1)
    export_netx(net, path)
    with h5py.File(path, "r") as handle:
        rewritten = handle["layer/0/weight"][()]
    assert held_open.net_config.f.id.valid
    held_open.net_config.f.close()
    expected = SLAYER_8BIT.apply(net.blocks[0].synapse.weight.detach()) * 64
    np.testing.assert_array_equal(rewritten, expected.reshape(32, 24).numpy())


class InterruptedDense(slayer.block.cuba.Dense):
    """A real cuba.Dense whose export is interrupted after it has written its datasets."""

    def export_hdf5(self, handle):
        super().export_hdf5(handle)
        raise KeyboardInterrupt


def test_interrupted_export_leaves_the_old_file_intact(tmp_path):
    path = export_netx(dense_net(), tmp_path / "net.net")
    old_bytes = path.read_bytes()
    torch.manual_seed(7)
    interrupted = BlockNet(slayer.block.cuba.Dense(NEURON, 24, 32),
                           InterruptedDense(NEURON, 32, 16))
    with pytest.raises(KeyboardInterrupt):
        export_netx(interrupted, path)
    assert path.read_bytes() == old_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.net"]  # no temp file left


REFUSALS = {
    "pool": (lambda: BlockNet(slayer.block.cuba.Conv(NEURON, 2, 4, 3, padding=1),
                              slayer.block.cuba.Pool(NEURON, 2)),
             r"block 'blocks.1' \(cuba.Pool\).*strided convolution"),
    "average": (lambda: BlockNet(slayer.block.cuba.Dense(NEURON, 24, 8),
                                 slayer.block.cuba.Average(num_outputs=2)),
                r"block 'blocks.1' \(cuba.Average\).*strided convolution"),
    "convT": (lambda: BlockNet(slayer.block.cuba.Conv(NEURON, 2, 4, 3, padding=1),
                               slayer.block.cuba.ConvT(NEURON, 4, 2, 3)),
              r"block 'blocks.1' \(cuba.ConvT\).*strided convolution"),
    "unpool": (lambda: BlockNet(slayer.block.cuba.Conv(NEURON, 2, 4, 3, padding=1),
                                slayer.block.cuba.Unpool(NEURON, 2)),
               r"block 'blocks.1' \(cuba.Unpool\).*strided convolution"),
    "shared_param": (lambda: BlockNet(slayer.block.cuba.Dense({**NEURON, "shared_param": False},
                                                              24, 8)),
                     r"block 'blocks.0' \(cuba.Dense\) has shared_param=False.*shared_param=True"),
    "no_pre_hook": (lambda: BlockNet(slayer.block.cuba.Dense(NEURON, 24, 8, pre_hook_fx=None)),
                    r"block 'blocks.0' \(cuba.Dense\) was built with pre_hook_fx=None.*without "
                    r"the pre_hook_fx argument"),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refuses_what_netx_cannot_run_with_the_block_and_the_alternative(name, tmp_path):
    build, message = REFUSALS[name]
    with pytest.raises(ValueError, match=message):
        export_netx(build(), tmp_path / "net.net", input_shape=CONV_INPUT)
    assert list(tmp_path.iterdir()) == []


def test_warns_about_clipped_weights_and_24_bit_current(tmp_path):
    net = BlockNet(slayer.block.cuba.Dense(NEURON, 600, 4))
    with torch.no_grad():
        net.blocks[0].synapse.weight.fill_(5.0)
    with pytest.warns(UserWarning) as caught:
        export_netx(net, tmp_path / "big.net")
    messages = " ".join(str(w.message) for w in caught)
    assert "100.0% of weights lie outside the 8-bit range" in messages
    assert "24-bit current wraps" in messages


def test_the_current_warning_of_a_graded_first_layer_uses_its_finer_limit(tmp_path):
    """Lava's register holds input_levels times SLAYER's current there: 2048 / 16 = 128."""
    memoryless = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 1.0}
    net = BlockNet(slayer.block.cuba.Dense(memoryless, 200, 4))
    with torch.no_grad():
        net.blocks[0].synapse.weight.fill_(1.0)  # all inputs at 1: a current of 200
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        export_netx(net, tmp_path / "spikes.net")  # under 2048: no warning
    with pytest.warns(UserWarning, match=r"can reach 200 .* wraps at \+-128"):
        export_netx(net, tmp_path / "graded.net", input_levels=16)


def test_no_warning_for_an_ordinary_network(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        export_netx(dense_net(), tmp_path / "net.net")


def test_conv_first_net_needs_its_input_shape(tmp_path):
    with pytest.raises(ValueError, match=r"pass input_shape=\(channels, height, width\)"):
        export_netx(conv_net(), tmp_path / "net.net")


def test_run_lava_returns_one_array_per_layer(tmp_path):
    path = export_netx(conv_net(), tmp_path / "conv.net", input_shape=CONV_INPUT)
    spikes = random_spikes(CONV_INPUT, steps=10, batch=2)
    batch = run_lava(path, spikes)
    single = run_lava(path, spikes[1].numpy())
    assert [layer.shape for layer in batch] == [(2, 64, 10), (2, 128, 10), (2, 10, 10)]
    assert [layer.shape for layer in single] == [(64, 10), (128, 10), (10, 10)]
    for batched, alone in zip(batch, single, strict=True):  # state is reset between samples
        np.testing.assert_array_equal(batched[1], alone)
    with pytest.raises(ValueError, match=r"do not fit the network input \(2, 8, 8\)"):
        run_lava(path, spikes[..., 1:, :, :])
    with pytest.raises(ValueError, match="binary spikes"):
        run_lava(path, spikes * 2)
    with pytest.raises(ValueError, match=r"spikes of shape \(0, 2, 8, 8, 10\) hold no sample"):
        run_lava(path, spikes[:0])
    dense = export_netx(dense_net(), tmp_path / "dense.net")
    with pytest.raises(ValueError, match=r"spikes of shape \(2, 64\) do not fit .* \(24,\)"):
        verify(dense_net(), dense, np.zeros((2, 64)))
    with pytest.raises(FileNotFoundError, match="no NetX network"):
        run_lava(tmp_path / "missing.net", spikes)
    (tmp_path / "text.net").write_text("not hdf5")
    with pytest.raises(ValueError, match=r"NetX cannot load .*text.net \(OSError"):
        run_lava(tmp_path / "text.net", spikes)


def test_loihi2_backend_needs_lava_loihi(tmp_path):
    path = export_netx(dense_net(), tmp_path / "net.net")
    import importlib.metadata

    try:
        importlib.metadata.distribution("lava-loihi")
        installed = True
    except importlib.metadata.PackageNotFoundError:
        installed = False
    assert loihi2_available() is installed
    if not loihi2_available():
        with pytest.raises(ValueError, match=r"needs Loihi 2 hardware access \(lava-loihi"):
            run_lava(path, random_spikes(DENSE_INPUT, steps=4), backend="loihi2")
    with pytest.raises(ValueError, match="unknown backend 'floating_pt'"):
        run_lava(path, random_spikes(DENSE_INPUT, steps=4), backend="floating_pt")


def _child_processes() -> list[str]:
    """Command lines of this process's children, except multiprocessing's resource tracker
    (a helper of the interpreter's shared memory that lives as long as the interpreter)."""
    children = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().split()[3]) == os.getpid():
                command = (entry / "cmdline").read_text().replace("\0", " ")
                if "resource_tracker" not in command:
                    children.append(command)
        except OSError:  # the process ended while we looked
            continue
    return children


def test_no_lava_process_remains_after_an_interrupted_run(tmp_path):
    path = export_netx(dense_net(), tmp_path / "net.net")
    assert _child_processes() == []
    seen_running = []

    def interrupt_once_lava_runs() -> None:
        """SIGINT once Lava's processes are all up (their number steady for 2 s): a signal
        during the spawning would be swallowed by fork handlers, not reach run_lava."""
        deadline, steady_since, count = time.monotonic() + 120, time.monotonic(), 0
        while time.monotonic() < deadline:
            now_running = len(_child_processes())
            if now_running != count:
                count, steady_since = now_running, time.monotonic()
            elif count and time.monotonic() - steady_since > 2.0:
                break
            time.sleep(0.1)
        seen_running.extend(_child_processes())
        os.kill(os.getpid(), signal.SIGINT)

    watcher = threading.Thread(target=interrupt_once_lava_runs)
    watcher.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_lava(path, random_spikes(DENSE_INPUT, steps=50000, batch=1))
    finally:
        watcher.join()
    assert seen_running, "Lava never started its runtime processes"
    assert _child_processes() == []


def test_deep_variance_conserving_net_is_spike_exact_on_lava(tmp_path):
    torch.manual_seed(8)
    net = SlayerMLP(24, 8, depth=10, width=32)
    initialize(net, generator=torch.Generator().manual_seed(8))
    path = export_netx(net, tmp_path / "deep.net")
    report = verify(net, path, random_spikes(DENSE_INPUT, steps=24, batch=2))
    assert len(report.layers) == 11
    assert report.total_mismatches == 0, str(report)
    assert report.layers[-1].lava_rate > 0, str(report)
    assert "activity reaches the last layer: yes" in str(report)


@pytest.mark.slow
def test_20_layer_net_keeps_its_rate_on_lava_and_slayer_default_is_silent(tmp_path):
    spikes = random_spikes((32,), steps=40, batch=2, rate=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SLAYER default init warns about its own scale
        variance_conserving = deep_mlp("variance_conserving")
        default = deep_mlp("slayer_default")
    kept = verify(variance_conserving,
                  export_netx(variance_conserving, tmp_path / "vc.net"), spikes)
    silent = verify(default, export_netx(default, tmp_path / "default.net"), spikes[:1])

    assert kept.total_mismatches == 0 and silent.total_mismatches == 0
    first_hidden = kept.layers[0].lava_rate
    assert first_hidden > 0.05, str(kept)
    for layer in kept.layers[1:-1]:
        assert first_hidden / 2 <= layer.lava_rate <= 2 * first_hidden, str(kept)
    assert kept.propagates
    assert silent.layers[-1].lava_rate == 0, str(silent)
    assert not silent.propagates


@pytest.mark.slow
def test_narrow_30_layer_default_net_at_threshold_half_holds_its_rate_on_lava(tmp_path):
    """Issue 12's Lava target: width 64, 30 layers, theta 0.5, default init."""
    net = deep_mlp("variance_conserving", depth=30, width=64, threshold=0.5, in_features=64)
    report = verify(net, export_netx(net, tmp_path / "narrow.net"),
                    random_spikes((64,), steps=40, batch=1, rate=0.2))
    assert report.total_mismatches == 0
    hidden = [layer.lava_rate for layer in report.layers[:-1]]
    assert 0.5 <= hidden[-1] / hidden[0] <= 2.0, str(report)


def test_cli_export_and_verify_a_checkpoint(tmp_path, capsys):
    config = {"arch": "mlp", "in_features": 64, "out_features": 10, "depth": 3, "width": 32}
    torch.manual_seed(9)
    model = build_model(config)
    initialize(model, generator=torch.Generator().manual_seed(9))
    checkpoint = save_model(tmp_path / "model.pt", model, config)
    net_file = tmp_path / "model.net"

    assert main(["export", str(checkpoint), str(net_file)]) == 0
    assert "dense" in capsys.readouterr().out
    assert main(["verify", str(checkpoint), str(net_file), "--data", "digits",
                 "--samples", "2"]) == 0
    out = capsys.readouterr().out
    assert "total mismatched spikes: 0 (spike-exact)" in out
    assert main(["verify", str(checkpoint), str(tmp_path / "missing.net")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"lava-init verify: error: no NetX network at {tmp_path / 'missing.net'}; write one with "
        "export_netx"]


def test_export_clears_temp_files_an_interrupted_export_left(tmp_path):
    path = export_netx(dense_net(), tmp_path / "net.net")
    stale = tmp_path / ".net.net.k1ll3d.tmp"  # what SIGKILL during a write leaves
    stale.write_bytes(b"half an hdf5 file")
    export_netx(dense_net(), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.net"]


def memoryless_net(bias: bool) -> BlockNet:
    """Memoryless Dense 24 -> 32 -> 16 (with a per-neuron bias): graded input's first layer."""
    torch.manual_seed(2)
    params = {**NEURON, "current_decay": 1.0, "voltage_decay": 1.0}
    if bias:
        params["norm"] = slayer.neuron.norm.MeanOnlyBatchNorm
    net = BlockNet(slayer.block.cuba.Dense(params, 24, 32, weight_scale=10),
                   slayer.block.cuba.Dense(params, 32, 16, weight_scale=8))
    if bias:
        set_biases(net, 5, per_channel=True)
    return net


def ramp_input(steps: int, batch: int = 3) -> torch.Tensor:
    """Graded values on the 1/16 grid: two ramps of ``steps`` per sample."""
    generator = torch.Generator().manual_seed(4)
    ramps = [ramp_encode(torch.rand(batch, *DENSE_INPUT, generator=generator), steps)
             for _ in range(2)]
    return torch.cat(ramps, dim=-1)


@pytest.mark.parametrize("bias", [False, True])
def test_graded_input_into_a_memoryless_first_layer_is_spike_exact(bias, tmp_path):
    net = memoryless_net(bias)
    path = export_netx(net, tmp_path / "graded.net", input_levels=GRADED_LEVELS)
    with h5py.File(path, "r") as handle:
        assert handle.attrs["input_levels"] == GRADED_LEVELS
        assert handle["layer/0/neuron/vThMant"][()] == 80 * GRADED_LEVELS  # 1.25 * 64, scaled
        assert handle["layer/1/neuron/vThMant"][()] == 80
    spikes = ramp_input(steps=4)
    report = verify(net, path, spikes, workers=1)
    assert report.total_mismatches == 0, str(report)
    assert report.propagates, str(report)
    first_rate = report.layers[0].slayer_rate
    assert 0.05 < first_rate < 0.95
    # the graded values matter: the same weights fed binarized input spike elsewhere
    binary = verify(net, export_netx(net, tmp_path / "binary.net"), (spikes > 0).float(),
                    workers=1)
    assert binary.layers[0].slayer_rate != first_rate
    imported = load_netx(path)  # thresholds and biases back in SLAYER's units
    assert imported.blocks[0].neuron.threshold == 1.25
    assert verify(imported, path, spikes, workers=1).total_mismatches == 0


#: Lava's fixed-point LIF shifts its input ``a_in`` left by this many bits before adding it to
#: its current ``u``.
LAVA_ACTIVATION_SHIFT = 6


def lava_lif_currents(a_in: np.ndarray) -> np.ndarray:
    """The current ``u`` of real Lava LIF neurons (fixed_pt: ``PyLifModelBitAcc``), one per
    column of ``a_in`` (integer inputs, (neurons, steps)), read after each step; ``du`` = 4095:
    the memoryless current of the first block (nothing carries over to the next step)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF

    source = RingBuffer(data=a_in.astype(np.int32))
    lif = LIF(shape=(a_in.shape[0],), du=4095, dv=0, vth=2**17 - 1, bias_mant=0)
    source.s_out.connect(lif.a_in)
    currents = []
    try:
        for _ in range(a_in.shape[1]):
            lif.run(condition=RunSteps(num_steps=1), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
            currents.append(lif.u.get().astype(np.int64))
    finally:
        lif.stop()
    return np.stack(currents, axis=1)


@pytest.mark.parametrize("levels", [GRADED_LEVELS, 64])
def test_lava_current_wrap_equals_lavas_own_lif_over_the_whole_range(levels):
    """Currents from -6M to 6M (M = 2048 / levels), every boundary +-M, +-3M, +-5M and one
    step either side, and the issue's 385, 400 and 700 at 16 levels, fed to Lava's own
    bit-accurate LIF on the scale export gives the first layer (``STATE_SCALE * levels`` per
    unit): LavaCurrentWrap returns Lava's current exactly. Lava shifts by 2M once (385 ->
    129 at 16 levels), so a modulo (385 -> -127) fails here."""
    wrap = LavaCurrentWrap(levels)
    per_unit = STATE_SCALE * levels  # Lava's u for a SLAYER current of 1
    limit = 2**23 // 2**LAVA_ACTIVATION_SHIFT  # M as Lava's a_in
    assert wrap.limit * per_unit == 2**23
    boundaries = [sign * (odd * limit + step) for sign in (1, -1) for odd in (1, 3, 5)
                  for step in (-1, 0, 1)]
    issue = [current * per_unit // 2**LAVA_ACTIVATION_SHIFT for current in (385, 400, 700)]
    sweep = np.linspace(-6 * limit, 6 * limit, 241).round().astype(np.int64)
    a_in = np.unique(np.concatenate([sweep, boundaries, issue if levels == 16 else []])
                     ).astype(np.int64)
    steps = np.stack([a_in, a_in[::-1]], axis=1)  # two steps: no current carries over
    lava = lava_lif_currents(steps) / per_unit
    current = torch.from_numpy(steps * 2**LAVA_ACTIVATION_SHIFT / per_unit)
    np.testing.assert_array_equal(wrap(current).numpy(), lava)
    assert np.abs(current.numpy()).max() > 5 * wrap.limit  # beyond 3M: once, not modulo
    if levels == 16:
        by_current = dict(zip(current[:, 0].tolist(), lava[:, 0].tolist(), strict=True))
        assert [by_current[c] for c in (385, 400, 700, -128, 128)] == [129, 144, 444, 128, 128]


@pytest.mark.parametrize("wrap", [True, False])
def test_the_first_layer_wraps_its_current_as_lava_does(wrap, tmp_path):
    """Graded input makes Lava hold the first layer's current 16 times larger: beyond M = 128
    it wraps, by 2M once. Currents here reach past 3M (where a modulo would give other spikes)
    and below -M: SLAYER's LavaCurrentWrap wraps them alike (spike-exact), without it SLAYER
    and Lava differ."""
    torch.manual_seed(0)
    features = 600
    contract = InputContract("graded", 3, GRADED_LEVELS) if wrap else None
    net = SlayerMLP(features, 4, depth=2, width=16, input_contract=contract,
                    settings=BlockSettings(neuron=MEMORYLESS, delay_shift=False))
    first = net.blocks[0].synapse.weight
    with torch.no_grad():  # rows from mostly negative to mostly positive weights
        first.copy_(torch.rand_like(first) * 3 - 1.5
                    + torch.linspace(-2.4, 2.4, 16).view(16, 1, 1, 1, 1))
        for block in net.blocks[1:]:
            block.synapse.weight.mul_(6)
    generator = torch.Generator().manual_seed(1)
    graded = ramp_encode(torch.rand(4, features, generator=generator), 3)
    current = torch.einsum("of,bft->bot", net.blocks[0].neuron.quantize_8bit(first.flatten(1)),
                           graded)
    limit = LAVA_CURRENT_LIMIT / GRADED_LEVELS
    assert (current > 3 * limit).any() and (current <= -limit).any()
    path = export_netx(net, tmp_path / "wrap.net", input_levels=GRADED_LEVELS)
    report = verify(net, path, torch.cat([graded, torch.zeros_like(graded)], -1), workers=1)
    assert report.layers[0].slayer_rate > 0.1
    assert (report.total_mismatches == 0) == wrap, str(report)
    if wrap:
        measured = measure_current_wrap(net, TensorDataset(graded, torch.zeros(4)), batch_size=3)
        assert measured.limit == limit and measured.neuron_steps == current.numel()
        assert measured.largest_current == pytest.approx(float(current.abs().max()))
        wrapped = (current > limit) | (current <= -limit)
        assert measured.wrapped_fraction == pytest.approx(float(wrapped.float().mean()))
        assert "wrapped in" in str(measured)
    else:
        with pytest.raises(ValueError, match="no LavaCurrentWrap"):
            measure_current_wrap(net, TensorDataset(graded, torch.zeros(4)))


def test_graded_input_errors_name_the_fix(tmp_path):
    net = memoryless_net(bias=False)
    with pytest.raises(ValueError, match="input_levels must be an integer"):
        export_netx(net, tmp_path / "x.net", input_levels=0)
    with pytest.raises(ValueError, match="memoryless first block"):
        export_netx(dense_net(), tmp_path / "x.net", input_levels=GRADED_LEVELS)
    path = export_netx(net, tmp_path / "graded.net", input_levels=GRADED_LEVELS)
    with pytest.raises(ValueError, match=f"1/{GRADED_LEVELS} grid"):
        run_lava(path, torch.full((*DENSE_INPUT, 3), 0.3), workers=1)
    with pytest.raises(ValueError, match="binary spikes"):
        run_lava(export_netx(net, tmp_path / "binary.net"), ramp_input(steps=3), workers=1)

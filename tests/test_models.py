"""SLAYER MLP and CNN: shapes, configs, initialization, and the Lava run of a T-step network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lava.lib.dl import slayer

from lava_init.network_init import initialize
from lava_init.slayer_blocks import LavaCurrentWrap, weighted_blocks
from lava_init.training.config import MEMORYLESS, BlockSettings, NeuronConfig
from lava_init.training.models import (
    SlayerCNN,
    SlayerMLP,
    build_model,
    class_counts,
    count_predictions,
    pad_for_lava,
    readout_population,
    silent_outputs,
    spiking_layers,
)

#: The integration tier (Lava runs, training, subprocesses): not in `make test-fast`.
pytestmark = pytest.mark.integration


def test_cnn_blocks_strides_and_output_shape():
    net = SlayerCNN((2, 28, 28), 10, depth=4, channels=8, width=20)
    kinds = [type(block).__name__ for block in net.blocks]
    assert kinds == ["Conv"] * 4 + ["Flatten", "Dense", "Dense"]
    assert [block.synapse.stride[0] for block in net.blocks[:4]] == [1, 2, 1, 2]
    assert net.blocks[5].synapse.in_channels == 8 * 7 * 7  # 28 -> 14 -> 7
    out = net((torch.rand(3, 2, 28, 28, 4) < 0.3).float())
    assert out.shape == (3, 10, 4)
    assert spiking_layers(net) == 6


def test_build_model_for_both_architectures_from_config():
    neuron = {"threshold": 0.5, "current_decay": 1.0, "voltage_decay": 1.0}
    mlp = build_model({"arch": "mlp", "in_features": 64, "out_features": 10, "depth": 3,
                       "width": 16, "settings": {"neuron": neuron, "delay_shift": False}})
    cnn = build_model({"arch": "cnn", "in_shape": [3, 32, 32], "out_features": 10, "depth": 2,
                       "channels": 64, "width": 16, "settings": {"neuron": neuron},
                       "input": {"encoding": "graded", "time_steps": 4, "levels": 16}})
    assert len(mlp.blocks) == 4 and not any(block.delay_shift for block in mlp.blocks)
    assert cnn.blocks[3].synapse.in_channels == 64 * 16 * 16  # 32 -> 32 -> 16
    for net in (mlp, cnn):
        thresholds = {float(b.neuron.threshold) for _, b in weighted_blocks(net)}
        assert thresholds == {0.5}
    assert type(mlp).__name__ == "SlayerMLP" and type(cnn).__name__ == "SlayerCNN"
    assert mlp.input_contract is None and cnn.input_contract.levels == 16
    assert isinstance(cnn.blocks[0].neuron.norm, LavaCurrentWrap)  # graded: Lava's wrap
    assert [type(b).__name__ for b in cnn.blocks] == ["Conv", "Conv", "Flatten", "Dense",
                                                      "Dense"]
    assert [b.synapse.stride[0] for b in cnn.blocks[:2]] == [1, 2]  # every 2nd conv strides


def test_cnn_initialized_per_block_fan_in():
    net = SlayerCNN((1, 12, 12), 10, depth=3, channels=16, width=32)
    report = initialize(net, "variance_conserving", generator=torch.Generator().manual_seed(0))
    assert [row.fan_in for row in report.blocks] == [9, 9 * 16, 9 * 16, 16 * 6 * 6, 32]
    for row in report.blocks:
        assert row.quantized_std == pytest.approx(row.target_std, rel=0.05)


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_depth_zero_and_unknown_arch_are_refused(arch):
    config = {"arch": arch, "out_features": 10, "depth": 0}
    config.update({"in_features": 64} if arch == "mlp" else {"in_shape": [1, 8, 8]})
    with pytest.raises(ValueError, match="depth >= 1"):
        build_model(config)
    with pytest.raises(ValueError, match="unknown architecture 'rnn'; valid: mlp, cnn"):
        build_model({"arch": "rnn"})


def test_delay_shift_delays_each_block_by_one_step():
    torch.manual_seed(0)
    spikes = torch.ones(4, 16, 5)
    for delay_shift, silent_steps in ((True, 3), (False, 0)):
        net = SlayerMLP(16, 8, depth=2, width=32,
                        settings=BlockSettings(neuron=MEMORYLESS, delay_shift=delay_shift))
        initialize(net, "variance_conserving", generator=torch.Generator().manual_seed(1))
        out = net(spikes)
        assert out[..., :silent_steps].sum() == 0
        assert out[..., silent_steps].sum() > 0


def test_t_step_cnn_runs_spike_exact_on_lava_after_padding(tmp_path):
    """A delay_shift=False net sees the same T steps in every layer; on Lava the same spikes
    come out of the last layer at steps L .. L + T - 1 when the input is padded."""
    from netx_export import export_netx, run_lava

    time_steps = 3
    net = SlayerCNN((1, 8, 8), 10, depth=2, channels=4, width=16,
                    settings=BlockSettings(neuron=NeuronConfig(threshold=0.5), delay_shift=False))
    initialize(net, "variance_conserving", generator=torch.Generator().manual_seed(2))
    spikes = (torch.rand(2, 1, 8, 8, time_steps, generator=torch.Generator().manual_seed(3))
              < 0.4).float()
    with torch.no_grad():
        slayer_out = net.eval()(spikes).numpy()
    path = export_netx(net, tmp_path / "cnn.net", input_shape=(1, 8, 8))
    padded = pad_for_lava(spikes, net)
    layers = spiking_layers(net)
    assert padded.shape[-1] == time_steps + layers
    lava_out = run_lava(path, padded)[-1]
    assert slayer_out.sum() > 0
    assert np.array_equal(lava_out[..., layers:layers + time_steps], slayer_out)


def test_neuron_config_reaches_slayer_blocks():
    neuron = NeuronConfig(threshold=0.75, current_decay=0.5, voltage_decay=0.25)
    net = SlayerMLP(8, 2, depth=1, width=4, settings=BlockSettings(neuron=neuron))
    block = net.blocks[0]
    assert isinstance(block, slayer.block.cuba.Dense)
    assert float(block.neuron.threshold) == 0.75
    assert float(block.neuron.current_decay) == pytest.approx(0.5 * 4096)


def test_outputs_that_say_nothing_are_never_counted_right():
    counts = torch.tensor([[0.0, 0, 0], [2, 2, 2], [0, 3, 1], [1, 0, 1]])
    assert count_predictions(counts).tolist() == [-1, -1, 1, 0]
    assert silent_outputs(counts).tolist() == [True, False, False, False]


def test_readout_population_sums_each_class_neurons_and_refuses_bad_sizes():
    mlp = SlayerMLP(8, 3, depth=1, width=4, settings=BlockSettings(readout_population=5))
    cnn = SlayerCNN((1, 8, 8), 3, depth=1, channels=2, width=4,
                    settings=BlockSettings(readout_population=5))
    spikes = (torch.rand(2, 8, 3) < 0.5).float()
    assert mlp(spikes).shape == (2, 15, 3) and mlp.readout_population == 5
    assert cnn.blocks[-1].synapse.out_channels == 15
    assert readout_population(mlp) == 5 and readout_population(torch.nn.Sequential()) == 1
    counts = torch.arange(12.0).reshape(2, 6)  # 3 classes of 2 neurons
    assert class_counts(counts, 2).tolist() == [[1.0, 5.0, 9.0], [13.0, 17.0, 21.0]]
    assert torch.equal(class_counts(counts), counts)
    with pytest.raises(ValueError, match="6 output neurons do not split into classes of 4"):
        class_counts(counts, 4)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="readout-population must be an integer >= 1"):
            SlayerMLP(8, 3, depth=1, width=4, settings=BlockSettings(readout_population=bad))


def test_dropout_silences_hidden_neurons_over_all_steps_in_training_only():
    torch.manual_seed(0)
    net = SlayerMLP(30, 2, depth=2, width=200,
                    settings=BlockSettings(neuron=MEMORYLESS, delay_shift=False, dropout=0.5))
    plain = SlayerMLP(30, 2, depth=2, width=200,
                      settings=BlockSettings(neuron=MEMORYLESS, delay_shift=False))
    plain.load_state_dict(net.state_dict())
    assert net.blocks[-1].neuron.drop is None  # the readout is never dropped
    spikes = torch.ones(4, 30, 3)
    hidden = net.blocks[0]
    with torch.no_grad():
        for block in (hidden, plain.blocks[0]):
            block.synapse.weight.fill_(0.1)  # every hidden neuron spikes at every step
        net.train()
        kept = hidden(spikes)
        assert 0.3 < float((kept == 0).all(-1).float().mean()) < 0.7  # half silenced...
        assert torch.all((kept == 0).all(-1) | (kept > 0).all(-1))  # ...for all T steps
        net.eval()
        plain.eval()
        assert torch.equal(net(spikes), plain(spikes))  # evaluation (and Lava) unchanged
    for bad in (1.0, -0.1, "0.2"):
        with pytest.raises(ValueError, match="dropout must be"):
            SlayerMLP(8, 3, depth=1, width=4, settings=BlockSettings(dropout=bad))
    cnn = SlayerCNN((1, 8, 8), 3, depth=2, channels=2, width=4, settings=BlockSettings(dropout=0.2))
    assert [block.neuron.drop is not None for block in cnn.blocks if hasattr(block, "neuron")
            ] == [True, True, True, False]


def test_a_square_readout_of_a_relay_net_is_drawn_not_copied():
    """width == classes x population: the output block is square, but it reads out."""
    net = SlayerMLP(20, 2, depth=3, width=16,
                    settings=BlockSettings(neuron=MEMORYLESS,
                                           delay_shift=False, readout_population=8))
    report = initialize(net, "relay", generator=torch.Generator().manual_seed(0))
    assert [row.relay_noise is not None for row in report.blocks] == [False, True, True, False]
    readout = net.blocks[-1].synapse.weight.detach().flatten(1)
    assert float(readout.diagonal().mean()) < 1.0  # a copy would put 2 theta = 2.5 there

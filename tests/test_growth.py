"""Growing a trained network deeper (``--grow-from``): the grown network starts as its base,
spike for spike; a checkpoint of another network gives one line."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from lava_init.cli import main as cli
from lava_init.slayer_blocks import eval_mode
from lava_init.training.checkpoints import load_model, save_model
from lava_init.training.config import TrainConfig
from lava_init.training.loop import build_network, load_splits, train
from lava_init.training.plan import plan_training

#: The integration tier (Lava runs, training, subprocesses): not in `make test-fast`.
pytestmark = pytest.mark.integration

#: A one-epoch MLP on 64 digits with each hidden block's mean current subtracted (the norm's
#: running means are part of what a grown network takes over).
BASE = TrainConfig(dataset="digits", depth=1, width=24, epochs=1, batch_size=16, lr=1e-2,
                   limit=64, test_limit=32, mean_norm=True, seed=3, progress=False)


@pytest.fixture(scope="module")
def trained_base(tmp_path_factory):
    """The base, trained: its network, its test set and its checkpoint."""
    result = train(dataclasses.replace(BASE, depth=2))
    path = save_model(tmp_path_factory.mktemp("base") / "base.pt", result.model,
                      result.model_config)
    return result.model, result.test_set, path


def test_a_trained_mean_norm_network_saves_and_loads(trained_base):
    """The norm's running means have their trained shape in a fresh network too."""
    model, test_set, path = trained_base
    loaded = load_model(path)
    values = torch.stack([test_set[i][0] for i in range(8)])
    with eval_mode(model), eval_mode(loaded), torch.no_grad():
        assert torch.equal(loaded(values), model(values))


@pytest.mark.parametrize("depth", [2, 5])
def test_a_grown_network_starts_as_its_base(trained_base, depth):
    """Depth 5 from depth 2 (relays without noise in places 2-4): every test sample's output
    spikes are the base's; depth 2 from depth 2 is the base itself."""
    model, test_set, path = trained_base
    plan = plan_training(dataclasses.replace(BASE, depth=depth, grow_from=str(path),
                                             relay_noise=0.0))
    grown, _, reports = build_network(plan, load_splits(plan)[0])
    assert f"the {depth - 2} between them relays" in reports[-1]
    values = torch.stack([test_set[i][0] for i in range(len(test_set))])
    with eval_mode(model), eval_mode(grown), torch.no_grad():
        base_spikes, grown_spikes = model(values), grown(values)
    assert base_spikes.sum() > 0
    assert torch.equal(grown_spikes, base_spikes)
    assert plan.optimizer.relay_lr == plan.optimizer.lr  # every block trains at the full rate


def test_growing_from_another_network_gives_one_line(trained_base, tmp_path, capsys):
    _, _, path = trained_base
    common = ["train", "--dataset", "digits", "--limit", "64", "--test-limit", "32",
              "--epochs", "1", "--mean-norm", "--no-progress", "--grow-from", str(path)]
    for extra, message in (
            (["--depth", "1", "--width", "24"], "holds a network of depth 2, deeper than the "
                                                "1 to grow; give --depth 2 or more"),
            (["--depth", "4", "--width", "32"], "holds another network than the one to grow "
                                                "(its width is 24, not 32)"),
            (["--depth", "4", "--width", "24", "--init", "kaiming"], "use --init relay"),
            (["--depth", "4", "--width", "24", "--calibrate"], "without --calibrate")):
        assert cli.main([*common, *extra]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], lines
    assert cli.main([*common[:-1], str(tmp_path / "missing.pt"), "--depth", "4"]) == 2
    assert "missing.pt" in capsys.readouterr().err

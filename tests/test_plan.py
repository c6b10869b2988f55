"""A training run is resolved once, at the entrance, into a frozen plan (issue 28)."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from unittest import mock

import pytest

from lava_init.records import InputContract
from lava_init.training import loop
from lava_init.training.config import MEMORYLESS, TUTORIAL_NEURON, TrainConfig
from lava_init.training.plan import TrainPlan, model_config, plan_training

ROOT = Path(__file__).resolve().parents[1]


def test_the_plan_fills_every_recipe_field_and_is_frozen():
    plan = plan_training(TrainConfig())
    assert (plan.init.method, plan.optimizer.lr, plan.optimizer.count_scale) == (
        "relay", 3e-3, 1.0)
    assert plan.input == InputContract("regular", 3, None)
    assert plan.model.settings.readout_population == 16 and plan.data.flatten
    assert not [f.name for f in dataclasses.fields(plan.config)
                if f.name in ("init", "calibrate", "lr", "encoding", "readout_population")
                and getattr(plan.config, f.name) is None]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.optimizer.lr = 1.0  # type: ignore[misc]


def test_integrating_neurons_get_their_recipe_and_graded_input_its_levels():
    integrating = plan_training(TrainConfig(neuron=TUTORIAL_NEURON, time_steps=20))
    assert (integrating.init.calibrate, integrating.input.encoding) == (True, "rate")
    assert integrating.optimizer.relay_lr == integrating.optimizer.lr
    graded = plan_training(TrainConfig(neuron=MEMORYLESS, encoding="graded", arch="cnn"))
    assert graded.input == InputContract("graded", 3, 16) and not graded.data.flatten
    config = model_config(graded, (1, 8, 8))
    assert config["input"] == {"encoding": "graded", "time_steps": 3, "levels": 16}


@pytest.mark.parametrize(("change", "message"), [
    ({"dataset": "svhn"}, "unknown dataset 'svhn'"),
    ({"encoding": "graded", "neuron": TUTORIAL_NEURON}, "--encoding graded needs memoryless"),
    ({"hidden_rate": 0.1, "init": "kaiming"}, "hidden-rate is the hidden blocks' calibration"),
    ({"resume": True}, "--resume continues OUT/checkpoint.pt"),
    ({"relay_noise": 0.5, "init": "kaiming"}, "--relay-noise is the relay blocks' noise"),
    ({"relay_noise": -1.0}, "relay-noise must be a finite number >= 0"),
])
def test_a_request_that_cannot_train_is_refused_when_planned(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plan_training(dataclasses.replace(TrainConfig(), **change))


def test_the_relay_noise_asked_for_is_the_one_the_relay_blocks_get():
    config = TrainConfig(dataset="digits", depth=3, width=16, limit=8, test_limit=8,
                         epochs=1, batch_size=8, relay_noise=0.7, progress=False)
    plan = plan_training(config)
    train_set, _ = loop.load_splits(plan)
    init_report = loop.build_network(plan, train_set)[2][0]
    noises = {row.relay_noise for row in init_report.blocks if row.relay_noise is not None}
    assert noises == {0.7}


@pytest.mark.integration
def test_train_plans_a_config_once_and_a_plan_not_at_all():
    config = TrainConfig(dataset="digits", depth=1, width=8, epochs=1, limit=32, test_limit=16,
                         batch_size=16, progress=False)
    with mock.patch.object(loop, "plan_training", wraps=plan_training) as planned:
        result = loop.train(config)
        assert planned.call_count == 1
        assert isinstance(result.plan, TrainPlan)
        loop.train(result.plan)
        assert planned.call_count == 1
    assert result.model.input_contract == result.plan.input


def test_only_the_entrances_plan():
    """``plan_training`` is called where a run enters (train, evaluate without a plan, the
    benchmarks' own entrances), never again below them."""
    calls = {str(path.relative_to(ROOT)): plan_calls(path.read_text())
             for path in (ROOT / "lava_init").rglob("*.py")}
    assert {path for path, count in calls.items() if count} == {"lava_init/training/loop.py"}
    assert calls["lava_init/training/loop.py"] == 2  # train() and evaluate()'s default


def plan_calls(source: str) -> int:
    """The calls of ``plan_training`` in ``source``'s code (its docstrings' examples are not
    code)."""
    return sum(isinstance(node, ast.Call) and "plan_training" in (
        getattr(node.func, "id", None), getattr(node.func, "attr", None))
        for node in ast.walk(ast.parse(source)))


def test_a_plan_call_in_an_example_is_not_counted():
    source = 'def f():\n    """>>> plan_training(TrainConfig())"""\n    return plan_training(c)\n'
    assert plan_calls(source) == 1

"""NIR in and out: the node mappings on Lava, the discretization report, the refusals, the
round trips, and the NIR paper's Loihi 2 trace (../shared/nir)."""

from __future__ import annotations

from pathlib import Path

import nir
import numpy as np
import pytest
import torch
from conftest import import_benchmark
from lava.lib.dl import slayer

from lava_init.nir import from_nir, netx_to_nir, to_nir
from lava_init.training import example_nets as nets
from netx_export import export_netx, verify
from netx_export.running.voltages import lava_voltages

nir_bridge = import_benchmark("nir_bridge")
INTEL_NETWORKS, netx_datasets, netx_values = (
    nir_bridge.INTEL_NETWORKS, nir_bridge.netx_datasets, nir_bridge.netx_values)

#: The NIR paper's reference graphs and traces (see its README).
SHARED_NIR = Path(__file__).resolve().parents[2] / "shared" / "nir"
#: Output spikes of lif_norse.nir on Loihi 2 and on Lava's CPU models (the traces' steps).
LOIHI_SPIKES = [461, 511, 711, 761]


def shared_nir(name: str) -> Path:
    path = SHARED_NIR / name
    if not path.is_file():
        pytest.skip(f"the NIR reference files are not at {SHARED_NIR}")
    return path


def trace(name: str) -> np.ndarray:
    """A (1000, 3) trace: input spike, voltage, output spike per step."""
    return np.loadtxt(shared_nir(name), delimiter=",")


def lif(n: int, tau: float = 2e-3, r: float = 1.0, threshold: float = 1.0, v_leak: float = 0.0
        ) -> nir.LIF:
    return nir.LIF(tau=np.full(n, tau), r=np.full(n, r), v_leak=np.full(n, v_leak),
                   v_threshold=np.full(n, threshold), v_reset=np.zeros(n))


def cuba_lif(shape: tuple[int, ...]) -> nir.CubaLIF:
    ones = np.ones(shape)
    return nir.CubaLIF(tau_syn=ones * 4e-3, tau_mem=ones * 2e-3, r=ones * 2.0,
                       v_leak=ones * 0.0, v_threshold=ones, v_reset=ones * 0, w_in=ones * 4.0)


def graph_of(*nodes: nir.NIRNode, input_shape: tuple[int, ...],
             output_shape: tuple[int, ...] = (1,)) -> nir.NIRGraph:
    """Input -> nodes -> Output, as one chain (NIR's own type check left to from_nir)."""
    named = {"input": nir.Input(input_type={"input": np.array(input_shape)})}
    named.update({f"n{index}": node for index, node in enumerate(nodes)})
    named["output"] = nir.Output(output_type={"output": np.array(output_shape)})
    names = list(named)
    return nir.NIRGraph(nodes=named, edges=list(zip(names[:-1], names[1:], strict=True)),
                        type_check=False)


def test_lif_norse_gets_the_nir_papers_loihi_integers():
    """At the NIR paper's scale (256 mantissa units per NIR volt) the imported neuron holds
    the integers its Lava import ran on Loihi 2: weight 10, threshold 25, decays 4096 / 163."""
    net = from_nir(shared_nir("lif_norse.nir"), dt=1e-4, voltage_scale=4, decay_rounding="floor")
    block = net.blocks[0]
    assert float(block.synapse.weight.flatten()[0]) * 64 == 10
    assert block.neuron.v_th_mant == 25
    assert (block.neuron.cx_current_decay, block.neuron.cx_voltage_decay) == (4096, 163)
    rounded = {r.parameter: r for r in net.rounding.rounded}
    assert set(rounded) == {"weight (x gain)", "v_threshold", "voltage decay"}
    assert rounded["weight (x gain)"].error == pytest.approx(10 / 256 - 0.04)
    assert rounded["voltage decay"].stored == 163 / 4096
    assert "3 of 5 parameters rounded" in str(net.rounding)


def test_nearest_decay_rounding_and_automatic_scale():
    net = from_nir(shared_nir("lif_norse.nir"), dt=1e-4)
    assert net.blocks[0].neuron.cx_voltage_decay == 164
    assert dict(net.rounding.voltage_scales) == {"1": 64.0}
    assert net.blocks[0].neuron.v_th_mant == int(0.1 * 64 * 64)


def _bad_graphs() -> dict[str, tuple[nir.NIRGraph, str]]:
    weight = np.ones((2, 3))
    good = (nir.Linear(weight=weight), lif(2))
    nan_lif = lif(2)
    nan_lif.tau = np.array([np.nan, 1e-3])
    cycle = graph_of(*good, input_shape=(3,))
    cycle.edges.append(("n1", "n0"))
    loop = graph_of(nir.Linear(weight=np.ones((2, 2))), lif(2), input_shape=(2,))
    loop.nodes["n2"] = nir.Linear(weight=np.ones((2, 2)))
    loop.edges += [("n1", "n2"), ("n2", "n0")]
    return {
        "unknown node": (graph_of(nir.SumPool2d(kernel_size=np.array([2, 2]),
                                                stride=np.array([2, 2]),
                                                padding=np.array([0, 0])),
                                  *good, input_shape=(3,)), "'n0' is a SumPool2d"),
        "NaN": (graph_of(nir.Linear(weight=weight), nan_lif, input_shape=(3,)),
                "'n1' .*tau holds nan"),
        "shapes": (graph_of(*good, input_shape=(4,)), "'n0': weight of shape"),
        "neurons": (graph_of(nir.Linear(weight=weight), lif(5), input_shape=(3,)),
                    "'n1' has 5 neurons"),
        "recurrent": (cycle, "'n0' and 'n1' form a recurrent loop"),
        "cycle": (loop, "cycle n0 -> n1 -> n2 -> n0"),
        "v_reset": (graph_of(nir.Linear(weight=weight), nir.LIF(
            tau=np.full(2, 1e-3), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2),
            v_reset=np.full(2, 0.5)), input_shape=(3,)), "'n1'.*v_reset is not 0"),
        "tau below dt": (graph_of(nir.Linear(weight=weight), lif(2, tau=1e-5),
                                  input_shape=(3,)), "'n1': tau = 1e-05 s is shorter"),
        "per-neuron threshold": (graph_of(nir.Linear(weight=weight), nir.LIF(
            tau=np.full(2, 1e-3), r=np.ones(2), v_leak=np.zeros(2),
            v_threshold=np.array([1.0, 2.0]), v_reset=np.zeros(2)), input_shape=(3,)),
            "'n1'.*v_threshold takes 2 values"),
        "two synapses": (graph_of(nir.Linear(weight=np.ones((3, 3))), *good, input_shape=(3,)),
                         "'n0' \\(Linear\\) is not followed by a neuron"),
    }


@pytest.mark.parametrize("case", sorted(_bad_graphs()))
def test_bad_graphs_are_refused_in_one_line_naming_the_node(case, tmp_path):
    graph, message = _bad_graphs()[case]
    with pytest.raises(ValueError, match=message) as error:
        from_nir(graph, dt=1e-4)
    assert "\n" not in str(error.value)


def test_dt_comes_from_the_argument_or_the_graph():
    graph = graph_of(nir.Linear(weight=np.ones((2, 3))), lif(2), input_shape=(3,))
    with pytest.raises(ValueError, match="does not say its time step"):
        from_nir(graph)
    graph.metadata = {"dt": 1e-3}
    assert from_nir(graph).rounding.dt == 1e-3


def nir_euler(weight: np.ndarray, bias: float, spikes: np.ndarray, dt: float,
              neuron: nir.NIRNode) -> np.ndarray:
    """NIR's equations stepped with forward Euler in float64 (current, then voltage from the
    new current; spike when v > v_threshold, reset to 0): spikes (neurons, T)."""
    first = lambda key, default=0.0: float(np.ravel(getattr(neuron, key, default))[0])  # noqa: E731
    current_decay = dt / first("tau_syn") if isinstance(neuron, nir.CubaLIF) else 1.0
    voltage_decay = 0.0 if isinstance(neuron, nir.IF) else dt / first("tau_mem")
    into_voltage = dt * first("r") if isinstance(neuron, nir.IF) else voltage_decay * first("r")
    current = voltage = np.zeros(weight.shape[0])
    out = np.zeros((weight.shape[0], spikes.shape[-1]))
    for step in range(spikes.shape[-1]):
        drive = weight @ spikes[:, step] + bias
        current = current + current_decay * (first("w_in", 1.0) * drive - current)
        voltage = (1 - voltage_decay) * voltage + into_voltage * current
        out[:, step] = voltage > first("v_threshold")
        voltage = np.where(out[:, step] > 0, 0.0, voltage)
    return out


@pytest.mark.parametrize("kind", ["CubaLIF", "IF"])
def test_slayer_steps_nir_equations_on_a_grid_exact_graph(kind):
    """Time constants and gains that put every parameter on Loihi's grid: SLAYER's spikes
    (one step later: its block delay) are NIR's forward-Euler spikes."""
    generator = np.random.default_rng(11)
    weight = np.round(generator.normal(0.15, 0.3, (6, 10)) * 32) / 32
    if kind == "IF":
        neuron, bias = nir.IF(r=np.full(6, 1e3), v_threshold=np.full(6, 1.5),
                              v_reset=np.zeros(6)), 0.125
        synapse = nir.Affine(weight=weight, bias=np.full(6, bias))
    else:
        neuron, bias, synapse = cuba_lif((6,)), 0.0, nir.Linear(weight=weight)
    spikes = (generator.random((10, 40)) < 0.3).astype(np.float64)
    expected = nir_euler(weight, bias, spikes, 1e-3, neuron)
    net = from_nir(graph_of(synapse, neuron, input_shape=(10,)), dt=1e-3)
    assert not net.rounding.rounded
    with torch.no_grad():
        got = net(torch.tensor(spikes, dtype=torch.float32)[None])[0].numpy()
    assert expected.sum() > 10
    np.testing.assert_array_equal(got[:, 1:], expected[:, :-1])


def _cuba_if_net() -> nets.BlockNet:
    """Dense CUBA (both decays) -> Dense non-leaking IF with a bias: CubaLIF and IF nodes."""
    torch.manual_seed(7)
    integrate = {"threshold": 1.5, "current_decay": 1.0, "voltage_decay": 0.0,
                 "norm": slayer.neuron.norm.MeanOnlyBatchNorm}
    net = nets.BlockNet(slayer.block.cuba.Dense(nets.NEURON, 24, 16, weight_scale=2),
                   slayer.block.cuba.Dense(integrate, 16, 8, weight_scale=2))
    net.blocks[1].neuron.norm.running_mean = torch.full((1,), -0.25)
    return net


ROUND_TRIP_NETS = {
    "dense + bias (LIF)": (lambda: nets.dense_net(bias=True), nets.DENSE_INPUT),
    "Input block (Scale)": (nets.input_block_net, nets.DENSE_INPUT),
    "conv + bias (CubaLIF, Conv2d, Flatten)": (lambda: nets.conv_net(bias=True), nets.CONV_INPUT),
    "CubaLIF -> IF with bias": (_cuba_if_net, nets.DENSE_INPUT),
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIP_NETS))
def test_netx_to_nir_to_netx_writes_the_same_datasets(name, tmp_path):
    build, input_shape = ROUND_TRIP_NETS[name]
    first = export_netx(build(), tmp_path / "first.net", input_shape=input_shape)
    graph = netx_to_nir(first, dt=1e-3)
    nir.write(tmp_path / "graph.nir", graph)
    net = from_nir(tmp_path / "graph.nir")
    assert not net.rounding.rounded, net.rounding
    second = export_netx(net, tmp_path / "second.net", input_shape=input_shape)
    before, after = netx_datasets(first), netx_datasets(second)
    assert sorted(before) == sorted(after)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)


def test_intels_ntidigits_comes_back_as_netx_builds_it(tmp_path):
    """Delays, CubaLIF neurons, a leading Flatten; the trailing average NetX never creates is
    left out with a warning. Intel's file stores shapes and types in an older layout, so the
    comparison is on what NetX builds from each file."""
    path = INTEL_NETWORKS["ntidigits"]
    if not path.is_file():
        pytest.skip(f"lava-dl's ntidigits network is not at {path}")
    with pytest.warns(UserWarning, match="layer/5 \\(average\\) left out"):
        graph = netx_to_nir(path, dt=1e-3)
    assert sum(isinstance(node, nir.Delay) for node in graph.nodes.values()) == 2
    net = from_nir(graph)
    assert not net.rounding.rounded
    again = export_netx(net, tmp_path / "again.net", input_shape=net.input_shape)
    before, after = netx_values(path), netx_values(again)
    assert before.keys() == after.keys() and before == after


def test_from_nir_of_to_nir_keeps_weights_thresholds_decays_bit_for_bit():
    net = _cuba_if_net()
    back = from_nir(to_nir(net, dt=5e-4, input_shape=nets.DENSE_INPUT))
    for original, rebuilt in zip(net.blocks, back.blocks, strict=True):
        quantized = original.synapse.pre_hook_fx(original.synapse.weight)
        assert torch.equal(rebuilt.synapse.weight, quantized)
        assert rebuilt.neuron.threshold == original.neuron.threshold
        for key in ("cx_current_decay", "cx_voltage_decay"):
            assert getattr(rebuilt.neuron, key) == getattr(original.neuron, key)
    kinds = [type(node).__name__ for node in to_nir(net, dt=5e-4).nodes.values()]
    assert kinds == ["Input", "Linear", "CubaLIF", "Affine", "IF", "Output"]


def _node_graphs() -> dict[str, tuple[nir.NIRGraph, tuple[int, ...]]]:
    generator = np.random.default_rng(3)
    conv = nir.Conv2d(input_shape=(6, 6), weight=generator.normal(0.4, 0.5, (3, 2, 3, 3)),
                      stride=2, padding=1, dilation=1, groups=1, bias=np.zeros(3))
    return {
        "Linear -> LIF": (graph_of(nir.Linear(weight=generator.normal(0.3, 0.4, (6, 8))),
                                   lif(6, tau=3e-3, r=3.0), input_shape=(8,)), (8,)),
        "Affine -> IF": (graph_of(nir.Affine(weight=generator.normal(0.2, 0.3, (5, 8)),
                                             bias=np.full(5, 0.5)),
                                  nir.IF(r=np.full(5, 1e3), v_threshold=np.full(5, 1.5),
                                         v_reset=np.zeros(5)), input_shape=(8,)), (8,)),
        "Scale -> LIF -> Linear -> Delay -> CubaLIF": (graph_of(
            nir.Scale(scale=np.full(8, 1.25)), lif(8, tau=1e-3, threshold=0.5),
            nir.Linear(weight=generator.normal(0.5, 0.4, (5, 8))),
            nir.Delay(delay=np.arange(5) * 1e-3), cuba_lif((5,)), input_shape=(8,)), (8,)),
        "Conv2d -> CubaLIF -> Flatten -> Linear -> LIF": (graph_of(
            conv, cuba_lif((3, 3, 3)), nir.Flatten(input_type={"input": np.array([3, 3, 3])}),
            nir.Linear(weight=generator.normal(0.3, 0.4, (4, 27))), lif(4),
            input_shape=(2, 6, 6)), (2, 6, 6)),
    }


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(_node_graphs()))
def test_each_node_type_runs_on_lava_spike_for_spike(name, tmp_path):
    graph, input_shape = _node_graphs()[name]
    net = from_nir(graph, dt=1e-3)
    path = export_netx(net, tmp_path / "net.net", input_shape=input_shape)
    generator = torch.Generator().manual_seed(0)
    spikes = (torch.rand(2, *input_shape, 24, generator=generator) < 0.4).float()
    report = verify(net, path, spikes, workers=1)
    assert report.total_mismatches == 0, report
    assert report.propagates, report


@pytest.mark.integration
def test_lif_norse_on_lava_reproduces_loihi2_spikes_and_voltages(tmp_path):
    """The NIR paper's Loihi 2 trace: the same output spikes on Lava (through NetX) and in
    SLAYER, and Lava's voltage equals the hardware's at every step but the four spike steps,
    where Loihi's probe reads 128 and Lava's reset 0 (as in the paper's Lava CPU trace)."""
    loihi, cpu = trace("lif_lava_loihi_fixed.csv"), trace("lif_lava_cpu_fixed.csv")
    net = from_nir(shared_nir("lif_norse.nir"), dt=1e-4, voltage_scale=4, decay_rounding="floor")
    path = export_netx(net, tmp_path / "lif.net", input_shape=(1,))
    spikes = torch.tensor(loihi[:, 0], dtype=torch.float32)[None]
    report = verify(net, path, spikes, workers=1)
    assert report.total_mismatches == 0
    assert np.flatnonzero(report.lava_spikes[0][0, 0]).tolist() == LOIHI_SPIKES
    assert np.flatnonzero(loihi[:, 2]).tolist() == LOIHI_SPIKES
    voltage = lava_voltages(path, spikes)[0][0]
    np.testing.assert_array_equal(voltage, cpu[:, 1])
    differs = np.flatnonzero(voltage != loihi[:, 1])
    assert differs.tolist() == LOIHI_SPIKES
    assert np.all(loihi[differs, 1] == 128)


def test_cli_convert_nir_to_netx_and_back(tmp_path, capsys):
    from lava_init.cli.main import main

    netx, graph, again = tmp_path / "lif.net", tmp_path / "lif.nir", tmp_path / "again.net"
    source = str(shared_nir("lif_norse.nir"))
    assert main(["convert", source, str(netx), "--dt", "1e-4", "--voltage-scale", "4",
                 "--decay-rounding", "floor"]) == 0
    assert "3 of 5 parameters rounded" in capsys.readouterr().out
    assert main(["convert", str(netx), str(graph)]) == 2
    assert "needs --dt" in capsys.readouterr().err and not graph.exists()
    assert main(["convert", str(netx), str(graph), "--dt", "1e-4"]) == 0
    assert main(["convert", str(graph), str(again)]) == 0
    assert "0 of 5 parameters rounded" in capsys.readouterr().out
    assert netx_datasets(again).keys() == netx_datasets(netx).keys()
    for key, value in netx_datasets(netx).items():
        np.testing.assert_array_equal(netx_datasets(again)[key], value, err_msg=key)


def test_cli_convert_writes_nothing_for_a_bad_graph(tmp_path, capsys):
    from lava_init.cli.main import main

    bad = tmp_path / "bad.nir"
    nir.write(bad, graph_of(nir.Linear(weight=np.ones((2, 3))), lif(2, tau=1e-5),
                            input_shape=(3,), output_shape=(2,)))
    assert main(["convert", str(bad), str(tmp_path / "out.net"), "--dt", "1e-4"]) == 2
    error = capsys.readouterr().err
    assert "'n1': tau = 1e-05 s is shorter than dt" in error and len(error.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.nir"]
    assert main(["convert", str(bad), str(tmp_path / "out.nir")]) == 2
    assert "cannot convert bad.nir to out.nir" in capsys.readouterr().err


@pytest.mark.integration
def test_cli_inspect_runs_a_nir_graph_on_lava(capsys):
    from lava_init.cli.main import main

    code = main(["inspect", str(shared_nir("lif_norse.nir")), "--dt", "1e-4", "--samples", "1",
                 "--time-steps", "40", "--rate", "0.5", "--workers", "1", "--no-progress"])
    out = capsys.readouterr().out
    assert "NIR -> Loihi grids at dt = 0.0001 s" in out and "on Lava fixed_pt" in out
    assert code == 0, out


def test_a_snntorch_export_steps_the_same_in_slayer():
    """snnTorch 1.0.0's own exporter (tensors of the layer's shape, reset to zero, weights on
    Loihi's grid): the imported SLAYER network rounds nothing and spikes as snnTorch does, each
    block one step later."""
    snn = pytest.importorskip("snntorch")
    from snntorch.export_nir import export_to_nir

    from lava_init.initializers import variance_conserving_
    from lava_init.quantization import SLAYER_8BIT

    torch.manual_seed(2)
    sizes = (12, 16, 6)
    layers = []
    for fan_in, width in zip(sizes[:-1], sizes[1:], strict=True):
        linear = torch.nn.Linear(fan_in, width, bias=False)
        linear.weight.data = SLAYER_8BIT.apply(variance_conserving_(linear.weight.data, 1.0))
        layers += [linear, snn.Leaky(beta=torch.full((width,), 0.5), threshold=torch.ones(width),
                                     reset_mechanism="zero", init_hidden=True)]
    model = torch.nn.Sequential(*layers)
    spikes = (torch.rand(4, sizes[0], 30) < 0.3).float()
    with torch.no_grad():
        expected = torch.stack([model(spikes[..., t]) for t in range(30)], dim=-1)
        graph = export_to_nir(model, torch.zeros(1, sizes[0]), ignore_dims=[0])
    net = from_nir(graph, dt=1e-4)
    assert not net.rounding.rounded, net.rounding
    with torch.no_grad():
        got = net(torch.cat([spikes, torch.zeros(4, sizes[0], 2)], dim=-1))
    assert expected.sum() > 20
    assert torch.equal(got[..., 2:], expected)


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_initialize_nir_gives_a_deep_graph_weights_that_carry_activity():
    """Ten Linear -> LIF layers with PyTorch-sized weights fall silent; initialize_nir's
    weights (back in the graph's own nodes, NIR units) carry spikes to the last layer."""
    from lava_init.nir import initialize_nir

    generator = np.random.default_rng(0)
    nodes = []
    for _ in range(10):
        nodes += [nir.Linear(weight=generator.uniform(-0.1, 0.1, (40, 40))),
                  lif(40, tau=2e-4, r=2.0, threshold=0.5)]
    graph = graph_of(*nodes, input_shape=(40,))
    spikes = (torch.rand(8, 40, 30, generator=torch.Generator().manual_seed(1)) < 0.2).float()
    initialized, report = initialize_nir(graph, dt=1e-4, generator=torch.Generator().manual_seed(0))
    assert len(report.blocks) == 10
    assert set(initialized.nodes) == set(graph.nodes)
    with torch.no_grad():
        silent = from_nir(graph, dt=1e-4)(spikes)
        net = from_nir(initialized, dt=1e-4)
        active = net(spikes)
    assert float(silent.mean()) == 0 and float(active.mean()) > 0.02
    assert not [r for r in net.rounding.rounded if r.parameter == "weight (x gain)"]


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_snntorch_imports_a_lava_init_network_and_spikes_as_slayer():
    """Target 3 in small: a memoryless SLAYER MLP lava-init initialized, written with to_nir
    at snnTorch's dt (1e-4 s, which its importer assumes), loaded by snnTorch's own
    import_from_nir: the same spikes, each SLAYER block one step later."""
    pytest.importorskip("snntorch")
    from snntorch.import_nir import import_from_nir

    from lava_init import initialize

    torch.manual_seed(4)
    memoryless = {"threshold": 1.25, "current_decay": 1.0, "voltage_decay": 1.0}
    net = nets.BlockNet(*(slayer.block.cuba.Dense(memoryless, 24, 24) for _ in range(4)))
    initialize(net, generator=torch.Generator().manual_seed(0))
    model = import_from_nir(to_nir(net, dt=1e-4))
    spikes = (torch.rand(3, 24, 20) < 0.3).float()
    with torch.no_grad():
        expected = net(torch.cat([spikes, torch.zeros(3, 24, 4)], dim=-1))[..., 4:]
        got = torch.stack([model(spikes[..., t])[0] for t in range(20)], dim=-1)
    assert got.sum() > 20
    assert torch.equal(got, expected)


@pytest.mark.integration
def test_intels_pilotnet_lif_comes_back_as_netx_builds_it(tmp_path):
    """A graded Input layer with neurons and a bias (Scale -> LIF with v_leak), biased
    convolutions, an IF readout: what NetX builds is the same after NetX -> NIR -> NetX."""
    path = INTEL_NETWORKS["PilotNet LIF"]
    if not path.is_file():
        pytest.skip(f"lava-dl's PilotNet LIF network is not at {path}")
    graph = netx_to_nir(path, dt=1e-3)
    kinds = [type(node).__name__ for node in graph.nodes.values()]
    assert kinds[:3] == ["Input", "Scale", "LIF"] and kinds[-3:] == ["Affine", "IF", "Output"]
    net = from_nir(graph)
    assert not net.rounding.rounded
    again = export_netx(net, tmp_path / "again.net", input_shape=net.input_shape)
    assert netx_values(again) == netx_values(path)

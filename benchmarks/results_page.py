"""The README's results table and docs/results.md, generated from the stored results.

    .venv/bin/python benchmarks/results_page.py          # rewrite both from the stored results
    .venv/bin/python benchmarks/results_page.py --check  # exit 1 when either is out of date

One row per claim (:data:`CLAIMS`): its number is computed from the records in
``benchmarks/results/`` (a mean over the seeds the store holds), its qualifier (data, budget,
Lava samples, the control) stands beside it with the command that reruns it. A rerun that
moves a stored number moves it here the next time this script runs; ``tests/test_readme.py``
fails while the README and the stored results disagree.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from provenance import code_identity

from lava_init.files import atomic_write_text
from lava_init.training.depth_sweep import (
    GROWN_FROM,
    RECIPES,
    DepthResult,
    best_by_depth,
    recipe_of,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
RESULTS_PAGE = ROOT / "docs" / "results.md"
#: The README's generated block sits between these lines.
START, END = "<!-- results: start -->", "<!-- results: end -->"
RECIPE = "benchmarks/training_recipe.py"


@dataclass(frozen=True)
class Claim:
    """One row: ``case``'s mean final test accuracy (records ``<case> s<seed>`` in
    ``runs_<part>.json``) against the ``controls``' means, with its qualifier and command."""

    claim: str
    part: str
    case: str
    controls: tuple[str, ...]
    qualifier: str
    command: str
    #: Each control at the best of the learning rates its part stores (labels
    #: ``<init> lr<rate> <rest>`` beside ``<init> <rest>`` at the default rate).
    best_rate: bool = False
    #: The seconds each run trained (mean over seeds) beside its accuracy: the claim is one
    #: at equal wall clock.
    timed: bool = False
    #: What the controls' cells call them (default: the init, their label's first word).
    control_names: tuple[str, ...] = ()
    #: The part that stores the controls (default: ``part``).
    control_part: str = ""


CLAIMS = (
    Claim("a plain memoryless MLP of depth 100 trains", "depth100", "recipe d100", (),
          "no depth-1 control stored, and the trained relays copy layer 1: depth does not pay "
          "(see Known limits)", f"{RECIPE} --parts depth100"),
    Claim("depth 1 (the shallow control), one epoch: the recipe against the usual inits",
          "first_epoch", "recipe d1", ("variance_conserving d1", "kaiming d1",
                                       "slayer_default d1"),
          "the recipe at its default lr 3e-3, each control at its best of lr 1e-3 / 3e-3 / 1e-2 "
          "(seed 0); a silent output counts as wrong", f"{RECIPE} --parts first_epoch",
          best_rate=True),
    Claim("depth 10, one epoch: the recipe against the usual inits", "first_epoch",
          "recipe d10", ("variance_conserving d10", "kaiming d10", "slayer_default d10"),
          "the recipe at its default lr 3e-3, each control at its best of lr 1e-3 / 3e-3 / 1e-2 "
          "(seed 0); a silent output counts as wrong; compare with the depth-1 row",
          f"{RECIPE} --parts first_epoch", best_rate=True),
    Claim("converged MNIST", "converged", "recipe mnist", ("kaiming mnist",
                                                           "slayer_default mnist"),
          "controls at the recipe's lr, 1 seed each", f"{RECIPE} --parts converged"),
    Claim("converged Fashion-MNIST, graded input", "converged", "recipe graded fashion-mnist",
          ("kaiming graded fashion-mnist", "slayer_default graded fashion-mnist"),
          "controls at the recipe's lr, 1 seed each", f"{RECIPE} --parts converged"),
    Claim("Fashion-MNIST: a plain spiking CNN against the MLP at about the same wall clock",
          "fashion_cnn", "recipe cnn graded fashion-mnist",
          ("recipe graded fashion-mnist",),
          "the CNN: 4 convolutions of 32 channels, lava-init's calibrated init with the mean "
          "current subtracted, lr 1e-2 (MNIST-1D's, not swept), seed 0; the control: the "
          "converged graded MLP (depth 10 x 100, the recipe, 15 epochs, flat over its last five); "
          "the MLP run for the CNN's wall clock was not finished (docs/depth.md)",
          f"{RECIPE} --parts fashion_cnn", timed=True, control_names=("MLP 10 x 100",),
          control_part="converged"),
    Claim("integrating neurons (lava-dl tutorial decays), depth 10", "integrating",
          "recipe T20 mnist d10", ("slayer_default section7 T20 mnist d10",
                                   "slayer_default T20 mnist d10"),
          "SLAYER's default with lava-dl's own training settings and with ours",
          f"{RECIPE} --parts integrating"),
    Claim("event CNN (simulated-saccade N-MNIST)", "events", "recipe T20 events cnn",
          ("slayer_default T20 events cnn",), "no gain over SLAYER's default",
          f"{RECIPE} --parts events"),
)


def _records(part: str) -> dict:
    path = RESULTS / "training_recipe" / f"runs_{part}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def case_result(part: str, case: str) -> dict | None:
    """Mean final test accuracy over the stored seeds of ``case``, their count and the first
    seed's Lava check (None when the store has no such run)."""
    records = [record for label, record in _records(part).items()
               if label.rsplit(" s", 1)[0] == case]
    if not records:
        return None
    lava = next((record["lava"] for record in records if "lava" in record), None)
    codes = sorted({(r.get("provenance") or {}).get("code_commit") or "unknown"
                    for r in records})
    wrap = next((record["current_wrap"] for record in records if "current_wrap" in record),
                None)
    return {"acc": statistics.mean(r["metrics"][-1]["test_acc"] for r in records),
            "seeds": len(records), "lava": lava, "code": codes, "wrap": wrap,
            "seconds": statistics.mean(r.get("seconds", math.nan) for r in records)}


def setting(part: str, case: str) -> str:
    """The budget a case's first stored record trained with, read from its config."""
    record = next((r for label, r in _records(part).items()
                   if label.rsplit(" s", 1)[0] == case), None)
    if record is None:
        return ""
    config = record["config"]
    samples = f"{config['limit']:,}" if config["limit"] else "all"
    tested = f"first {config['test_limit']:,}" if config["test_limit"] else "all"
    epochs = f"{config['epochs']} epoch{'s' * (config['epochs'] > 1)}"
    return (f"{config['dataset']}, {config['arch']} depth {config['depth']}, {epochs} of "
            f"{samples} training samples, T = {config['time_steps']}, {config['encoding']} "
            f"input, {tested} test samples")


def _cell(part: str, case: str, timed: bool = False) -> str:
    result = case_result(part, case)
    if result is None:
        return f"{case}: not stored"
    text = f"{result['acc']:.3f} ({result['seeds']} seed{'s' * (result['seeds'] > 1)}"
    text += f", {result['seconds']:,.0f} s)" if timed else ")"
    lava = result["lava"]
    if lava is not None:
        text += (f"; Lava {lava['lava_acc']:.3f} = SLAYER {lava['slayer_acc']:.3f} on "
                 f"{lava['samples']} test samples, {lava['mismatches']} mismatches")
    wrap = result["wrap"]
    if wrap is not None:
        text += (f"; first-layer current up to {wrap['largest_current']:.1f} against Lava's "
                 f"limit {wrap['limit']:g}, {wrap['wrapped_fraction']:.1e} of its neuron-steps "
                 "wrapped (whole test set)")
    return text


def _code(part: str, case: str) -> str:
    """The code commit(s) that made a case's records (``unknown``: before provenance)."""
    result = case_result(part, case)
    return ", ".join(code[:7] for code in result["code"]) if result else "-"


def best_rate_case(part: str, case: str) -> tuple[str, str]:
    """The case of ``case``'s init and setting whose stored mean accuracy is best over the
    learning rates its part stores (``<init> lr<rate> <rest>``; ``case`` itself at the default
    rate), and that rate (``default`` for ``case``)."""
    init, rest = case.split(" ", 1)
    rates = {"default": case}
    for label in _records(part):
        match = re.fullmatch(rf"{re.escape(init)} lr(\S+) {re.escape(rest)} s\d+", label)
        if match:
            rates[match[1]] = f"{init} lr{match[1]} {rest}"
    stored = {rate: case_result(part, name) for rate, name in rates.items()}
    rate = max((r for r in stored if stored[r]), key=lambda r: stored[r]["acc"],
               default="default")
    return rates[rate], rate


def _control(claim: Claim, case: str) -> str:
    """A control's cell: its name, mean accuracy (at its best rate, when the claim says) and,
    for a timed claim, its seconds."""
    part = claim.control_part or claim.part
    shown, rate = best_rate_case(part, case) if claim.best_rate else (case, "")
    names = dict(zip(claim.controls, claim.control_names, strict=False))  # names may be fewer
    cell = _cell(part, shown, claim.timed)
    text = f"{names.get(case, case.split(' ')[0])} {cell if claim.timed else cell.split(' (')[0]}"
    if rate:
        text += f" (lr {rate})" if rate != "default" else " (lr 3e-3)"
    return text + (" (its own recipe)" if "section7" in case else "")


def readout_table() -> str:
    """The README's results table: one row per :data:`CLAIMS` entry."""
    rows = ["| claim | lava-init | controls (same budget) | qualifier | rerun | code |",
            "|---|---|---|---|---|---|"]
    for claim in CLAIMS:
        controls = "; ".join(_control(claim, case) for case in claim.controls) or "none stored"
        ours = _cell(claim.part, claim.case, claim.timed)
        if claim.best_rate:
            best, rate = best_rate_case(claim.part, claim.case)
            if rate != "default":
                ours += f"; at its best rate (lr {rate}) {_cell(claim.part, best)}"
        rows.append(f"| {claim.claim} | {ours} | {controls} | "
                    f"{setting(claim.part, claim.case)}; {claim.qualifier} | "
                    f"`{claim.command}` | {_code(claim.part, claim.case)} |")
    for row in STORED_ROWS:
        ours, controls, qualifier, code = row.cells()
        rows.append(f"| {row.claim} | {ours} | {controls} | {qualifier} | `{row.command}` | "
                    f"{code} |")
    return "\n".join(rows)


@dataclass(frozen=True)
class StoredRow:
    """One row from a stored result that is not a training-recipe record: ``cells()`` gives
    the lava-init cell, the controls, the qualifier and the code from the stored file."""

    claim: str
    cells: Callable[[], tuple[str, str, str, str]]
    command: str


def _depth_cell(by_depth: dict[int, DepthResult]) -> str:
    return ", ".join(f"d{depth} {result.accuracy:.3f} ({result.epoch1_accuracy:.3f} after epoch "
                     f"1, {result.epochs} epochs)" for depth, result in by_depth.items())


#: The MNIST-1D sweep's lava-init recipes (their names start so; the other inits are its
#: controls), see docs/depth.md.
MNIST1D_OURS = ("lava-init", "relay", "grown")


def _recipe_name(recipe: str) -> str:
    """A recipe's name in the table; a grown one says where its rows start."""
    base = RECIPES.get(recipe, {}).get(GROWN_FROM)
    return recipe if base is None else (f"{recipe} (after {base.epochs} epochs of {base.recipe} "
                                        f"at depth min(d, {base.depth}))")


def _mnist1d_cells() -> tuple[str, str, str, str]:
    path = RESULTS / "mnist1d_depth" / "runs.json"
    if not path.exists():
        return "not stored", "-", "-", "-"
    rows = json.loads(path.read_text())
    recipes = list(dict.fromkeys(recipe_of(row) for row in rows.values()))
    ours = "; ".join(f"{_recipe_name(recipe)}: {_depth_cell(best_by_depth(rows, recipe))}"
                     for recipe in recipes if recipe.startswith(MNIST1D_OURS))
    controls = "; ".join(f"{recipe}: {_depth_cell(best_by_depth(rows, recipe))}"
                         for recipe in recipes if not recipe.startswith(MNIST1D_OURS))
    seeds = len({name.rsplit(" s", 1)[1] for name in rows if " s" in name})
    epochs = sorted({row["config"]["epochs"] for row in rows.values() if "config" in row})
    qualifier = (f"MNIST-1D (4,000 / 1,000), plain CNN of 1 x 5 convolutions, up to {seeds} "
                 f"seeds, {'/'.join(map(str, epochs))} epochs; each depth at its longest stored "
                 "budget and the best of its learning rates there, the mean over its seeds; the "
                 "ANN is the same shape with ReLU (docs/depth.md)")
    codes = sorted({code_identity(row)[:7] for row in rows.values()})
    return ours or "not stored", controls or "none stored", qualifier, ", ".join(codes)


def _mnist1d_lava_cells() -> tuple[str, str, str, str]:
    path = RESULTS / "mnist1d_lava" / "runs.json"
    if not path.exists():
        return "not stored", "-", "-", "-"
    rows = sorted(json.loads(path.read_text()).items(), key=lambda item: -item[1]["test_acc"])
    ours = "; ".join(
        f"`{label}`: SLAYER {row['lava']['slayer_acc']:.3f}, Lava fixed_pt "
        f"{row['lava']['lava_acc']:.3f} on {row['lava']['samples']} test signals, "
        f"{row['lava']['mismatches']} mismatched spikes" for label, row in rows)
    qualifier = ("networks of the MNIST-1D sweep (its rows' labels), the best first, each "
                 "retrained, exported to NetX and run on every test signal")
    codes = sorted({code_identity(row)[:7] for _, row in rows})
    return ours, "-", qualifier, ", ".join(codes)


def _nir_cells() -> tuple[str, str, str, str]:
    path = RESULTS / "nir" / "nir_bridge.json"
    if not path.exists():
        return "not stored", "-", "-", "-"
    stored = json.loads(path.read_text())
    best = min(stored["loihi"], key=lambda r: r["max_voltage_difference_vs_loihi_off_spike_steps"])
    spikes = ", ".join(map(str, best["lava_spikes"]))
    same = "=" if best["lava_spikes"] == best["loihi_spikes"] else "differ from"
    trips = stored["round_trips"]
    exact = sum(trip["same_netx_values"] for trip in trips)
    ours = (f"Lava fixed_pt spikes at steps {spikes} {same} Loihi 2's; SLAYER "
            f"{best['slayer_lava_mismatches']} mismatches; voltage off the spike steps within "
            f"{best['max_voltage_difference_vs_loihi_off_spike_steps']:g} of Loihi 2's; "
            f"NetX -> NIR -> NetX keeps every value in {exact} of {len(trips)} networks")
    controls = ("the exact solution spikes at "
                f"{', '.join(map(str, best['exact_solution_spikes']))} (Lava's synapse delays "
                "one step)")
    qualifier = (f"lif_norse.nir (Norse) driven by the CSVs' input, imported with "
                 f"{best['import']}; Loihi 2 trace from the NIR paper's repository")
    return ours, controls, qualifier, code_identity(stored)[:7]


def _snntorch_cells() -> tuple[str, str, str, str]:
    path = RESULTS / "nir" / "snntorch_to_lava.json"
    if not path.exists():
        return "not stored", "-", "-", "-"
    stored = json.loads(path.read_text())
    accuracy = stored["accuracy"]
    agreement = min(stored["spike_agreement_snntorch_vs_slayer"])
    ours = (f"imported: SLAYER {accuracy['slayer']:.4f}, Lava {accuracy['lava']:.4f} "
            f"({stored['slayer_lava_mismatches']} mismatched spikes); spike agreement with "
            f"snnTorch per layer >= {agreement:.4f}")
    qualifier = (f"a snnTorch network of {len(stored['spike_agreement_snntorch_vs_slayer'])} "
                 f"Leaky layers (2 Conv2d, 2 Linear), {stored['epochs']} epochs on digits, "
                 f"T = {stored['time_steps']}, exported by snnTorch's export_to_nir; all "
                 f"{stored['test_samples']} test digits")
    return ours, f"snnTorch itself {accuracy['snntorch']:.4f}", qualifier, \
        code_identity(stored)[:7]


def _nir_init_cells() -> tuple[str, str, str, str]:
    path = RESULTS / "nir" / "snntorch_init.json"
    if not path.exists():
        return "not stored", "-", "-", "-"
    stored = json.loads(path.read_text())
    ours, default = stored["rates_lava_init_through_nir"], stored["rates_pytorch_default"]
    silent = next((i + 1 for i, rate in enumerate(default) if rate == 0), None)
    qualifier = (f"a {stored['depth']}-layer snnTorch Leaky MLP of width {stored['width']}, "
                 f"T = {stored['time_steps']}, input rate {stored['input_rate']:g}, rates in "
                 "snnTorch's own simulation")
    return (f"layer {len(ours)} rate {ours[-1]:.4f} against layer 1's {ours[0]:.4f}",
            f"PyTorch's default init: silent from layer {silent}", qualifier,
            code_identity(stored)[:7])


STORED_ROWS = (
    StoredRow("MNIST-1D: accuracy by depth, plain spiking CNN", _mnist1d_cells,
              "benchmarks/mnist1d_depth.py"),
    StoredRow("MNIST-1D on Lava: the whole test set, spike for spike", _mnist1d_lava_cells,
              "benchmarks/mnist1d_depth.py --lava 1000 --out benchmarks/results/mnist1d_lava"),
    StoredRow("NIR in, Lava out: Loihi 2's own trace", _nir_cells, "benchmarks/nir_bridge.py"),
    StoredRow("snnTorch -> NIR -> Lava", _snntorch_cells, "benchmarks/nir_snntorch.py"),
    StoredRow("lava-init's init for a snnTorch network, through NIR", _nir_init_cells,
              "benchmarks/nir_snntorch_init.py"),
)


def _throughput() -> str:
    path = RESULTS / "lava_throughput.json"
    if not path.exists():
        return "not stored"
    rows = ["| case | samples | samples/s | speed-up |", "|---|---|---|---|"]
    rows += [f"| {r['case']} | {r['samples']} | {r['samples_per_s']:.2f} | {r['speedup']:.2f} |"
             for r in json.loads(path.read_text())]
    return "\n".join(rows)


def results_page() -> str:
    """docs/results.md: every stored training row, the claims and the Lava throughput."""
    summary = (RESULTS / "training_recipe" / "training_recipe.md").read_text().strip()
    return "\n".join([
        "# Results (generated: `.venv/bin/python benchmarks/results_page.py`)", "",
        "Every number here is computed from a stored record in `benchmarks/results/`; rerun "
        "the command of a row to replace it. Do not edit this page by hand. Sources: "
        "benchmarks/results/training_recipe/, benchmarks/results/mnist1d_depth/runs.json, "
        "benchmarks/results/mnist1d_lava/runs.json, "
        "benchmarks/results/nir/, benchmarks/results/lava_throughput.json.", "",
        "## Claims", "", readout_table(), "",
        f"## Every training row (`{RECIPE}`, written by it to "
        "`benchmarks/results/training_recipe/training_recipe.md`)", "", summary, "",
        "## Lava fixed-point throughput (`benchmarks/lava_throughput.py`, 784-100x6-10 MLP, "
        "T = 16)", "", _throughput(), ""])


def readme_with_table(readme: str) -> str:
    """``readme`` with its generated block replaced by the current table."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{readout_table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when README.md or docs/results.md differ "
                             "from the stored results")
    args = parser.parse_args(argv)
    readme, page = README.read_text(), results_page()
    stale = [path.name for path, text in ((README, readme_with_table(readme)),
                                          (RESULTS_PAGE, page)) if path.read_text() != text] \
        if RESULTS_PAGE.exists() else ["results.md"]
    if args.check:
        if stale:
            print(f"out of date: {', '.join(stale)}; run benchmarks/results_page.py")
        return 1 if stale else 0
    atomic_write_text(readme_with_table(readme), README)
    atomic_write_text(page, RESULTS_PAGE)
    print(f"wrote {README.name} (results table) and {RESULTS_PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

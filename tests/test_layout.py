"""The layout promised in the README: layers import only downwards, no cycles, short functions.

Layers: math (numpy/scipy) < SLAYER glue < library (and netx_export) < training < experiments
< cli.
"""

from __future__ import annotations

import ast
import functools
import importlib
import subprocess
import sys
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lava_init", "netx_export")
MATH = {f"lava_init.{name}" for name in (
    "checks", "files", "tables", "records", "quantization", "theory", "temporal", "signals")}
GLUE = {"lava_init.slayer_blocks"}
#: Longest function allowed (code lines: the docstring is not counted).
MAX_FUNCTION_LINES = 60


#: The packages above the library, lowest first: each imports only those before it.
APPS = ("lava_init.training", "lava_init.experiments", "lava_init.cli")


def layer(module: str) -> int:
    """0 math, 1 SLAYER glue, 2 library (netx_export too), 3 training, 4 experiments, 5 cli."""
    if module in MATH:
        return 0
    if module in GLUE:
        return 1
    for index, package in enumerate(APPS):
        if module == package or module.startswith(package + "."):
            return 3 + index
    return 2


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def imports_of(path: Path) -> set[str]:
    """Project modules ``path`` imports anywhere in the file (module level or in functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found.update(n if n in ALL_MODULES else node.module for n in names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


ALL_MODULES = {module_name(p) for p in source_files()}
#: The package __init__ files re-export by name; the graph is between the modules themselves.
GRAPH = {module_name(p): imports_of(p) - set(PACKAGES) for p in source_files()
         if p.name != "__init__.py"}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_go_down_the_layers(module):
    upward = [target for target in GRAPH[module] if layer(target) > layer(module)]
    assert not upward, f"{module} (layer {layer(module)}) imports {upward} from above"
    if module.startswith("netx_export"):
        library = [t for t in GRAPH[module] if t.startswith("lava_init") and layer(t) > 1]
        assert not library, f"{module} uses {library}: netx_export takes only math and glue"


def test_the_app_layers_are_ordered_so_an_upward_import_is_caught():
    assert layer("lava_init.network_init") < layer("lava_init.training.plan") \
        < layer("lava_init.experiments.demo") < layer("lava_init.cli.train")
    assert layer("lava_init.training") == layer("lava_init.training.loop")
    assert layer("lava_init.trainingx") == layer("lava_init.network_init")  # a prefix only
    graph = {"lava_init.training.loop": {"lava_init.cli.main", "lava_init.records"}}
    upward = [t for t in graph["lava_init.training.loop"]
              if layer(t) > layer("lava_init.training.loop")]
    assert upward == ["lava_init.cli.main"]


def test_no_import_cycle_between_files():
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            assert state.get(target) != 1, f"import cycle: {' -> '.join([*trail, target])}"
            if target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])


#: Folders whose functions :func:`test_functions_are_short` holds to the limit.
SHORT_FUNCTION_FOLDERS = (*PACKAGES, "benchmarks", "tutorials")


def code_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """The lines of ``function``, its docstring not counted."""
    lines = function.end_lineno - function.lineno + 1
    first = function.body[0]
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def long_functions(source: str, name: str) -> list[str]:
    """The functions of ``source`` (the file ``name``) with more than
    :data:`MAX_FUNCTION_LINES` code lines."""
    return [f"{name}:{node.lineno} {node.name} ({code_lines(node)} lines)"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and code_lines(node) > MAX_FUNCTION_LINES]


def test_functions_are_short():
    paths = sorted(p for folder in SHORT_FUNCTION_FOLDERS for p in (ROOT / folder).rglob("*.py"))
    assert {p.relative_to(ROOT).parts[0] for p in paths} == set(SHORT_FUNCTION_FOLDERS)
    long = [entry for path in paths
            for entry in long_functions(path.read_text(), str(path.relative_to(ROOT)))]
    assert not long, long


def test_a_long_function_is_caught_and_its_docstring_is_not_counted():
    docstring = '    """A docstring\n    of two lines."""\n'
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES - 1))
    at_the_limit = f"def f():\n{docstring}{body}"
    assert long_functions(at_the_limit, "a.py") == []
    assert long_functions(at_the_limit + "    return x0\n", "a.py") == [
        f"a.py:1 f ({MAX_FUNCTION_LINES + 1} lines)"]


@dataclass(frozen=True)
class FreshRun:
    """What running some code in a fresh interpreter printed, and the modules it then held."""

    stdout: str
    modules: frozenset[str]


@functools.cache
def fresh_run(code: str) -> FreshRun:
    """``code`` run once per test process in a fresh interpreter (several tests read one run:
    each costs seconds of imports); the module names go to a file, so stdout is the code's."""
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / "modules"
        script = f"import sys\n{code}\nopen({str(listing)!r}, 'w').write(' '.join(sys.modules))"
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                timeout=120, cwd=ROOT)
        assert result.returncode == 0, result.stderr[-2000:]
        return FreshRun(result.stdout, frozenset(listing.read_text().split()))


def loaded_after(code: str) -> frozenset[str]:
    """Names in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    return fresh_run(code).modules


def test_the_math_layer_imports_without_torch():
    modules = loaded_after("\n".join(f"import {name}" for name in sorted(MATH)))
    assert "torch" not in modules and not any(m.startswith("lava.") for m in modules)


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_the_library_imports_no_app_netx_export_or_sklearn():
    modules = loaded_after("import lava_init\nfrom lava_init import initialize, calibrate, "
                           "measure_activity, temporal_, rate_encode")
    assert "lava_init.network_init" in modules  # the check below is not vacuous
    assert not {m for m in modules if m.startswith(("netx_export", "sklearn", *APPS))}


#: Importing every name of ``netx_export`` (the package is lazy: ``*`` loads each module).
NETX_EXPORT_EVERY_NAME = "from netx_export import *"


@pytest.mark.integration  # seconds: the fast tier holds sub-second tests
def test_netx_export_uses_only_the_lower_layers_of_lava_init():
    modules = loaded_after(NETX_EXPORT_EVERY_NAME)
    ours = {m for m in modules if m.startswith("lava_init.")}
    assert "lava_init.slayer_blocks" in ours
    assert ours <= MATH | GLUE, ours - MATH - GLUE
    assert not {m for m in modules if m.startswith("sklearn")}


@pytest.mark.integration
def test_importing_netx_export_prints_nothing_on_stdout():
    """lava-dl prints a warning on import; ``netx_export`` keeps stdout for the output."""
    assert fresh_run(NETX_EXPORT_EVERY_NAME).stdout == ""


@pytest.mark.parametrize("command", ["train", "propagate", "demo", "export", "verify",
                                     "inspect"])
def test_command_help_imports_neither_torch_nor_lava(command):
    modules = loaded_after("import contextlib, io\nfrom lava_init.cli.main import main\n"
                           "with contextlib.redirect_stdout(io.StringIO()):\n"
                           f"    try:\n        main([{command!r}, '--help'])\n"
                           "    except SystemExit:\n        pass")
    assert "lava_init.cli." + command in modules
    assert "torch" not in modules and not any(m.startswith("lava.") for m in modules)


#: Folders whose public functions :func:`test_every_public_library_function_has_args_and_an_example`
#: leaves out: the command line documents its commands elsewhere (``--help``).
UNDOCUMENTED_FOLDERS = ("cli",)


def undocumented_functions(source: str, name: str) -> list[str]:
    """The public module-level functions of ``source`` (the file ``name``) whose docstring
    lacks an ``Args:`` section (when they take arguments) or a ``>>>`` example."""
    missing = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) \
                or node.name.startswith("_"):
            continue
        doc = ast.get_docstring(node) or ""
        takes = [a for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                 if a.arg not in ("self", "cls")] or node.args.vararg or node.args.kwarg
        if (takes and "Args:" not in doc) or ">>>" not in doc:
            missing.append(f"{name}:{node.lineno} {node.name}")
    return missing


def test_every_public_library_function_has_args_and_an_example():
    paths = [p for p in source_files()
             if not set(UNDOCUMENTED_FOLDERS) & set(p.relative_to(ROOT).parts)]
    assert len(paths) > 20  # the check is not vacuous
    missing = [entry for path in paths
               for entry in undocumented_functions(path.read_text(),
                                                   str(path.relative_to(ROOT)))]
    assert not missing, "public functions without Args:/an example (issue 28):\n" + \
        "\n".join(missing)


def test_a_function_without_args_or_an_example_is_caught():
    documented = ('def f(x):\n    """One line.\n\n    Args:\n        x: a number.\n\n'
                  '    Example:\n        >>> f(1)\n    """\n')
    no_example = 'def g(x):\n    """One line.\n\n    Args:\n        x: a number.\n    """\n'
    no_args = 'def h(x):\n    """One line.\n\n    >>> h(1)\n    """\n'
    private_and_bare = 'def _p(x):\n    pass\n\n\ndef k():\n    """>>> k()"""\n'
    assert undocumented_functions(documented + private_and_bare, "a.py") == []
    assert undocumented_functions(no_example + no_args, "a.py") == ["a.py:1 g", "a.py:7 h"]


def test_every_public_name_of_netx_export_is_what_its_module_defines():
    """The package loads its names on first use; none may be shadowed by a submodule of the
    same name (Python binds a submodule to its package once it is imported)."""
    import netx_export

    for home in set(netx_export._HOMES.values()):
        importlib.import_module(f"netx_export.{home}")
    for name in netx_export.__all__:
        value = getattr(netx_export, name)
        assert not isinstance(value, types.ModuleType), f"netx_export.{name} is a module"
        assert value is getattr(importlib.import_module(
            f"netx_export.{netx_export._HOMES[name]}"), name)


def benchmark_imports(source: str) -> list[str]:
    """The benchmark scripts (``benchmarks/*.py``) that ``source`` imports by name; a test
    that needs one asks ``conftest.import_benchmark`` for it instead."""
    scripts = {path.stem for path in (ROOT / "benchmarks").glob("*.py")}
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [name for name in names if name.split(".")[0] in scripts]
    return found


def test_the_tests_import_a_benchmark_script_only_through_import_benchmark():
    """The fixtures live in tests/ and the library (issue 28): no test reaches into
    benchmarks/ by name, and conftest does not put it on ``sys.path`` for every test."""
    found = {path.name: benchmark_imports(path.read_text())
             for path in sorted((ROOT / "tests").glob("*.py"))}
    assert not {name: scripts for name, scripts in found.items() if scripts}
    assert benchmark_imports("import results_page\nfrom nir_bridge import netx_values\n"
                             "from lava_init.training import example_nets\n") == [
        "results_page", "nir_bridge"]
    conftest = ast.parse((ROOT / "tests" / "conftest.py").read_text())
    assert "sys.path" not in "".join(ast.unparse(node) for node in conftest.body
                                     if not isinstance(node, ast.FunctionDef))

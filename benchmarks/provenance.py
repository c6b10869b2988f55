"""Which code made a stored benchmark record, and whether two records were made by the same code.

Every benchmark script that stores results puts :func:`current_provenance` into its records:

* ``commit``: the commit checked out (``git rev-parse HEAD``);
* ``code_commit``: the newest commit that changed the code (:data:`CODE_PATHS`: lava_init/,
  netx_export/ and benchmarks/ without its stored results), so that a commit of results or
  docs does not make the records before it stale;
* ``dirty``: whether tracked files of the code had uncommitted changes, with ``diff_sha256``
  (the hash of ``git diff HEAD`` of the code) telling two uncommitted states apart;
* ``lava_init`` and ``torch``: the versions; ``command``: the command line that made it.

:func:`code_identity` names a record's code: the code commit's first 12 hex digits, followed by
``+diff`` and the diff hash's first 12 when dirty; :data:`UNKNOWN_CODE` for a record without
provenance (made before it was stored) or outside a git checkout. Two records were made by the
same code when their identities are equal and known.
"""

from __future__ import annotations

import hashlib
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

import lava_init

#: The repository this file belongs to.
REPOSITORY = Path(__file__).resolve().parents[1]
#: The code a benchmark record depends on, as git pathspecs (the stored results are not code).
CODE_PATHS = ("lava_init", "netx_export", "benchmarks", ":(exclude)benchmarks/results")
#: The identity of the code of a record without provenance, or made outside a git checkout.
UNKNOWN_CODE = "unknown"
#: Hex digits of a commit or diff hash kept in a code identity.
SHORT = 12


def _git(*arguments: str) -> str | None:
    """``git arguments`` in the repository: its output, None where git or the checkout fails."""
    try:
        completed = subprocess.run(["git", "-C", str(REPOSITORY), *arguments],
                                   capture_output=True, text=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout


def current_provenance(script: str | Path, argv: Sequence[str] | None = None) -> dict:
    """The provenance of records written now by ``script`` run with ``argv`` (None: this
    process's command-line arguments): see the module's docstring for the keys."""
    head = (_git("rev-parse", "HEAD") or "").strip() or None
    code_commit = (_git("log", "-1", "--format=%H", "--", *CODE_PATHS) or "").strip() or None
    diff = _git("diff", "HEAD", "--", *CODE_PATHS) or ""
    script_path = Path(script).resolve()
    shown_script = (script_path.relative_to(REPOSITORY) if script_path.is_relative_to(REPOSITORY)
                    else script_path)
    arguments = sys.argv[1:] if argv is None else list(argv)
    return {"commit": head, "code_commit": code_commit, "dirty": bool(diff),
            "diff_sha256": hashlib.sha256(diff.encode()).hexdigest() if diff else None,
            "lava_init": lava_init.__version__, "torch": torch.__version__,
            "command": shlex.join([sys.executable, str(shown_script), *arguments])}


def code_identity(record: dict) -> str:
    """The code that made ``record`` (a stored record, or a provenance itself)."""
    made_by = record.get("provenance", record)
    code_commit = made_by.get("code_commit")
    if not code_commit:
        return UNKNOWN_CODE
    identity = code_commit[:SHORT]
    return f"{identity}+diff{made_by['diff_sha256'][:SHORT]}" if made_by["dirty"] else identity


def same_code(record: dict, other: dict) -> bool:
    """True when ``record`` and ``other`` were made by the same, known code."""
    identity = code_identity(record)
    return identity != UNKNOWN_CODE and identity == code_identity(other)

"""A checked file's tree and analyses are freed by reference counting as soon as nobody holds
its context, not by a full garbage collection (on KeyPort-dense code those trees are most of
the peak memory, in every process)."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

from .conftest import FIXTURES, run_cli


def test_released_contexts_are_never_cyclic_garbage(tmp_path: Path) -> None:
    from keyport_lint.context import PythonContext

    for family in ("KP201", "KP301", "KP401", "KP402", "KP502"):
        shutil.copytree(FIXTURES / family, tmp_path / family)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = run_cli("check", "--no-cache", "--jobs", "1", "-q", "--exit-zero", ".",
                         cwd=tmp_path)
        assert result.returncode == 0 and result.stdout  # the run found things
        gc.collect()
        stranded = [o for o in gc.garbage if isinstance(o, PythonContext) and not o._memo]
        assert stranded == [], (f"{len(stranded)} released contexts (with their trees) "
                                "wait for a full collection: something they hold is a cycle")
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()

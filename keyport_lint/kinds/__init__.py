"""Rule kinds: the only Python behind rules. A kind named `key-slot` lives in key_slot.py.

Adding a kind is adding one module here that defines `KIND`; nothing else registers it.
Kind modules stay light at import time: libcst and the analyses load only in `check_*`.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyport_lint.kinds.base import Kind


@lru_cache(maxsize=1)
def kind_names() -> frozenset[str]:
    return frozenset(
        m.name.replace("_", "-")
        for m in pkgutil.iter_modules(__path__)
        if m.name != "base" and not m.name.startswith("_")
    )


@cache
def get_kind(name: str) -> Kind:
    module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
    return module.KIND

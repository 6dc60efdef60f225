"""Import-following before parsing: does a file reach a module whose text holds KeyPort
markers, through what its code uses?

The answer follows uses, not whole modules (see `importuse`): `from pkg import A` reaches
`pkg/__init__.py` (its own text counts) and then only the statements that give `A` its
value, plus the submodule `pkg.A` if there is one; `import pkg` reaches only the attributes
the code reads (`pkg.api_key`); a module that binds names in ways the text does not show is
followed whole. A node of this graph is (module path, name), (module path, None) for the
whole module, or (module path, "") for its own text alone (`import m` itself).

Every edge of that graph is also an edge of the whole-module import graph, so when the whole
closure of a file holds no KeyPort module, neither does what it uses: on a run that reads the
modules anyway (a whole tree, where every file is asked), the whole-module answer is computed
first, cheaply, from texts alone, and only a "yes" is narrowed by what the code uses. A run that
would have to read many modules it does not check (one staged file in a large package) goes
straight to the narrow answer, which reads only what is used. Either way the answer is the
narrow one; only the cost differs.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from keyport_lint.closure import ClosureDeps, search
from keyport_lint.importscan import imported_names

if TYPE_CHECKING:  # importuse (and `ast`) load only when a use must be narrowed
    from keyport_lint.importuse import ModuleUses, Selection
    from keyport_lint.modules import ModuleTable

# modules the whole-module answers may read beyond the ones the run checks (plus one per file
# checked) before the run switches to following uses only
WHOLE_FIRST_BUDGET = 64
# modules following uses may parse before the run goes back to whole modules, for good: a
# parse costs about ten reads, so once uses spread this far whole modules are the cheaper way
# to the same answer (a few files of a package that imports a large part of its environment)
USES_FIRST_BUDGET = 64

Node = tuple[str, "str | None"]


class _OverBudget(Exception):
    pass


class Following:
    def __init__(self, table: ModuleTable) -> None:
        self.table = table
        self._whole: dict[str, tuple[bool, ClosureDeps]] = {}
        self._used: dict[Node, tuple[bool, ClosureDeps]] = {}
        self._edges: dict[Node, tuple[tuple[Node, ...], frozenset[object]]] = {}
        self._uses: dict[str, ModuleUses | None] = {}
        self._whole_first: bool | None = None  # decided on the first question
        self._whole_bounded = True  # whole-module answers may still give up for uses
        self._unexpected = 0

    def reaches(self, path: str) -> bool:
        table = self.table
        done = self._whole.get(path)
        if done is not None and not done[0]:  # met in an earlier closure: nothing below it
            table.touch((done[1],))
            return False
        if self._whole_first is None:
            self._whole_first = len(table.targets) > 1
        if self._whole_first:
            try:
                if not self._reaches_whole(path):
                    return False
            except _OverBudget:
                self._whole_first = False
        try:
            return self._reaches_used(path)
        except _OverBudget:  # uses spread too far: whole modules first from now on
            self._whole_first, self._whole_bounded = True, False
            return self._reaches_whole(path) and self._reaches_used(path)

    def _reaches_used(self, path: str) -> bool:
        table = self.table
        edges, deps = self._edges_of((path, None))
        table.touch(deps)
        for node in edges:
            answer, group = search(node, self._used, self._expand_used, self._known)
            table.touch((group,))
            if answer:
                return True
        return False

    # -- whole modules ---------------------------------------------------------------------
    def _reaches_whole(self, path: str) -> bool:
        succ = self.table.successors(path)
        for node in succ:
            answer, group = search(node, self._whole, self._expand_whole)
            self.table.touch((group,))
            if answer:
                return True
        return False

    def _expand_whole(self, path: str) -> tuple[bool, tuple[str, ...], tuple[object, ...]]:
        table = self.table
        if self._whole_bounded and not table.expected(path):
            self._unexpected += 1
            if self._unexpected > WHOLE_FIRST_BUDGET + len(table.targets):
                raise _OverBudget
        keyport = table.module(path).keyport
        succ, deps = table._successors(path)
        return keyport, succ, (path, *deps)

    # -- what the code uses ----------------------------------------------------------------
    def _known(self, node: Node) -> ClosureDeps | None:
        """A whole-module answer of "nothing below" covers every use of that module."""
        done = self._whole.get(node[0])
        return done[1] if done is not None and not done[0] else None

    def _expand_used(self, node: Node) -> tuple[bool, tuple[Node, ...], tuple[object, ...]]:
        keyport = self.table.module(node[0]).keyport
        edges, deps = self._edges_of(node)
        return keyport, edges, (node[0], *deps)

    def uses(self, path: str) -> ModuleUses | None:
        if path not in self._uses:
            from keyport_lint.importuse import ModuleUses

            if not self._whole_first and len(self._uses) >= USES_FIRST_BUDGET:
                raise _OverBudget
            text = self.table.text(path)
            self._uses[path] = ModuleUses(text) if text is not None else None
        return self._uses[path]

    def _edges_of(self, node: Node) -> tuple[tuple[Node, ...], frozenset[object]]:
        found = self._edges.get(node)
        if found is None:
            found = self._edges[node] = self._compute_edges(*node)
        return found

    def _compute_edges(self, path: str, name: str | None
                       ) -> tuple[tuple[Node, ...], frozenset[object]]:
        table = self.table
        imports = table.module(path).imports
        selection: Selection | None = None
        if name == "":  # the module's own text only
            return (), frozenset()
        if name is not None:
            uses = self.uses(path)
            if uses is None or uses.whole or (uses.getattr_hook and not uses.binds(name)):
                return ((path, None),), frozenset()
            if not uses.binds(name):
                return (), frozenset()  # its own text only (a submodule: the importer's edge)
            selection = uses.slice(name)
        elif any(not names and (alias or "." not in base) for base, names, alias in imports):
            uses = self.uses(path)  # which attributes of `import pkg` the module reads
            if uses is not None and not uses.whole:
                selection = uses.everything()
        folder = os.path.dirname(path)
        lookup = table._lookup
        deps: set[object] = set()
        out: dict[Node, None] = {}

        def resolve(module: str) -> str | None:
            target, roots_deps, found_deps = lookup(folder, module)
            deps.update(roots_deps)
            deps.update(found_deps)
            return target

        for base, names, alias in imports:
            if not base:
                continue
            if names:  # from base import names
                wanted = [(orig, local) for orig, local in imported_names(names)
                          if name is None or (selection is not None and local in
                                              selection.names)]
                if not wanted:
                    continue
                target = resolve(base)
                if target is not None and target != path:
                    for orig, _ in wanted:
                        out[(target, None if orig == "*" else orig)] = None
                if target is None or target.endswith("__init__.py"):
                    sep = "" if base.endswith(".") else "."
                    for orig, _ in wanted:
                        if orig != "*":
                            sub = resolve(f"{base}{sep}{orig}")
                            if sub is not None and sub != path:
                                out[(sub, None)] = None
                continue
            local = alias or base.split(".")[0]
            if selection is not None and local not in selection.names:
                continue
            target = resolve(base)
            if target is None or target == path:
                continue
            if selection is None or (not alias and "." in base) or local in selection.bare:
                out[(target, None)] = None
            else:  # its own text, and the attributes read of it
                out[(target, "")] = None
                for attr in sorted(selection.attrs.get(local, ())):
                    out[(target, attr)] = None
        return tuple(out), frozenset(deps)

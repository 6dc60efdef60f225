"""What of a module an importer actually uses, so that import-following reads what the code
needs rather than a package's whole import closure.

`from pkg import A` needs, of `pkg/__init__.py`, its own text and the statements that give `A`
its value; `import pkg` needs only the attributes the importer's code reads (`pkg.api_key`).
The statements are found with CPython's own parser (`ast`, no libcst), per top-level
statement: the module-level names it binds or changes, the names it mentions, and the
attributes it reads of each name. A name's slice is every top-level statement that binds or
changes it (assignments, `def`, `class`, imports, `global` in a function, attribute or item
assignments, module-level calls on it), then, transitively, the statements binding the names
those mention. A module that binds names in ways the text does not show (`globals()`,
`setattr`, `exec`, `sys.modules`, `vars()`, `__dict__`, star imports) is needed whole, and so
is a name it does not bind when it has a module `__getattr__`.
"""

from __future__ import annotations

import ast
import re

DYNAMIC = re.compile(r"\bglobals\s*\(|\bsetattr\s*\(|\bexec\s*\(|\bsys\s*\.\s*modules\b"
                     r"|\bvars\s*\(|__dict__|\bimport[ \t]+\*")
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
          ast.SetComp, ast.DictComp, ast.GeneratorExp)


class Selection:
    """The module-level names a use needs, the attributes read of each, and the names used
    bare (as a value, not only as `name.attr`)."""

    __slots__ = ("attrs", "bare", "names")

    def __init__(self, names: set[str], attrs: dict[str, set[str]], bare: set[str]) -> None:
        self.names = names
        self.attrs = attrs
        self.bare = bare


class _Statement:
    __slots__ = ("attrs", "bare", "effects", "mentions")

    def __init__(self, node: ast.stmt) -> None:
        self.mentions: set[str] = set()
        self.attrs: dict[str, set[str]] = {}
        bases: set[int] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                self.attrs.setdefault(sub.value.id, set()).add(sub.attr)
                bases.add(id(sub.value))
        self.bare: set[str] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                self.mentions.add(sub.id)
                if id(sub) not in bases:
                    self.bare.add(sub.id)
        self.effects = _effects(node)


def _effects(stmt: ast.stmt) -> set[str]:
    """Module-level names the statement binds or may change: stores at module scope (not
    inside functions or classes), `def`/`class` names, imports, names declared `global` in a
    function, bases of attribute or item stores, names in decorators (`@app.route`) and in
    module-level expression statements (`registry.add(x)`, `settings.configure(...)`)."""
    out: set[str] = set()
    todo: list[ast.AST] = [stmt]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
            for sub in ast.walk(node):
                if isinstance(sub, ast.Global):
                    out.update(sub.names)
            for decorator in node.decorator_list:  # `@app.route(...)` registers on `app`
                out.update(sub.id for sub in ast.walk(decorator) if isinstance(sub, ast.Name))
            continue
        if isinstance(node, SCOPES):
            continue
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            out.add(node.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and \
                not isinstance(node.ctx, ast.Load):
            base: ast.expr = node
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                out.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.Expr):
            out.update(sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name))
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            out.add(node.target.id)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            out.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            out.add(node.rest)
        todo.extend(ast.iter_child_nodes(node))
    return out


class ModuleUses:
    """One module's top-level statements as import-following needs them (see the module
    docstring); `whole` when a use of it cannot be narrowed."""

    def __init__(self, text: str) -> None:
        self.whole = bool(DYNAMIC.search(text))
        self._statements: list[_Statement] = []
        self._binding: dict[str, list[int]] = {}
        self.getattr_hook = False
        if self.whole:
            return
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            self.whole = True
            return
        for i, node in enumerate(tree.body):
            statement = _Statement(node)
            self._statements.append(statement)
            for name in statement.effects:
                self._binding.setdefault(name, []).append(i)
        self.getattr_hook = "__getattr__" in self._binding

    def binds(self, name: str) -> bool:
        return name in self._binding

    def slice(self, name: str) -> Selection:
        """What the module needs to give `name` its value."""
        needed = {name}
        todo = [name]
        taken: set[int] = set()
        while todo:
            for i in self._binding.get(todo.pop(), ()):
                if i in taken:
                    continue
                taken.add(i)
                for mentioned in self._statements[i].mentions:
                    if mentioned not in needed and mentioned in self._binding:
                        needed.add(mentioned)
                        todo.append(mentioned)
        return self._selection(needed, sorted(taken))

    def everything(self) -> Selection:
        """The whole module: every name, every attribute read."""
        return self._selection(set(self._binding), range(len(self._statements)))

    def _selection(self, names: set[str], statements: object) -> Selection:
        attrs: dict[str, set[str]] = {}
        bare: set[str] = set()
        for i in statements:  # type: ignore[attr-defined]
            statement = self._statements[i]
            for base, found in statement.attrs.items():
                attrs.setdefault(base, set()).update(found)
            bare |= statement.bare
        return Selection(names, attrs, bare)

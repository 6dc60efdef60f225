"""The solver: symbols recorded by the pass (returns, parameters, globals, attributes,
call sites, imports) resolved to labels by a bounded fixpoint, never a second walk."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from keyport_lint.analysis.taint.scopes import _ModuleState
from keyport_lint.analysis.taint.values import (
    EMPTY,
    MAX_CALL_DEPTH,
    MAX_PATH,
    MAX_ROUNDS,
    PUT,
    Atom,
    Exported,
    Label,
    Source,
    Sym,
    _apply_path,
    _cap,
)

if TYPE_CHECKING:
    from keyport_lint.analysis.taint.scopes import _CallInfo


class _Solver(_ModuleState):
    """Resolves the symbols the pass recorded."""

    # -- solving -------------------------------------------------------------------------------
    def _defs(self, sym: Sym) -> Iterable[Atom] | None:
        kind, key = sym.kind, sym.key
        if kind == "global":
            return self.globals_def.get(key[0])
        if kind == "attr":
            return self.attr_def.get(key)
        if kind == "ret":
            return self.ret_def.get(key[0])
        if kind == "param":
            return self.param_def.get(key, ())
        if kind == "inst":
            qual = key[0]
            atoms = []
            for (cls, attr) in self.attr_def:
                if cls == qual:
                    atoms.append(Atom(Sym("attr", (cls, attr)), ((PUT, "." + attr),)))
            return atoms
        return None

    def _solve(self) -> None:
        if self._solved:
            return
        self._solved = True
        syms = ([Sym("global", (n,)) for n in self.globals_def]
                + [Sym("attr", k) for k in self.attr_def]
                + [Sym("ret", (q,)) for q in self.ret_def]
                + [Sym("param", k) for k in self.param_def]
                + [Sym("inst", (c,)) for c in self.classes])
        values = {s: EMPTY for s in syms}
        self._values = values
        for _ in range(MAX_ROUNDS):
            changed = False
            for sym in syms:
                defs = self._defs(sym)
                new = self._expand(frozenset(defs or ()), None, 0)
                if new != values[sym]:
                    values[sym] = new
                    changed = True
            if not changed:
                break

    def resolve(self, atoms: frozenset) -> frozenset:
        """Labels of symbolic taint."""
        if not atoms:
            return EMPTY
        self._solve()
        return self._expand(atoms, None, 0)

    def _expand(self, atoms: frozenset, subst: tuple[str, dict[str, frozenset]] | None,
                depth: int) -> frozenset:
        labels: set = set()
        for atom in atoms:
            base = atom.base
            # an argument substituted for a parameter keeps the caller's name for it
            outer = isinstance(base, Sym) and base.kind == "param" and subst is not None
            for label in self._base_labels(base, subst, depth):
                if self._budget <= 0:
                    break
                self._budget -= 1
                path = _apply_path(label.path, atom.ops)
                if path is None:
                    continue
                if path:  # inside a container: the container's name is no fix
                    via = label.via
                elif outer:
                    via = label.via or atom.via
                else:
                    via = atom.via or label.via
                labels.add(Label(label.source, path, via))
        return _cap(labels)

    def _base_labels(self, base: Source | Sym, subst: tuple[str, dict[str, frozenset]] | None,
                     depth: int) -> Iterable[Label]:
        if isinstance(base, Source):
            return (Label(base),)
        kind = base.kind
        if kind == "param" and subst is not None and base.key[0] == subst[0]:
            return subst[1].get(base.key[1], EMPTY)
        if kind == "call":
            info = self.calls.get(base.key[0])
            if info is None:
                return EMPTY
            if depth >= MAX_CALL_DEPTH or self._budget <= 0:
                return self._values.get(Sym("ret", (info.target,)), EMPTY)
            args = {name: self._expand(value, subst, depth) for name, value in
                    info.mapped.items()}
            return self._expand(frozenset(self.ret_def.get(info.target, ())),
                                (info.target, args), depth + 1)
        if kind == "import":
            return self._import_value(base, None, subst, depth)
        if kind == "icall":
            info = self.calls.get(base.key[0])
            if info is None:
                return EMPTY
            return self._import_value(Sym("import", (info.target, info.members)), info, subst,
                                      depth)
        if self._defs(base) is not None:  # assigned in this module: its assignments decide
            return self._values.get(base, EMPTY)
        fallback = self.fallback.get(base)  # never assigned here: the name alone decides
        return self._expand(fallback, None, depth) if fallback else EMPTY

    def _import_value(self, sym: Sym, call: _CallInfo | None,
                      subst: tuple[str, dict[str, frozenset]] | None, depth: int
                      ) -> Iterable[Label]:
        """An imported name (or the result of calling it), from the other module's summary."""
        origin, members = sym.key
        cache_key = (origin, members, call is not None)
        if cache_key not in self._imports:
            self._imports[cache_key] = self.analyzer.lookup(self.ctx, origin, members,
                                                            call is not None)
        found = self._imports[cache_key]
        if found is None:  # not a module of the project: the name alone decides
            fallback = self.fallback.get(sym)
            return self._expand(fallback, None, depth) if fallback else EMPTY
        labels, exported = found
        if call is None or exported is None:
            return labels
        result = set(labels)
        args: dict[str, frozenset] = {}
        for i, value in enumerate(call.positional):
            if i < len(exported.params):
                args[exported.params[i]] = value
        for name, value in call.keywords.items():
            args[name] = value
        for param, path in exported.passthrough:
            passed = args.get(param)
            if not passed:
                continue
            for label in self._expand(passed, subst, depth):
                result.add(Label(label.source, (*path, *label.path)[:MAX_PATH], label.via))
        return _cap(result)

    # -- summaries for importers ---------------------------------------------------------------
    def exports(self) -> dict[str, Exported]:
        """Module-level names, functions and classes whose value or result holds a secret."""
        self._solve()
        out: dict[str, Exported] = {}
        everything: set = set()
        for name, defs in self.globals_def.items():
            labels = self._expand(frozenset(defs), None, 0)
            if labels:
                out[name] = Exported(value=labels)
                everything |= {Label(x.source, ((f".{name}", *x.path))[:MAX_PATH], x.via)
                               for x in labels}
        for name, qual in self.top_funcs.items():
            func = self.funcs.get(qual)
            if func is None:
                continue
            markers = {p: frozenset({Label(Source("", p, "param"))}) for p in func.params}
            result = self._expand(frozenset(self.ret_def.get(qual, ())), (qual, markers), 0)
            plain = frozenset(x for x in result if x.source.kind != "param")
            passthrough = tuple(sorted({(x.source.desc, x.path) for x in result
                                        if x.source.kind == "param"}, key=repr))
            if plain or passthrough:
                out[name] = Exported(call=plain, params=tuple(func.params),
                                     passthrough=passthrough)
        for name, qual in self.top_classes.items():
            inst = self._values.get(Sym("inst", (qual,)), EMPTY)
            if inst:
                out[name] = Exported(value=inst, call=inst)
        if everything:
            out["*"] = Exported(value=_cap(everything))
        return out


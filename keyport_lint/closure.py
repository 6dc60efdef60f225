"""Reachability over an import graph: does a node reach one whose text holds KeyPort
markers? Tarjan's strongly connected components, iteratively (no recursion limit), each
component answered once and memoised, the search stopping at the first KeyPort node: every
node still on the stack then reaches it. Each answer keeps what it depends on as a group of
the component's own dependencies and the groups of the components below, shared by every
file that asks, never flattened per file."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)



class ClosureDeps:
    """What a reachability answer for one strongly connected component depends on: its own
    modules' texts and listings, plus the answers of the components it imports. Kept as a
    graph (shared by every file that imports the component), never flattened per file: a
    negative answer depends on everything the search followed."""

    __slots__ = ("children", "own")

    def __init__(self, own: frozenset[object], children: tuple[ClosureDeps, ...]) -> None:
        self.own = own
        self.children = children

    def flatten(self) -> set[object]:
        out: set[object] = set()
        seen: set[int] = set()
        todo = [self]
        while todo:
            group = todo.pop()
            if id(group) in seen:
                continue
            seen.add(id(group))
            out |= group.own
            todo.extend(group.children)
        return out


def closure_group(items: set[object], below: set[ClosureDeps]) -> ClosureDeps:
    """A group of recorded dependencies: groups met among them (the detected roots' listings,
    closures below) become its children rather than items."""
    nested = {item for item in items if isinstance(item, ClosureDeps)}
    if nested:
        items = items - nested
        below = below | nested
    return ClosureDeps(frozenset(items), tuple(below))



class DepTree:
    """`ClosureDeps` with digests: (dependency, digest) pairs — a file path ("-": absent) or
    "dir:" + folder — and the trees below. Plain data: the cache stores it as a graph."""

    __slots__ = ("children", "pairs")

    def __init__(self, pairs: tuple[tuple[str, str], ...],
                 children: tuple[DepTree, ...]) -> None:
        self.pairs = pairs
        self.children = children

    def flatten(self) -> dict[str, str]:
        out: dict[str, str] = {}
        seen: set[int] = set()
        todo = [self]
        while todo:
            tree = todo.pop()
            if id(tree) in seen:
                continue
            seen.add(id(tree))
            out.update(tree.pairs)
            todo.extend(tree.children)
        return out



N = TypeVar("N", ClosureDeps, DepTree)
V = TypeVar("V")


def fold_groups(root: N, done: dict[int, V], combine: Callable[[N], V]) -> V:
    """`combine(group)` for `root` and every group below it, children first, each group once
    (memoised in `done` by identity: groups are shared by every file that imports them), with
    an explicit stack (import graphs nest deeper than the recursion limit)."""
    todo = [root]
    while todo:
        top = todo[-1]
        if id(top) in done:
            todo.pop()
            continue
        missing = [c for c in top.children if id(c) not in done]
        if missing:
            todo.extend(missing)
            continue
        todo.pop()
        done[id(top)] = combine(top)
    return done[id(root)]


def search(start: K, memo: dict[K, tuple[bool, ClosureDeps]],
           expand: Callable[[K], tuple[bool, Sequence[K], Iterable[object]]],
           known: Callable[[K], ClosureDeps | None] | None = None
           ) -> tuple[bool, ClosureDeps]:
    """The answer for `start` and its group. `expand(node)`: whether the node itself is
    KeyPort-related, its successors, and its own dependencies; `known(node)`: a group proving
    that nothing KeyPort-related lies below the node, when some other search already showed
    it (taken as the node's answer)."""
    def settled(node: K) -> tuple[bool, ClosureDeps] | None:
        done = memo.get(node)
        if done is None and known is not None:
            group = known(node)
            if group is not None:
                done = memo[node] = (False, group)
        return done

    done = settled(start)
    if done is not None:
        return done
    index: dict[K, int] = {}
    low: dict[K, int] = {}
    stack: list[K] = []
    on_stack: set[K] = set()
    deps: dict[K, set[object]] = {}
    children: dict[K, set[ClosureDeps]] = {}
    succs: dict[K, Sequence[K]] = {}
    work: list[tuple[K, int]] = [(start, 0)]
    found: ClosureDeps | None = None  # the group of a KeyPort answer met below, if any
    result = False
    while work:
        node, i = work.pop()
        if i == 0:
            if node in memo:
                continue
            index[node] = low[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            keyport, succ, own = expand(node)
            succs[node] = succ
            deps[node] = set(own)
            if keyport:
                result = True
                break
        else:
            succ = succs[node]
        recurse = False
        for j in range(i, len(succ)):
            nxt = succ[j]
            done = settled(nxt)
            if done is not None:
                if done[0]:
                    result = True
                    found = done[1]
                    break
                children.setdefault(node, set()).add(done[1])
                continue
            if nxt not in index:
                work.append((node, j + 1))
                work.append((nxt, 0))
                recurse = True
                break
            if nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if result:
            break
        if recurse:
            continue
        if low[node] == index[node]:  # every successor done: close the component
            members: list[K] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.append(member)
                if member == node:
                    break
            inside = set(members)
            shared: set[object] = set()
            below: set[ClosureDeps] = set()
            for member in members:
                shared |= deps[member]
                below |= children.get(member, set())
                for nxt in succs[member]:
                    if nxt not in inside and nxt in memo:
                        below.add(memo[nxt][1])
            frozen = closure_group(shared, below)
            for member in members:
                memo[member] = (False, frozen)
        if work:
            parent = work[-1][0]
            if parent in low and node in low:
                low[parent] = min(low[parent], low[node])
    if result:
        # every node still on the stack reaches the KeyPort node just found
        everything: set[object] = set()
        for member in stack:
            everything |= deps.get(member, set())
        frozen = closure_group(everything, {found} if found is not None else set())
        for member in stack:
            memo[member] = (True, frozen)
    return memo[start]

"""Equality and hashing by value for the plain record classes every run builds (a dataclass
costs each process about a millisecond to define)."""

from __future__ import annotations


class ValueRecord:
    """Equal when of the same class with equal `_key()`s; hashed on it."""

    __slots__ = ()

    def _key(self) -> tuple[object, ...]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and \
            self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._key())

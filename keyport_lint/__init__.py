"""keyport-lint: a static security linter for Python projects that integrate KeyPort."""

__version__ = "0.1.0"

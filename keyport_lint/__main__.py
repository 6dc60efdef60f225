"""`python -m keyport_lint` behaves exactly like the `keyport-lint` console script."""

from keyport_lint.cli import main

if __name__ == "__main__":
    main()

"""Floor: start-up, then one `stat` per file — the least a warm run must do.

    python benchmarks/floor_stat.py FILES…
"""

import os
import sys


def main() -> int:
    total = 0
    for name in sys.argv[1:]:
        total += os.stat(name).st_size
    print(total)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Floor: start-up, then read each file, decode it, lower-case it and run one compiled
alternation search for the pre-filter's tokens — the least a clean-tree run must do.

    python benchmarks/floor_read.py TOKENS_FILE FILES…   (TOKENS_FILE: one token a line)
"""

import re
import sys


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        tokens = [t for t in handle.read().splitlines() if t]
    regex = re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)))
    hits = 0
    for name in sys.argv[2:]:
        with open(name, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
        if regex.search(text.lower()):
            hits += 1
    print(hits)
    return 0


if __name__ == "__main__":
    sys.exit(main())

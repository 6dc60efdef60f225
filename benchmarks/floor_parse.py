"""Floor: start-up, `import libcst`, then `parse_module` of every file — the least a run that
parses those files must do. `--jobs N` spreads the files over N forked processes.

    python benchmarks/floor_parse.py [--jobs N] FILES…
"""

import sys

import libcst


def parse(names: list[str]) -> int:
    count = 0
    for name in names:
        with open(name, encoding="utf-8") as handle:
            text = handle.read()
        try:
            libcst.parse_module(text)
            count += 1
        except Exception:  # a file the parser rejects still cost its attempt
            pass
    return count


def main() -> int:
    args = sys.argv[1:]
    jobs = 1
    if args[:1] == ["--jobs"]:
        jobs, args = int(args[1]), args[2:]
    if jobs <= 1 or len(args) < 2:
        print(parse(args))
        return 0
    import multiprocessing

    chunks = [args[i::jobs * 8] for i in range(jobs * 8)]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        print(sum(pool.map(parse, chunks, chunksize=1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

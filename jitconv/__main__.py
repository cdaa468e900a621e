"""Command line: ``python -m jitconv bench [--quick] [--only W5,W6] [--json PATH] [--plot PATH]``."""
import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m jitconv bench [--quick] [--only W5,W6] [--repeats N] [--json PATH] [--plot PATH]")
        return 0
    if argv[0] == "bench":
        from ._bench import main as bench
        return bench(argv[1:])
    print(f"unknown command {argv[0]!r}; try: python -m jitconv bench --quick", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

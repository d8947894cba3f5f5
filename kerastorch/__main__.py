"""The command line: `python -m kerastorch VERB ...`.

Verbs:
    run SCRIPT [ARGS...]   Run a Keras script on kerastorch: install the `keras` alias, then run
                           SCRIPT as `python SCRIPT ARGS...` would (`sys.argv`, `__main__`,
                           the script's folder first on `sys.path`).

Each verb is one `_add_<verb>(subparsers)` function that registers its parser and sets
`handler`; a handler takes the parsed arguments and returns the exit status.
"""

import argparse
import os
import runpy
import sys

PROG = "python -m kerastorch"


def _run(args):
    script = args.script
    if not os.path.exists(script):
        print(f"{PROG} run: can't open file {script!r}: no such file or directory",
              file=sys.stderr)
        return 2
    from kerastorch.compat import install_keras_alias

    try:
        install_keras_alias()
    except RuntimeError as e:
        print(f"{PROG} run: {e}", file=sys.stderr)
        return 1
    # As `python SCRIPT` does: argv[0] as typed, and the folder of the script (symlinks
    # resolved) in place of the current directory on sys.path. runpy sets `__file__` to argv[0]
    # too, so `__file__` is the path as typed (Python itself makes it absolute).
    sys.argv = [script, *args.args]
    folder = os.path.dirname(os.path.realpath(script)) if os.path.isfile(script) else script
    if sys.path and sys.path[0] in ("", os.getcwd()):
        sys.path[0] = folder
    else:
        sys.path.insert(0, folder)
    runpy.run_path(script, run_name="__main__")
    return 0


def _add_run(subparsers):
    parser = subparsers.add_parser(
        "run",
        help="run a Keras script with `import keras` resolving to kerastorch",
        description="Run SCRIPT as `python SCRIPT ARGS...` would, with `import keras` "
                    "(and every `keras.X`) resolving to kerastorch.",
    )
    parser.add_argument("script", help="the Python file (or folder with __main__.py) to run")
    rest = parser.add_argument("args", nargs=argparse.REMAINDER,
                               help="arguments passed to the script, as its sys.argv[1:]")
    rest.required = False  # argparse marks REMAINDER positionals required; none is fine.
    parser.set_defaults(handler=_run)


def build_parser():
    """The `python -m kerastorch` parser, with one subparser per verb."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="kerastorch: the Keras 3 API on PyTorch.")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB")
    _add_run(subparsers)
    parser.set_defaults(handler=None, verbs=tuple(subparsers.choices))
    return parser


def main(argv=None):
    """Parses `argv` (default `sys.argv[1:]`), runs the verb, and returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)  # An unknown verb exits 2 with the usage.
    if args.handler is None:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: a verb is required (one of: {', '.join(args.verbs)})",
              file=sys.stderr)
        return 2
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())

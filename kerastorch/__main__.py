"""The command line: `python -m kerastorch VERB ...`.

Verbs:
    run SCRIPT [ARGS...]   Run a Keras script on kerastorch: install the `keras` alias, then run
                           SCRIPT as `python SCRIPT ARGS...` would (`sys.argv`, `__main__`,
                           the script's folder first on `sys.path`).
    convert IN OUT         Convert a saved model (`.keras`, `.h5`, `.pt`) to a torch state dict
                           (`.pt`, loadable with `torch.load(weights_only=True)` into the module
                           that `to_source` writes), a `.keras` file, or PyTorch source (`.py`).
    summary FILE           Print the saved model's `summary()`.

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


MODEL_SUFFIXES = (".keras", ".h5", ".pt")
CONVERT_SUFFIXES = (".pt", ".keras", ".py")


def _suffix(path):
    return os.path.splitext(path)[1].lower()


def _check_model_file(verb, path):
    """An error message for a model file that cannot be read, or None."""
    if _suffix(path) not in MODEL_SUFFIXES:
        return (f"{PROG} {verb}: cannot read {path!r}: the file name must end in one of "
                f"{', '.join(MODEL_SUFFIXES)}")
    if not os.path.isfile(path):
        return f"{PROG} {verb}: no such file: {path!r}"
    return None


def _load(verb, path):
    """(model, None) or (None, error message)."""
    from kerastorch import saving
    load_model = getattr(saving, "load_model", None)
    if load_model is None:
        return None, (f"{PROG} {verb}: this kerastorch cannot read model files yet "
                      "(kerastorch.saving.load_model is missing)")
    try:
        return load_model(path), None
    except Exception as err:  # noqa: BLE001 - reported to the user, exit status 1
        return None, f"{PROG} {verb}: could not load {path!r}: {err}"


def _convert(args):
    src, dst = args.input, args.output
    problem = _check_model_file("convert", src)
    if problem is None and _suffix(dst) not in CONVERT_SUFFIXES:
        problem = (f"{PROG} convert: cannot write {dst!r}: the output name must end in one of "
                   f"{', '.join(CONVERT_SUFFIXES)}")
    if problem is None and os.path.abspath(src) == os.path.abspath(dst):
        problem = f"{PROG} convert: the output {dst!r} is the input file"
    if problem is None and not os.path.isdir(os.path.dirname(os.path.abspath(dst))):
        problem = f"{PROG} convert: the folder of {dst!r} does not exist"
    if problem:
        print(problem, file=sys.stderr)
        return 2
    model, problem = _load("convert", src)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    suffix = _suffix(dst)
    try:
        if suffix == ".pt":
            from kerastorch.saving.torch_format import atomic_save
            atomic_save(model.state_dict(), dst)
        elif suffix == ".keras":
            model.save(dst)
        else:
            from kerastorch.export import to_source
            _atomic_write_text(dst, to_source(model))
    except Exception as err:  # noqa: BLE001
        print(f"{PROG} convert: could not write {dst!r}: {err}", file=sys.stderr)
        return 1
    print(f"Wrote {dst}")
    return 0


def _atomic_write_text(path, text):
    from kerastorch.saving.file_safety import atomic_write
    with atomic_write(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)


def _summary(args):
    problem = _check_model_file("summary", args.file)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    model, problem = _load("summary", args.file)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    model.summary()
    return 0


def _add_convert(subparsers):
    parser = subparsers.add_parser(
        "convert", help="convert a saved model to a torch state dict, .keras, or PyTorch source",
        description="Convert IN (.keras, .h5 or .pt) to OUT: .pt (the torch state dict, "
                    "loadable with torch.load(weights_only=True) into the module written by "
                    "to_source), .keras, or .py (standalone PyTorch source).")
    parser.add_argument("input", metavar="IN", help="the saved model (.keras, .h5, .pt)")
    parser.add_argument("output", metavar="OUT", help="the file to write (.pt, .keras, .py)")
    parser.set_defaults(handler=_convert)


def _add_summary(subparsers):
    parser = subparsers.add_parser("summary", help="print a saved model's summary",
                                   description="Load FILE and print model.summary().")
    parser.add_argument("file", metavar="FILE", help="the saved model (.keras, .h5, .pt)")
    parser.set_defaults(handler=_summary)


def build_parser():
    """The `python -m kerastorch` parser, with one subparser per verb."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="kerastorch: the Keras 3 API on PyTorch.")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB")
    _add_run(subparsers)
    _add_convert(subparsers)
    _add_summary(subparsers)
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

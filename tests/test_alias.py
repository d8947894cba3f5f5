"""The `keras` alias and `python -m kerastorch run`, each in a fresh Python.

The real Keras is installed in this venv and the test process may have imported it, so every
check runs in a subprocess.
"""

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    env.setdefault("KERAS_BACKEND", "jax")  # for the real Keras, where a test imports it
    env.setdefault("KERASTORCH_DEVICE", "cpu")
    return env


def run_python(args, cwd=None):
    return subprocess.run([sys.executable, *args], cwd=cwd or ROOT, env=_env(),
                          capture_output=True, text=True, timeout=300)


def run_code(code, cwd=None):
    result = run_python(["-c", textwrap.dedent(code)], cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_alias_resolves_to_kerastorch():
    out = run_code("""
        import sys
        from kerastorch.compat import install_keras_alias
        import kerastorch, kerastorch.datasets.mnist, kerastorch.utils

        assert install_keras_alias() is kerastorch
        install_keras_alias()  # twice is harmless
        # Eager: already in sys.modules before any `import keras...`.
        assert sys.modules["keras.datasets.mnist"] is kerastorch.datasets.mnist
        assert sys.modules["keras.utils"] is kerastorch.utils

        import keras
        import keras.datasets.mnist
        from keras.utils import to_categorical
        from keras import datasets
        from keras.datasets import fashion_mnist
        assert keras is kerastorch
        assert keras.datasets.mnist is kerastorch.datasets.mnist
        assert datasets is kerastorch.datasets
        assert fashion_mnist is kerastorch.datasets.fashion_mnist
        assert to_categorical is kerastorch.utils.to_categorical

        # Lazy: private modules go through the finder, and keep their own spec.
        assert "keras.datasets._cache" not in sys.modules
        import keras.datasets._cache as cache
        import kerastorch.datasets._cache
        assert cache is kerastorch.datasets._cache
        assert cache.__spec__.name == "kerastorch.datasets._cache"
        assert kerastorch.datasets.__spec__.name == "kerastorch.datasets"

        try:
            import keras.no_such_namespace
        except ImportError as e:
            assert "kerastorch has no `no_such_namespace` yet" in str(e), e
        else:
            raise AssertionError("expected an ImportError")
        try:
            from keras.datasets import no_such_dataset
        except ImportError as e:
            assert "no_such_dataset" in str(e), e
        else:
            raise AssertionError("expected an ImportError")
        print("ok")
    """)
    assert out.strip() == "ok"


def test_uninstall():
    out = run_code("""
        import sys
        from kerastorch.compat import install_keras_alias, uninstall_keras_alias
        install_keras_alias()
        uninstall_keras_alias()
        assert not any(k == "keras" or k.startswith("keras.") for k in sys.modules)
        import importlib.util
        spec = importlib.util.find_spec("keras")
        print("kerastorch" not in (spec.origin or "") if spec else True)
    """)
    assert out.strip() == "True"


def test_refuses_when_real_keras_is_imported():
    result = run_python(["-c", textwrap.dedent("""
        import keras  # the real one
        from kerastorch.compat import install_keras_alias
        install_keras_alias()
    """)])
    assert result.returncode != 0
    assert "RuntimeError" in result.stderr
    assert "real `keras` is already imported" in result.stderr


def test_cli_runs_script_as_main(tmp_path):
    script = tmp_path / "scripts" / "train.py"
    script.parent.mkdir()
    (script.parent / "helper_mod.py").write_text("VALUE = 42\n")
    script.write_text(textwrap.dedent("""
        import sys
        import keras
        import keras.datasets.mnist
        import kerastorch
        import helper_mod  # found because the script's folder is first on sys.path
        print("argv", sys.argv)
        print("name", __name__)
        print("alias", keras is kerastorch,
              keras.datasets.mnist is sys.modules["kerastorch.datasets.mnist"])
        print("path0", sys.path[0])
        print("helper", helper_mod.VALUE)
        if __name__ == "__main__":
            sys.exit(7)
    """))
    result = run_python(["-m", "kerastorch", "run", str(script), "a", "--b", "-h"],
                        cwd=str(tmp_path))
    assert result.returncode == 7, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["argv"] == repr([str(script), "a", "--b", "-h"])
    assert lines["name"] == "__main__"
    assert lines["alias"] == "True True"
    assert lines["path0"] == os.path.realpath(script.parent)
    assert lines["helper"] == "42"

    relative = run_python(["-m", "kerastorch", "run", "scripts/train.py"], cwd=str(tmp_path))
    assert relative.returncode == 7, relative.stderr
    assert "argv ['scripts/train.py']" in relative.stdout


def test_cli_usage_and_errors(tmp_path):
    for args in ([], ["frobnicate"]):
        result = run_python(["-m", "kerastorch", *args])
        assert result.returncode == 2
        assert "usage:" in result.stderr and "run" in result.stderr
    missing = run_python(["-m", "kerastorch", "run", str(tmp_path / "nope.py")])
    assert missing.returncode == 2
    assert "nope.py" in missing.stderr and "no such file" in missing.stderr
    failing = tmp_path / "fails.py"
    failing.write_text("raise ValueError('boom')\n")
    result = run_python(["-m", "kerastorch", "run", str(failing)])
    assert result.returncode == 1 and "ValueError: boom" in result.stderr

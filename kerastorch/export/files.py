"""`Model.export(filepath, format=...)`: ONNX (`torch.onnx.export`) and torch.export programs
(`torch.export.save`, `.pt2`)."""

import importlib.util
import os

import torch

FORMATS = ("onnx", "torch")
_SUFFIX_FORMATS = {".onnx": "onnx", ".pt2": "torch"}


def export_model(model, filepath, format=None, verbose=None, input_signature=None, **kwargs):
    """Write `model` for serving.

    Args:
        model: A built kerastorch model.
        filepath: Destination; `.onnx` or `.pt2` picks the format when `format` is None.
        format: `"onnx"` or `"torch"` (a `torch.export` program, `torch.export.save`). Keras'
            `"tf_saved_model"` needs TensorFlow and is not available.
        verbose: Print where the file went (default True, as Keras).
        input_signature: Optional example inputs (a tensor, or a list of tensors for several
            inputs); by default zeros of the model's input shapes with batch size 2 (the batch
            axis is exported as dynamic).
        **kwargs: Passed to `torch.onnx.export` / `torch.export.export`.
    """
    path = os.fspath(filepath)
    suffix = os.path.splitext(path)[1].lower()
    if format is None:
        format = _SUFFIX_FORMATS.get(suffix)
        if format is None:
            raise ValueError("Cannot infer the export format from the file name: use a '.onnx' "
                             "or '.pt2' suffix, or pass format='onnx' or format='torch'. "
                             f"Received: filepath={path!r}")
    if format == "tf_saved_model":
        raise ValueError("format='tf_saved_model' needs TensorFlow; kerastorch exports "
                         "format='onnx' or format='torch'.")
    if format not in FORMATS:
        raise ValueError(f"Unrecognized format={format!r}. Supported formats are: "
                         f"{list(FORMATS)}.")
    if format == "onnx" and importlib.util.find_spec("onnx") is None:
        raise ImportError("Exporting to ONNX needs the `onnx` package (and `onnxscript` for "
                          "torch's exporter): `pip install onnx onnxscript`.")
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built: call it on data before exporting.")
    args = _example_inputs(model, input_signature)
    was_training = model.training
    model.eval()
    try:
        if format == "torch":
            program = torch.export.export(model, args, dynamic_shapes=_dynamic(args), **kwargs)
            torch.export.save(program, path)
        else:
            torch.onnx.export(model, args, path, dynamic_shapes=_dynamic(args), **kwargs)
    finally:
        model.train(was_training)
    if verbose is None or verbose:
        print(f"Saved artifact at '{path}'.")


def _example_inputs(model, signature):
    if signature is not None:
        inputs = signature if isinstance(signature, (list, tuple)) else [signature]
        return tuple(torch.as_tensor(t) for t in inputs)
    shapes = model.input_shape
    if shapes is None:
        raise ValueError(f"Model '{model.name}' has no known input shape: pass "
                         "`input_signature`.")
    shapes = shapes if isinstance(shapes, list) else [shapes]
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    out = []
    for shape in shapes:
        if any(d is None for d in shape[1:]):
            raise ValueError(f"Model '{model.name}' has an input of shape {shape} with unknown "
                             "dimensions: pass `input_signature` with example tensors.")
        out.append(torch.zeros((2, *shape[1:]), device=device))
    if len(out) > 1:  # a functional model with several inputs takes them as one list
        return (out,)
    return tuple(out)


def _dynamic(args):
    batch = torch.export.Dim("batch")

    def spec(a):
        if isinstance(a, (list, tuple)):
            return [spec(t) for t in a]
        return {0: batch}
    return tuple(spec(a) for a in args)

"""`to_torch(model)`: the model as a plain PyTorch module, with no kerastorch class inside.

- A `Sequential` model whose layers all have torch module twins becomes an `nn.Sequential` of
  torch modules (layouts moved with `torchvision.ops.Permute` where channels_last images meet
  torch's channels-first convolutions). Keys: each weighted module sits under its Keras layer
  name, so `state_dict()` has the kerastorch model's keys.
- Anything else (functional graphs, layers written as tensor expressions) becomes an instance of
  the `nn.Module` class that `to_source` writes, compiled from that source. Pickling such an
  instance (`torch.save(module)`) stores the class source with it, so `torch.load` works in a
  process that never imports kerastorch (with `weights_only=False`, as for any whole module).

The result holds copies of the weights, on the model's device, in eval mode (Keras' inference:
Dropout off, BatchNorm on moving statistics); call `.train()` to train it.
"""

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from kerastorch.export import program as P
from kerastorch.export.source import module_only_source


def _permute_cls():
    try:
        from torchvision.ops import Permute
    except ImportError:  # no torchvision: the generated module permutes with tensor methods
        return None
    return Permute


def to_torch(model):
    """A plain `torch.nn.Module` computing what `model` computes (inference mode).

    Args:
        model: A built kerastorch `Sequential` or functional model.

    Returns:
        `nn.Sequential` of torch modules where the model is a stack of layers with torch twins,
        else an instance of a generated `nn.Module` class (`to_source`'s). Its state dict keys
        equal `model.state_dict()`'s.
    """
    prog = P.build_program(model)
    permute = _permute_cls()
    state = model.state_dict()
    if prog.sequential is not None and (permute is not None or not any(
            ctor.startswith("Permute(") for _, ctor in prog.sequential)):
        namespace = {"nn": nn, "torch": torch, "F": F, "Permute": permute}
        module = nn.Sequential(OrderedDict(
            (key, eval(ctor, namespace)) for key, ctor in prog.sequential))  # noqa: S307
    else:
        module = instantiate(module_only_source(model, prog))
    module.load_state_dict(state)
    device = next((t.device for t in state.values()), None)
    if device is not None:
        module.to(device)
    return module.eval()


def instantiate(source, cls_name="Model"):
    """Run generated `source` (imports only torch) and return a new `cls_name()` whose pickle
    carries the source (see the module docstring)."""
    namespace = {"__name__": "generated_torch_model"}
    exec(compile(source, "<kerastorch.export>", "exec"), namespace)  # noqa: S102
    cls = namespace[cls_name]
    cls.__reduce__ = _reducer(source, cls_name)
    cls.__module__ = "generated_torch_model"
    return cls()


def _reducer(source, cls_name):
    rebuild = ("(lambda ns: (exec(%r, ns), ns[%r].__new__(ns[%r]))[1])"
               "({'__name__': 'generated_torch_model'})" % (source, cls_name, cls_name))

    def __reduce__(self):
        # eval(rebuild) re-creates the class from its source (torch only) and an empty
        # instance; pickle then restores its __dict__ (submodules, parameters, buffers).
        return (eval, (rebuild,), dict(self.__dict__))

    return __reduce__

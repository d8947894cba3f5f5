"""PyTorch out: `to_torch(model)` (a plain torch module), `to_source(model)` (its standalone
source, with the training loop of a compiled model), and `export_model` behind `Model.export`
(ONNX via `torch.onnx.export`, `.pt2` via `torch.export`)."""

from kerastorch.export.files import export_model as export_model
from kerastorch.export.source import to_source as to_source
from kerastorch.export.steps import Unsupported as Unsupported
from kerastorch.export.to_torch import to_torch as to_torch

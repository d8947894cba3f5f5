"""Trainer plumbing around the data: device placement, the first-batch check (the model is
built and the loss and metrics are tried on one row before any weight changes), and the
`*_on_batch` methods."""

import torch

from kerastorch import config
from kerastorch.mixed_precision import step as mp_step
from kerastorch.trainers import data_adapters as da


def shapes(tree) -> str:
    """`(32, 3)`, or a list/dict of shapes, for error messages."""
    if isinstance(tree, torch.Tensor):  # the check runs on one row: show it as `batch`
        return str(("batch",) + tuple(tree.shape[1:])).replace("'", "")
    if isinstance(tree, (list, tuple)):
        return "[" + ", ".join(shapes(t) for t in tree) + "]"
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {shapes(v)}" for k, v in tree.items()) + "}"
    return repr(tree)


class DataChecks:
    """Mixed into `Trainer`."""

    def _to_device(self):
        # The step runner (None: the plain steps) for autocast, loss scaling, jit and DDP. It
        # may initialise the process group, which selects this process' CUDA device, so it
        # comes before the model moves.
        self._step_runner = mp_step.runner_for(self)
        dev = config.device()
        if getattr(self, "_on_device", None) != dev:
            self.to(dev)
            self._on_device = dev
        return dev

    def _prepare(self, what):
        """Model and optimizer on the device; per-run caches reset."""
        self._assert_compiled(what)
        dev = self._to_device()
        self._regularized = None
        self._constrained = []
        self._first_batch_pending = False
        if not hasattr(self, "_output_trackers"):
            self._output_trackers = {}
        return dev

    def _check_first_batch(self, x, y, sample_weight):
        """Build the model and run loss + metrics on one row before training, so shape errors
        surface with nothing changed (metric state is left as it was). Skipped when data of
        the same trailing shapes and dtypes already passed it with this compile."""
        key = tuple((tuple(t.shape[1:]), t.dtype, t.device)
                    for t in da.tree_leaves((x, y, sample_weight)))
        key = (key, id(self._compile_loss), id(self._compile_metrics), len(self._stack)
               if hasattr(self, "_stack") else 0)
        if key == self.__dict__.get("_checked_key"):
            self._refresh_layer_lists()
            return
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode(False), torch.no_grad():
                first = da.tree_map(lambda t: t[:1], x)
                y_pred = self(first)
                if y is not None:
                    yt = da.tree_map(lambda t: t[:1], y)
                    sw = da.tree_map(lambda t: t[:1], sample_weight)
                    if self._compile_loss is not None:
                        self._check_loss(yt, y_pred, sw)
                    if self._compile_metrics is not None:
                        if not self._compile_metrics.built:
                            self._compile_metrics.build(yt, y_pred)
                        self._compile_metrics.check(yt, y_pred, sw)
        finally:
            self.train(was_training)
        self._refresh_layer_lists()
        params = list(self.parameters())
        if params and not getattr(self.optimizer, "built", True):  # torch.optim's are built
            self.optimizer.build(params)
        self.__dict__["_checked_key"] = key

    def _check_loss(self, y_true, y_pred, sample_weight):
        try:
            self._compile_loss(y_true, y_pred, sample_weight)
        except Exception as e:
            raise ValueError(
                f"The loss {self.loss!r} does not fit the targets and the model's outputs: "
                f"targets of shape {shapes(y_true)}, outputs of shape "
                f"{shapes(y_pred)}. {type(e).__name__}: {e}") from e

    # ------------------------------------------------------------------ *_on_batch
    def _one_batch(self, x, y, sample_weight, class_weight=None):
        dev = config.device()
        x, y = da.to_device(x, dev, "x"), da.to_device(y, dev, "y")
        sample_weight = da.to_device(sample_weight, dev, "sample_weight")
        if class_weight is not None:
            sample_weight = da.ClassWeights(class_weight)(y, sample_weight)
        da.num_samples(("x", x), ("y", y), ("sample_weight", sample_weight))
        return x, y, sample_weight

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One step on one batch; metrics keep accumulating across calls, as in Keras 3."""
        self._prepare("train_on_batch")
        x, y, sample_weight = self._one_batch(x, y, sample_weight, class_weight)
        self._check_first_batch(x, y, sample_weight)
        self.train()
        try:
            logs = self.train_step(da.pack_x_y_sample_weight(x, y, sample_weight))
        finally:
            self.eval()
        return self._batch_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss and metrics on one batch (metrics keep accumulating across calls)."""
        self._prepare("test_on_batch")
        x, y, sample_weight = self._one_batch(x, y, sample_weight)
        self._check_first_batch(x, y, sample_weight)
        self.eval()
        with torch.no_grad():
            logs = self.test_step(da.pack_x_y_sample_weight(x, y, sample_weight))
        return self._batch_result(logs, return_dict)

    def predict_on_batch(self, x):
        """Outputs for one batch, as numpy arrays."""
        dev = self._to_device()
        self.eval()
        with torch.inference_mode():
            return da.concat_to_numpy([self.predict_step(da.to_device(x, dev, "x"))])

"""What `compile(loss=..., metrics=...)` turns into: `CompileLoss` and `CompileMetrics`.

Strings are resolved at `compile` (an unknown name fails there, listing close matches), except
`"accuracy"`/`"acc"`, whose kind Keras picks from the shapes of the first batch.
"""

import copy

import torch

from kerastorch import losses as losses_mod
from kerastorch.losses import squeeze_or_expand_to_same_rank
from kerastorch import metrics as metrics_mod

_SHAPE_DEPENDENT = ("accuracy", "acc", "crossentropy", "ce")


def _pick(structure, key, names):
    """The entry of `structure` (list, tuple or dict of per-output values) for output `key`
    (an output name or index); a single value stands for every output."""
    if isinstance(structure, dict):
        return structure[key if isinstance(key, str) else names[key]]
    if isinstance(structure, (list, tuple)):
        return structure[names.index(key) if isinstance(key, str) else key]
    return structure


class CompileLoss:
    """The loss of a compiled model: one loss per output, weighted by `loss_weights`.

    Returns the total; per-output values are kept (detached) for `History` when the model has
    several outputs (`dense_1_loss`, ...).
    """

    def __init__(self, loss, loss_weights=None, output_names=None):
        self.output_names = list(output_names or [])
        self.structure = loss
        if isinstance(loss, dict):
            self.losses = {k: self._resolve(v) for k, v in loss.items()}
        elif isinstance(loss, (list, tuple)):
            self.losses = [self._resolve(v) for v in loss]
        else:
            self.losses = self._resolve(loss)
        if (not isinstance(loss, (list, tuple, dict)) and
                isinstance(loss_weights, (list, tuple, dict)) and len(loss_weights) != 1):
            raise ValueError("`loss_weights` must match the number of losses, got 1 losses "
                             f"and {len(loss_weights)} weights.")
        self.loss_weights = loss_weights
        self.per_output = None
        self._several = isinstance(self.losses, (list, dict))

    @staticmethod
    def _resolve(identifier):
        if identifier is None:
            return None
        obj = losses_mod.get(identifier)
        if isinstance(obj, losses_mod.Loss):
            return obj
        if not callable(obj):
            raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
        name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", "loss")
        return losses_mod.LossFunctionWrapper(obj, name=name)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if type(y_pred) is torch.Tensor and type(y_true) is torch.Tensor and not self._several:
            return self.losses(y_true, y_pred, sample_weight)
        if not isinstance(self.losses, (list, dict)):
            if isinstance(y_pred, (list, tuple)) and len(y_pred) == 1:
                y_pred = y_pred[0]
            if isinstance(y_true, (list, tuple)) and len(y_true) == 1:
                y_true = y_true[0]
            if isinstance(y_pred, (list, tuple, dict)):
                # one loss for several outputs: Keras applies it to each (`a_loss`, `b_loss`)
                single = self.losses
                self.losses = ({k: single for k in y_pred} if isinstance(y_pred, dict)
                               else [single] * len(y_pred))
                self._several = True
                return self._multi(y_true, y_pred, sample_weight)
            return self.losses(y_true, y_pred, sample_weight)
        return self._multi(y_true, y_pred, sample_weight)

    def _multi(self, y_true, y_pred, sample_weight):
        names = self.output_names
        keys = list(self.losses) if isinstance(self.losses, dict) else list(range(len(
            self.losses)))
        total, parts = 0.0, {}
        for i, key in enumerate(keys):
            fn = self.losses[key]
            if fn is None:
                continue
            if isinstance(key, str) and key not in names:
                raise ValueError(f"`loss` names output '{key}', but the model's outputs are "
                                 f"{names}.")
            value = fn(_pick(y_true, key, names), _pick(y_pred, key, names),
                       _pick(sample_weight, key, names))
            name = key if isinstance(key, str) else (names[i] if i < len(names) else f"output_{i}")
            parts[f"{name}_loss"] = value.detach()  # Keras records the *unweighted* value
            w = self.loss_weights
            if isinstance(w, dict):
                value = value * w.get(key, 1.0)
            elif isinstance(w, (list, tuple)):
                value = value * w[i]
            total = total + value
        self.per_output = parts
        return total


class CompileMetrics:
    """`compile(metrics=..., weighted_metrics=...)`; metric objects are made on first update."""

    def __init__(self, metrics=None, weighted_metrics=None, output_names=None):
        self.output_names = list(output_names or [])
        self._spec = metrics
        self._weighted_spec = weighted_metrics
        for identifier in _flat_identifiers(metrics) + _flat_identifiers(weighted_metrics):
            if isinstance(identifier, str) and identifier not in _SHAPE_DEPENDENT:
                metrics_mod.get(identifier)  # fail at compile on unknown names
        self.metrics = []  # flat list of (metric, output_index_or_key, weighted)
        self.log_names = []  # each metric's name in the logs
        self.built = False
        self._direct = None
        self.name = "compile_metrics"

    def build(self, y_true, y_pred):
        entries = []
        multi = isinstance(y_pred, (list, tuple, dict)) and not (
            isinstance(y_pred, (list, tuple)) and len(y_pred) == 1)
        for spec, weighted in ((self._spec, False), (self._weighted_spec, True)):
            if spec is None:
                continue
            if not multi:
                yt = y_true[0] if isinstance(y_true, (list, tuple)) else y_true
                yp = y_pred[0] if isinstance(y_pred, (list, tuple)) else y_pred
                for ident in (spec if isinstance(spec, (list, tuple)) else [spec]):
                    entries.append((self._make(ident, yt, yp, weighted), None, weighted))
                continue
            # a list with one entry per output (Keras), else every metric for every output
            per_output = spec if isinstance(spec, dict) else (
                dict(enumerate(spec)) if spec and (isinstance(spec[0], (list, tuple, dict))
                                                   or len(spec) == len(y_pred))
                else {i: spec for i in range(len(y_pred))})
            for key, idents in per_output.items():
                if idents is None:
                    continue
                names = self.output_names
                yt, yp = _pick(y_true, key, names), _pick(y_pred, key, names)
                for ident in (idents if isinstance(idents, (list, tuple)) else [idents]):
                    m = self._make(ident, yt, yp, weighted)
                    if any(m is e[0] for e in entries):  # one object for several outputs
                        m = copy.deepcopy(m)
                    entries.append((m, key, weighted))
        self.metrics = entries
        self.log_names = self._log_names(entries)
        # Single output, unweighted: the metrics to update with (y_true, y_pred) as they come.
        self._direct = [m for m, key, weighted in entries if key is None and not weighted] \
            if not multi and len(entries) == sum(1 for _, k, w in entries if not w) else None
        self.built = True

    def _log_names(self, entries) -> list:
        """Keras' names in the logs: `{output}_{metric.name}` for a metric of one output of
        several (the metric object keeps its own name), `_1`, `_2` added to repeats."""
        names, seen = [], {}
        for m, key, _ in entries:
            name = m.name if key is None else \
                f"{key if isinstance(key, str) else self.output_names[key]}_{m.name}"
            if name in seen:
                seen[name] += 1
                name = f"{name}_{seen[name] - 1}"
            else:
                seen[name] = 1
            names.append(name)
        return names

    @staticmethod
    def _make(identifier, y_true, y_pred, weighted):
        if isinstance(identifier, str) and identifier in _SHAPE_DEPENDENT:
            return metrics_mod.resolve_accuracy(identifier, y_true, y_pred) \
                if identifier in ("accuracy", "acc") else \
                metrics_mod.resolve_crossentropy(identifier, y_true, y_pred)
        m = metrics_mod.get(identifier)
        if isinstance(m, metrics_mod.Metric):
            if isinstance(identifier, str):
                m.name = identifier
            return m
        name = identifier if isinstance(identifier, str) else m.__name__
        return metrics_mod.MeanMetricWrapper(m, name=name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        direct = self._direct
        if direct is not None and type(y_pred) is torch.Tensor and type(y_true) is torch.Tensor:
            for metric in direct:  # the per-batch hot path
                metric.update_state(y_true, y_pred)
            return
        for metric, key, weighted in self.metrics:
            if key is None:
                yt = y_true[0] if isinstance(y_true, (list, tuple)) else y_true
                yp = y_pred[0] if isinstance(y_pred, (list, tuple)) else y_pred
            else:
                names = self.output_names
                yt, yp = _pick(y_true, key, names), _pick(y_pred, key, names)
            sw = sample_weight if weighted else None
            if isinstance(sw, (list, tuple, dict)):
                sw = _pick(sw, key if key is not None else 0, self.output_names)
            metric.update_state(yt, yp, sw)

    def check(self, y_true, y_pred, sample_weight=None):
        """Try every metric on a sample batch, leaving its state as it was: a metric that does
        not fit the targets fails here, naming itself and the shapes, before any training."""
        for metric, key, weighted in self.metrics:
            if key is None:
                yt = y_true[0] if isinstance(y_true, (list, tuple)) else y_true
                yp = y_pred[0] if isinstance(y_pred, (list, tuple)) else y_pred
            else:
                yt, yp = (_pick(y_true, key, self.output_names),
                          _pick(y_pred, key, self.output_names))
            sw = sample_weight if weighted else None
            if isinstance(sw, (list, tuple, dict)):
                sw = _pick(sw, key if key is not None else 0, self.output_names)
            _check_metric_shapes(metric, yt, yp)
            probe = copy.deepcopy(metric)  # the metric's own state stays as it is
            try:
                probe.update_state(yt, yp, sw)
            except Exception as e:
                raise ValueError(f"Metric `{metric.name}` ({type(metric).__name__}) could not "
                                 f"be computed for targets of shape {_shape(yt)} and model "
                                 f"outputs of shape {_shape(yp)}. {type(e).__name__}: "
                                 f"{e}") from e

    def reset_state(self):
        for metric, _, _ in self.metrics:
            metric.reset_state()

    def result(self) -> dict[str, torch.Tensor]:
        """Keras' CompileMetrics is one metric whose result is a dict."""
        return {name: metric.result() for name, (metric, _, _) in zip(self.log_names,
                                                                      self.metrics)}

    @property
    def variables(self) -> list:
        return [v for metric, _, _ in self.metrics for v in metric.variables]


def _flat_identifiers(spec) -> list:
    if spec is None:
        return []
    if isinstance(spec, dict):
        return [i for v in spec.values() for i in _flat_identifiers(v)]
    if isinstance(spec, (list, tuple)):
        return [i for v in spec for i in _flat_identifiers(v)]
    return [spec]


def _shape(t) -> str:
    """A batch's shape with the batch dimension as `batch` (the check runs on one row)."""
    dims = tuple(getattr(t, "shape", ()))
    return str(("batch",) + dims[1:]).replace("'", "") if dims else "()"


_SPARSE = ("sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy")
_ONE_HOT = ("categorical_accuracy", "top_k_categorical_accuracy")
_ELEMENTWISE = ("binary_accuracy", "accuracy")


def _check_metric_shapes(metric, y_true, y_pred):
    """Shape rules for the accuracy metrics, whose comparisons would otherwise broadcast
    mismatched targets into a silently wrong number."""
    if not (isinstance(y_true, torch.Tensor) and isinstance(y_pred, torch.Tensor)):
        return
    fn = getattr(getattr(metric, "_fn", None), "__name__", "")
    t, p = tuple(y_true.shape), tuple(y_pred.shape)
    if fn in _SPARSE:
        ok = len(t) == len(p) - 1 or (len(t) == len(p) and t[-1] == 1)
        expected = (f"integer class targets of shape {_shape(y_pred[..., 0])} or "
                    f"{_shape(y_pred[..., :1])} (use `categorical_accuracy` for one-hot "
                    "targets)")
    elif fn in _ONE_HOT:
        ok = t[1:] == p[1:]
        expected = (f"one-hot targets of the outputs' shape {_shape(y_pred)} (use "
                    "`sparse_categorical_accuracy` for integer class targets)")
    elif fn in _ELEMENTWISE:
        yt, yp = squeeze_or_expand_to_same_rank(y_true, y_pred)
        ok = yt.shape[1:] == yp.shape[1:]
        expected = f"targets of the outputs' shape {_shape(y_pred)}"
    else:
        return
    if not ok:
        raise ValueError(f"Metric `{metric.name}` ({fn}) expects {expected}. Received: targets "
                         f"of shape {_shape(y_true)} and model outputs of shape "
                         f"{_shape(y_pred)}.")

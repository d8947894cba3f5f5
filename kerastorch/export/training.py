"""Source of the training loop of a compiled model: Keras' loss, optimizer, metrics and `fit`,
written in plain torch (see `to_source`).

Each piece is chosen from the compiled model and written with Keras' formula; anything without
a translation raises `Unsupported` naming it (`to_source` then leaves the loop out, saying why).
"""

from kerastorch.export.steps import Unsupported

# ---------------------------------------------------------------------- losses
_LOSS_ALIASES = {
    "mse": "mean_squared_error", "MSE": "mean_squared_error",
    "MeanSquaredError": "mean_squared_error",
    "mae": "mean_absolute_error", "MAE": "mean_absolute_error",
    "MeanAbsoluteError": "mean_absolute_error",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
}

_LOSS_SOURCE = {
    "mean_squared_error": '''
def loss_fn(y_true, y_pred):
    """Keras' mean_squared_error: mean over the last axis, then over the batch."""
    return torch.mean(torch.square(y_true.to(y_pred.dtype) - y_pred))
''',
    "mean_absolute_error": '''
def loss_fn(y_true, y_pred):
    """Keras' mean_absolute_error: mean over the last axis, then over the batch."""
    return torch.mean(torch.abs(y_true.to(y_pred.dtype) - y_pred))
''',
    "categorical_crossentropy": '''
def loss_fn(y_true, y_pred):
    """Keras' categorical_crossentropy (from_logits={from_logits}, label_smoothing={ls})."""
    y_true = y_true.to(y_pred.dtype)
    if LABEL_SMOOTHING:
        y_true = y_true * (1 - LABEL_SMOOTHING) + LABEL_SMOOTHING / y_pred.shape[-1]
    if FROM_LOGITS:
        return torch.mean(-torch.sum(y_true * torch.log_softmax(y_pred, dim=-1), dim=-1))
    # Keras renormalises the probabilities, then clips them to [1e-7, 1 - 1e-7].
    y_pred = y_pred / torch.sum(y_pred, dim=-1, keepdim=True)
    y_pred = torch.clamp(y_pred, EPSILON, 1 - EPSILON)
    return torch.mean(-torch.sum(y_true * torch.log(y_pred), dim=-1))
''',
    "sparse_categorical_crossentropy": '''
def loss_fn(y_true, y_pred):
    """Keras' sparse_categorical_crossentropy (from_logits={from_logits}): integer targets."""
    y_true = y_true.reshape(y_pred.shape[:-1]).long()
    if FROM_LOGITS:
        log_probs = torch.log_softmax(y_pred, dim=-1)
    else:  # renormalise, clip to [1e-7, 1 - 1e-7], as Keras
        y_pred = y_pred / torch.sum(y_pred, dim=-1, keepdim=True)
        log_probs = torch.log(torch.clamp(y_pred, EPSILON, 1 - EPSILON))
    return torch.mean(-log_probs.gather(-1, y_true.unsqueeze(-1)).squeeze(-1))
''',
    "binary_crossentropy": '''
def loss_fn(y_true, y_pred):
    """Keras' binary_crossentropy (from_logits={from_logits}, label_smoothing={ls})."""
    y_true = y_true.to(y_pred.dtype)
    if LABEL_SMOOTHING:
        y_true = y_true * (1 - LABEL_SMOOTHING) + 0.5 * LABEL_SMOOTHING
    if FROM_LOGITS:
        bce = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:  # Keras clips the probabilities to [1e-7, 1 - 1e-7] (torch clamps the log at -100)
        y_pred = torch.clamp(y_pred, EPSILON, 1 - EPSILON)
        bce = -(y_true * torch.log(y_pred) + (1 - y_true) * torch.log(1 - y_pred))
    return torch.mean(torch.mean(bce, dim=-1))
''',
}


def loss_source(model):
    loss = model.loss
    if isinstance(loss, (list, tuple, dict)):
        raise Unsupported("several losses (multi-output models) are not translated")
    config = {}
    if isinstance(loss, str):
        name = loss
    elif callable(loss) and not hasattr(loss, "get_config"):
        name = getattr(loss, "__name__", repr(loss))
    else:
        name = type(loss).__name__
        config = loss.get_config()
        if config.get("reduction", "sum_over_batch_size") != "sum_over_batch_size":
            raise Unsupported(f"loss reduction {config['reduction']!r} is not translated")
        if config.get("axis", -1) != -1 or config.get("ignore_class") is not None:
            raise Unsupported("loss `axis`/`ignore_class` are not translated")
    name = _LOSS_ALIASES.get(name, name)
    if name not in _LOSS_SOURCE:
        raise Unsupported(f"loss {name!r} is not translated")
    from_logits = bool(config.get("from_logits", False))
    ls = float(config.get("label_smoothing", 0.0))
    head = f"EPSILON = 1e-7  # Keras' backend epsilon\nFROM_LOGITS = {from_logits}\n" \
           f"LABEL_SMOOTHING = {ls!r}\n\n"
    return head + _LOSS_SOURCE[name].replace("{from_logits}", str(from_logits)) \
        .replace("{ls}", repr(ls))


# ---------------------------------------------------------------------- optimizers
_OPT_BASE = '''
class KerasOptimizer:
    """What every Keras optimizer does around its update rule: gradient clipping
    (clipnorm / clipvalue / global_clipnorm), decoupled weight decay `var -= var * wd * lr`
    before the update, and `iterations`. Hyperparameters:{config}."""

    def __init__(self, params, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None):
        self.params = [p for p in params if p.requires_grad]
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.iterations = 0
        self.build()

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        pairs = [(p, p.grad) for p in self.params if p.grad is not None]
        grads = [g for _, g in pairs]
        if self.clipnorm:
            grads = [g * (self.clipnorm / torch.clamp(torch.linalg.vector_norm(g),
                                                      min=self.clipnorm)) for g in grads]
        if self.clipvalue:
            grads = [torch.clamp(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.global_clipnorm:
            norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g)
                                                         for g in grads]))
            grads = [g * (self.global_clipnorm / torch.clamp(norm, min=self.global_clipnorm))
                     for g in grads]
        lr = self.learning_rate
        if self.weight_decay:
            for p, _ in pairs:
                p.sub_(p * self.weight_decay * lr)
        self.iterations += 1
        for p, g in zip([p for p, _ in pairs], grads):
            self.update(p, g, self.slots[p], lr)
'''

_OPTIMIZERS = {
    "SGD": ('''
class SGD(KerasOptimizer):
    """Keras' SGD: `velocity = momentum * velocity - lr * g`; `var += velocity` (Nesterov:
    `var += momentum * velocity - lr * g`). torch.optim.SGD keeps lr outside the velocity
    (`buf = momentum * buf + g; var -= lr * buf`): the same path at a constant learning rate."""

    def __init__(self, params, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        self.momentum, self.nesterov = momentum, nesterov
        super().__init__(params, learning_rate, **kwargs)

    def build(self):
        self.slots = {p: torch.zeros_like(p) for p in self.params}

    def update(self, var, g, velocity, lr):
        if not self.momentum:
            var.sub_(lr * g)
            return
        velocity.mul_(self.momentum).sub_(lr * g)
        if self.nesterov:
            var.add_(self.momentum * velocity - lr * g)
        else:
            var.add_(velocity)
''', ("momentum", "nesterov")),
    "Adam": ('''
class Adam(KerasOptimizer):
    """Keras' Adam: `m += (g - m) * (1 - beta_1)`, `v += (g^2 - v) * (1 - beta_2)`,
    `var -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`. torch.optim.Adam
    puts epsilon inside the bias correction (`sqrt(v / (1 - beta_2^t)) + eps`): with Keras'
    epsilon=1e-7 the two differ while v is small."""

    def __init__(self, params, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad
        super().__init__(params, learning_rate, **kwargs)

    def build(self):
        self.slots = {p: [torch.zeros_like(p), torch.zeros_like(p), torch.zeros_like(p)]
                      for p in self.params}

    def update(self, var, g, slots, lr):
        m, v, v_hat = slots
        t = self.iterations
        alpha = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        m.add_((g - m) * (1 - self.beta_1))
        v.add_((g * g - v) * (1 - self.beta_2))
        if self.amsgrad:
            torch.maximum(v_hat, v, out=v_hat)
            v = v_hat
        var.sub_(m * alpha / (torch.sqrt(v) + self.epsilon))
''', ("beta_1", "beta_2", "epsilon", "amsgrad")),
    "RMSprop": ('''
class RMSprop(KerasOptimizer):
    """Keras' RMSprop: `velocity = rho * velocity + (1 - rho) * g^2`; centered: subtract the
    squared mean gradient; `increment = lr * g / sqrt(velocity + epsilon)` (epsilon inside the
    root, unlike torch.optim.RMSprop); with momentum `m = momentum * m + increment`."""

    def __init__(self, params, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered
        super().__init__(params, learning_rate, **kwargs)

    def build(self):
        self.slots = {p: [torch.zeros_like(p), torch.zeros_like(p), torch.zeros_like(p)]
                      for p in self.params}

    def update(self, var, g, slots, lr):
        velocity, momentum, average_grad = slots
        velocity.mul_(self.rho).add_((1 - self.rho) * g * g)
        denominator = velocity
        if self.centered:
            average_grad.mul_(self.rho).add_((1 - self.rho) * g)
            denominator = velocity - average_grad * average_grad
        increment = lr * g / torch.sqrt(denominator + self.epsilon)
        if self.momentum > 0:
            momentum.mul_(self.momentum).add_(increment)
            var.sub_(momentum)
        else:
            var.sub_(increment)
''', ("rho", "momentum", "epsilon", "centered")),
}
_OPTIMIZERS["AdamW"] = (_OPTIMIZERS["Adam"][0].replace(
    "class Adam(KerasOptimizer):", "class AdamW(KerasOptimizer):  # Adam + weight_decay"),
    _OPTIMIZERS["Adam"][1])


def optimizer_source(optimizer):
    """(class source, constructor call with Keras' hyperparameters)."""
    kind = type(optimizer).__name__
    if kind not in _OPTIMIZERS:
        raise Unsupported(f"optimizer {kind} is not translated")
    config = optimizer.get_config()
    if not isinstance(config.get("learning_rate"), (int, float)):
        raise Unsupported("learning-rate schedules are not translated")
    for key in ("use_ema", "loss_scale_factor", "gradient_accumulation_steps"):
        if config.get(key):
            raise Unsupported(f"optimizer `{key}` is not translated")
    source, names = _OPTIMIZERS[kind]
    args = [f"learning_rate={config['learning_rate']!r}"]
    args += [f"{n}={config[n]!r}" for n in names if n in config]
    args += [f"{n}={config[n]!r}" for n in ("weight_decay", "clipnorm", "clipvalue",
                                            "global_clipnorm") if config.get(n)]
    base = _OPT_BASE.replace("{config}", "\n    " + ", ".join(args))
    return base.strip() + "\n\n\n" + source.strip(), f"{kind}(params, {', '.join(args)})"


# ---------------------------------------------------------------------- metrics
_METRIC_FNS = {
    "accuracy": '''
def accuracy(y_true, y_pred):
    """Keras' "accuracy", resolved from the shapes: binary (threshold 0.5) when the output's
    last axis is 1, sparse when the targets have fewer axes, else categorical."""
    if y_pred.shape[-1] == 1:
        return binary_accuracy(y_true, y_pred)
    if y_true.dim() < y_pred.dim() or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1):
        return sparse_categorical_accuracy(y_true, y_pred)
    return categorical_accuracy(y_true, y_pred)
''',
    "binary_accuracy": '''
def binary_accuracy(y_true, y_pred):
    return (y_true.to(y_pred.dtype).reshape(y_pred.shape) == (y_pred > 0.5).to(y_pred.dtype)
            ).to(torch.float32).mean(dim=-1)
''',
    "categorical_accuracy": '''
def categorical_accuracy(y_true, y_pred):
    return (y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)).to(torch.float32)
''',
    "sparse_categorical_accuracy": '''
def sparse_categorical_accuracy(y_true, y_pred):
    return (y_true.reshape(y_pred.shape[:-1]).long() == y_pred.argmax(dim=-1)).to(torch.float32)
''',
    "mean_absolute_error": '''
def mean_absolute_error(y_true, y_pred):
    return torch.mean(torch.abs(y_true.to(y_pred.dtype) - y_pred), dim=-1)
''',
    "mean_squared_error": '''
def mean_squared_error(y_true, y_pred):
    return torch.mean(torch.square(y_true.to(y_pred.dtype) - y_pred), dim=-1)
''',
}
_METRIC_ALIASES = {"acc": "accuracy", "mae": "mean_absolute_error",
                   "mse": "mean_squared_error"}
_METRIC_NEEDS = {"accuracy": ["binary_accuracy", "categorical_accuracy",
                              "sparse_categorical_accuracy"]}


def metrics_source(model):
    """(functions source, [(history key, function name)])."""
    metrics = getattr(model, "_compile_metrics", None)
    spec = getattr(metrics, "_spec", None) or []
    if getattr(metrics, "_weighted_spec", None):
        raise Unsupported("weighted_metrics are not translated")
    if isinstance(spec, dict) or (spec and isinstance(spec[0], (list, tuple, dict))):
        raise Unsupported("per-output metrics are not translated")
    spec = spec if isinstance(spec, (list, tuple)) else [spec]
    pairs, needed = [], []
    for ident in spec:
        if isinstance(ident, str):
            key, fn = ident, _METRIC_ALIASES.get(ident, ident)
        else:
            key = getattr(ident, "name", None)
            fn = getattr(ident, "__name__", None) or _snake(type(ident).__name__)
            fn = _METRIC_ALIASES.get(fn, fn)
        if fn not in _METRIC_FNS:
            raise Unsupported(f"metric {key!r} is not translated")
        pairs.append((key, fn))
        for name in _METRIC_NEEDS.get(fn, []) + [fn]:
            if name not in needed:
                needed.append(name)
    return "\n\n\n".join(_METRIC_FNS[n].strip() for n in needed), pairs


def _snake(name):
    import re
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# ---------------------------------------------------------------------- the loop
FIT = '''
def _take(data, index):
    if isinstance(data, (list, tuple)):
        return [_take(d, index) for d in data]
    if isinstance(data, dict):
        return {{k: _take(v, index) for k, v in data.items()}}
    return data[index]


def fit(model, x, y, epochs=1, batch_size=32, shuffle=True):
    """Keras' `fit` on in-memory data: each epoch draws `torch.randperm(n)` on the data's
    device (the permutation kerastorch's `fit` draws; `shuffle=False` keeps the row order),
    cuts it into batches of `batch_size` (the last one smaller), and takes one optimizer step
    per batch in training mode. Returns Keras' `History.history`: per-epoch means, loss
    weighted by batch size. The optimizer lives on as `model.optimizer`, as in Keras."""
    if not hasattr(model, "optimizer"):
        params = model.parameters()
        model.optimizer = {optimizer}
    optimizer = model.optimizer
    first = x[0] if isinstance(x, (list, tuple)) else x
    n = first.shape[0]
    history = {{key: [] for key in sorted(["loss", {metric_keys}])}}
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n, device=first.device) if shuffle else None
        totals = {{key: 0.0 for key in history}}
        for start in range(0, n, batch_size):
            index = slice(start, start + batch_size) if order is None else \\
                order[start:start + batch_size]
            xb, yb = _take(x, index), _take(y, index)
            y_pred = model(*xb) if isinstance(xb, list) else model(xb)
            loss = loss_fn(yb, y_pred)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                size = yb.shape[0]
                totals["loss"] += float(loss) * size
{metric_updates}
        for key in history:
            history[key].append(totals[key] / n)
    return history
'''


def training_source(model):
    """The loss, optimizer, metrics and `fit` of compiled `model`, as source."""
    if not getattr(model, "compiled", False) or model.loss is None:
        raise Unsupported("the model is not compiled with a loss")
    if model.losses or _has_regularizers(model):
        raise Unsupported("regularization / add_loss penalties are not translated")
    loss = loss_source(model)
    opt_cls, opt_call = optimizer_source(model.optimizer)
    metric_fns, metric_pairs = metrics_source(model)
    updates = "\n".join(
        f"                totals[{key!r}] += float({fn}(yb, y_pred).sum())"
        for key, fn in metric_pairs)
    fit = FIT.format(optimizer=opt_call, metric_keys=", ".join(repr(k) for k, _ in
                                                                metric_pairs),
                     metric_updates=updates)
    sections = [("loss (Keras' formula)", loss), ("optimizer (Keras' update rule)", opt_cls),
                ("metrics", metric_fns), ("the training loop", fit)]
    return "".join(f"\n\n# ---- {title}\n{body.strip()}\n" for title, body in sections if body)


def _has_regularizers(model):
    return any(layer.__dict__.get("_regularizers") or getattr(layer, "activity_regularizer",
                                                                None) is not None
               for layer in model.modules() if hasattr(layer, "activity_regularizer"))

"""`SpectralNormalization`: divides a layer's kernel by its largest singular value."""

import torch

from kerastorch import config, initializers
from kerastorch.layers.layer import Layer
from kerastorch.layers.layer_utils import WeightView
from kerastorch.layers.rnn_wrappers import deserialize_layer, serialize_layer


def _l2_normalize(x):
    """Keras' `ops.normalize(x, axis=None)`: `x * min(rsqrt(sum(x**2)), 1 / epsilon)`."""
    return x * torch.clamp(torch.rsqrt(x.square().sum()), max=1.0 / config.epsilon())


class SpectralNormalization(Layer):
    """Wraps a layer with a `kernel` (or `embeddings`) and, in training, replaces that kernel
    by `kernel / sigma` before each call, `sigma` its largest singular value estimated by
    `power_iterations` steps of the power method from the kept vector `u` (Miyato et al.,
    2018). As in Keras the kernel itself is overwritten (no gradient through `sigma`), an
    all-zero kernel is left alone, and inference uses the kernel as it is.

    Args:
        layer: The wrapped layer (`Dense`, `Conv*`, `Embedding`, ...).
        power_iterations: Positive int (default 1).

    Weights: Keras' order, the kernel, `vector_u` `(1, kernel.shape[-1])` (non-trainable,
    truncated normal with stddev 0.02; a buffer here), then the layer's other weights. The
    power method works on Keras' layout of the kernel reshaped to `(-1, kernel.shape[-1])`
    (a Dense kernel `(in, out)`, a Conv2D kernel `(kh, kw, in, out)`), whatever torch's layout.
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer} supplied to Wrapper isn't a supported layer type. "
                             "Please ensure wrapped layer is a valid Keras layer.")
        if power_iterations <= 0:
            raise ValueError("`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        super().__init__(**kwargs)
        self.layer = layer
        self.power_iterations = power_iterations

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
            self.layer._build_shapes = input_shape
            if not self.layer.trainable:
                self.layer._set_requires_grad(False)
        views = {v.name: v for v in self.layer.keras_weight_views()}
        view = views.get("kernel") or views.get("embeddings")
        if view is None:
            raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' "
                             "nor 'embeddings'")
        self._kernel_view = view
        self.kernel_shape = tuple(view.keras_value().shape)
        u = initializers.TruncatedNormal(stddev=0.02)((1, self.kernel_shape[-1]))
        self.register_buffer("vector_u", u.to(device=view.tensor.device,
                                              dtype=view.tensor.dtype))
        self.built = True

    @property
    def kernel(self):  # Keras' view of the wrapped layer's kernel
        return self._kernel_view.keras_value()

    def keras_weight_views(self):
        if not self.built:
            return []
        return [self._kernel_view, WeightView("vector_u", self.vector_u)]

    def normalized_weights(self):
        """`(new vector_u, kernel / sigma)`, the kernel in Keras' layout."""
        kernel = self._kernel_view.keras_value()
        weights = kernel.reshape(-1, self.kernel_shape[-1])
        u = self.vector_u
        for _ in range(self.power_iterations):
            v = _l2_normalize(u @ weights.T)
            u = _l2_normalize(v @ weights)
        sigma = (v @ weights) @ u.T
        return u, (kernel / sigma).reshape(self.kernel_shape)

    @torch.no_grad()
    def _normalize_kernel(self):
        view = self._kernel_view
        kernel = view.keras_value()
        new_u, new_kernel = self.normalized_weights()
        zero = (kernel == 0).all()  # Keras leaves an all-zero kernel (and u) as they are
        new_kernel = torch.where(zero, kernel, new_kernel)
        self.vector_u.copy_(torch.where(zero, self.vector_u, new_u))
        view.tensor.copy_(view.from_keras(new_kernel) if view.from_keras else new_kernel)

    def call(self, inputs, training=None):
        if self.resolve_training(training):
            self._normalize_kernel()
        output = self.layer(inputs)
        return output.to(inputs.dtype) if inputs.is_floating_point() else output

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer),
                "power_iterations": self.power_iterations}

    @classmethod
    def from_config(cls, config_):
        config_ = dict(config_)
        config_["layer"] = deserialize_layer(config_["layer"])
        return super().from_config(config_)

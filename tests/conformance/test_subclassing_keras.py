"""A subclassed model with a custom layer (own build with add_weight) and a custom train_step:
kerastorch (torch-style step) against Keras 3 on JAX (its stateless step), same weights first."""

import numpy as np
import pytest
import torch

import kerastorch

pytestmark = pytest.mark.conformance


def make_classes(lib):
    class Scale(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def build(self, input_shape):
            self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                        name="gain")
            self.shift = self.add_weight(shape=(input_shape[-1],), initializer="zeros",
                                         name="shift")

        def call(self, x):
            return x * self.gain + self.shift

    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.scale = Scale()
            self.hidden = lib.layers.Dense(8, activation="tanh")
            self.out = lib.layers.Dense(3, activation="softmax")

        def call(self, inputs, training=None):
            return self.out(self.hidden(self.scale(inputs)))

    return Net


class TorchStep:
    """Keras 3's documented torch-backend custom train_step, written for kerastorch."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable = list(self.trainable_weights)
        grads = [v.value.grad for v in trainable]
        with torch.no_grad():
            self.optimizer.apply(grads, trainable)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def jax_step_class(base):
    import jax

    class JaxNet(base):
        def train_step(self, state, data):
            tv, ntv, opt_vars, metric_vars = state
            x, y = data

            def loss_fn(tv, ntv):
                y_pred, ntv = self.stateless_call(tv, ntv, x, training=True)
                return self.compute_loss(x, y, y_pred), (y_pred, ntv)

            (loss, (y_pred, ntv)), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv, ntv)
            tv, opt_vars = self.optimizer.stateless_apply(opt_vars, grads, tv)
            new_metric_vars, logs, start = [], {}, 0
            for metric in self.metrics:
                mv = metric_vars[start:start + len(metric.variables)]
                start += len(metric.variables)
                if metric.name == "loss":
                    mv = metric.stateless_update_state(mv, loss)
                else:
                    mv = metric.stateless_update_state(mv, y, y_pred)
                logs[metric.name] = metric.stateless_result(mv)
                new_metric_vars += mv
            return logs, (tv, ntv, opt_vars, new_metric_vars)

    return JaxNet


def test_custom_layer_and_train_step_match_keras(keras3, rng):
    KNet = jax_step_class(make_classes(keras3))
    Net = make_classes(kerastorch)

    class OurNet(TorchStep, Net):
        pass

    x = rng.normal(size=(48, 5)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 48)]
    ref, ours = KNet(), OurNet()
    ref(x[:2])
    ours(torch.from_numpy(x[:2]))
    weights = [w + rng.normal(scale=0.1, size=w.shape).astype("float32")
               for w in ref.get_weights()]
    ref.set_weights(weights)
    ours.set_weights(weights)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in ref.get_weights()]
    for model, lib in ((ref, keras3), (ours, kerastorch)):
        model.compile(optimizer=lib.optimizers.Adam(0.01), loss="categorical_crossentropy",
                      metrics=["accuracy"])
    h_ref = ref.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    h_ours = ours.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    assert sorted(h_ours.history) == sorted(h_ref.history)
    for key in h_ref.history:
        np.testing.assert_allclose(h_ours.history[key], h_ref.history[key], rtol=1e-4,
                                   atol=1e-5, err_msg=key)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)

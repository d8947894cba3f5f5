"""`SwapEMAWeights`: evaluate (and, optionally, save at epoch end) with the optimizer's moving
averages of the weights in the model."""

import torch

from kerastorch.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """Puts the optimizer's EMA weights (`use_ema=True`) into the model for evaluation.

    On `on_test_begin` the model's trainable weights and the optimizer's moving averages trade
    places, in place; on `on_test_end` they trade back, so validation during `fit` and
    `evaluate(callbacks=[...])` see the averaged weights while training goes on with the raw
    ones. `predict(callbacks=[...])` swaps them in too and, as in Keras 3, leaves them there
    (the next evaluation's end swaps back).

    Args:
        swap_on_epoch: Also swap at each epoch's end (and back at the next epoch's start), so
            that callbacks placed after this one, such as `ModelCheckpoint`, see the EMA
            weights. Default `False`.
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_in_model = False

    # ------------------------------------------------------------------ the optimizers
    def _ema_optimizers(self) -> list:
        """The optimizers whose moving averages are swapped (inside a LossScaleOptimizer, and
        each EMA optimizer of a multi-optimizer)."""
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and not getattr(optimizer, "built", True):
            # Keras builds the optimizer before any callback runs (its averages start at zero,
            # so an evaluation before training sees zero weights); the trainer here builds it
            # at the first batch, after `on_test_begin`: build it now, as it would be.
            params = list(self.model.parameters())
            if params:
                optimizer.build(params)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        inner = getattr(optimizer, "optimizers", None)
        if inner is not None:
            chosen = [o for o in inner if getattr(o, "use_ema", False)]
            if not chosen:
                raise ValueError("SwapEMAWeights must be used when at least one inner optimizer "
                                 "has `use_ema=True` set. Received a MultiOptimizer with all "
                                 "inner optimizers having `use_ema=False`.")
        else:
            chosen = [optimizer]
        for opt in chosen:
            if not _has_averages(opt):
                raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on "
                                 "the optimizer. Received: "
                                 f"use_ema={getattr(opt, 'use_ema', None)}")
        return chosen

    @torch.no_grad()
    def _swap_variables(self):
        for opt in self._ema_optimizers():
            for weight, average in zip(opt._params, opt._slots["average"]):
                held = weight.detach().clone()
                weight.copy_(average)
                average.copy_(held)

    @torch.no_grad()
    def _finalize_ema_values(self):
        """Averages := the weights now in the model (the EMA ones), so that the copy of the
        averages into the weights at the end of `fit` keeps them."""
        for opt in self._ema_optimizers():
            torch._foreach_copy_(opt._slots["average"], list(opt._params))

    # ------------------------------------------------------------------ hooks
    def _hold_ema(self, wanted: bool) -> bool:
        """Swap when the model does not hold what is `wanted` (EMA or raw weights); True when
        it swapped."""
        if self._ema_in_model == wanted:
            return False
        self._swap_variables()
        self._ema_in_model = wanted
        return True

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._hold_ema(False)

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and self._hold_ema(True) and epoch == self.params["epochs"] - 1:
            self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        self._hold_ema(True)

    def on_test_end(self, logs=None):
        self._hold_ema(False)

    def on_predict_begin(self, logs=None):
        self._hold_ema(True)

    def on_predict_end(self, logs=None):
        # Keras 3 does not swap back after predict (its test there is never true): the EMA
        # weights stay in the model until the next evaluation ends. Kept for parity.
        pass


def _has_averages(optimizer) -> bool:
    """Whether `optimizer` keeps moving averages of its weights (built, with `use_ema`)."""
    return (getattr(optimizer, "use_ema", False) and getattr(optimizer, "built", False)
            and "average" in getattr(optimizer, "_slots", {}))

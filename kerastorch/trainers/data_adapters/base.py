"""`Batches`: one epoch's batches at a time, with Keras' `steps_per_epoch` rule."""

import warnings

RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset or "
           "generator can generate at least `steps_per_epoch * epochs` batches. You may need to "
           "use the `.repeat()` function when building your dataset.")


class Batches:
    """Iterating gives one epoch of device batches `(x,)`, `(x, y)` or `(x, y, sample_weight)`.

    Subclasses define `num_batches` (batches in one pass over the data; `None` when unknown)
    and `_pass()` (an iterator over one pass). Without `steps`, each epoch is a fresh pass.
    With `steps` (Keras' EpochIterator): an epoch draws `steps` batches from a pass that
    continues across epochs; a pass that runs out ends the epoch early, with Keras' warning,
    and the next epoch starts a new pass. A one-shot source (a generator) has a single pass:
    once it is spent, `exhausted` is set and epochs get no more batches.
    """

    one_shot = False
    num_batches = None

    def __init__(self, steps=None, steps_name="steps_per_epoch"):
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or
                                  steps < 1):
            raise ValueError(f"`{steps_name}` must be a positive integer or None. "
                             f"Received: {steps_name}={steps!r}")
        self.steps = steps
        self.steps_name = steps_name  # "steps_per_epoch": training data
        self.exhausted = False
        self._current = None
        self._seen = 0
        self._drawn_ever = False
        self._epoch = None  # the epoch iterator last handed out (closed by `close`)

    @property
    def num_steps(self):
        """Batches per epoch, as the progress bar and `History.params` show (None: unknown)."""
        return self.steps or self.num_batches

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass

    def _pass(self):
        raise NotImplementedError

    def __iter__(self):
        if self.steps is None and not self.one_shot:
            self._epoch = self._fresh_pass()
        else:
            self._epoch = self._stepped()
        return self._epoch

    def close(self):
        """End the epoch in progress and the pass kept across epochs: their `finally` clauses
        run now (worker threads joined, epoch hooks called), not when the garbage collector
        gets to them. `fit`, `evaluate` and `predict` call it when they end, however they end."""
        epoch, current = self._epoch, self._current
        self._epoch = self._current = None
        for gen in (epoch, current):
            if gen is not None and hasattr(gen, "close"):
                gen.close()

    def _fresh_pass(self):
        self.on_epoch_begin()
        try:
            yield from self._pass()
        finally:
            self.on_epoch_end()

    def _stepped(self):
        self.on_epoch_begin()
        try:
            if self._current is None:
                self._current, self._seen = iter(self._pass()), 0
            drawn = 0
            while self.steps is None or drawn < self.steps:
                if self.num_batches and self._seen >= self.num_batches:
                    warnings.warn(RAN_OUT, stacklevel=2)
                    break
                try:
                    batch = next(self._current)
                except StopIteration:
                    if self.one_shot:
                        self.exhausted = True
                    if self.steps is not None or (drawn == 0 and self._drawn_ever):
                        warnings.warn(RAN_OUT, stacklevel=2)
                    self._current = None
                    break
                self._seen += 1
                drawn += 1
                self._drawn_ever = True
                yield batch
            if self.num_batches and self._seen >= self.num_batches:
                self._current = None  # the next epoch starts a new pass
        finally:
            self.on_epoch_end()

"""Callbacks: hooks into `fit`, `evaluate` and `predict`."""

from kerastorch.callbacks.callback import Callback as Callback
from kerastorch.callbacks.callback import CallbackList as CallbackList
from kerastorch.callbacks.history import History as History
from kerastorch.callbacks.progbar_logger import ProgbarLogger as ProgbarLogger

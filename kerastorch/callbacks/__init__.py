"""Callbacks: hooks into `fit`, `evaluate` and `predict` (Keras 3's names and behaviour)."""

from kerastorch.callbacks.backup_and_restore import BackupAndRestore as BackupAndRestore
from kerastorch.callbacks.callback import Callback as Callback
from kerastorch.callbacks.callback import CallbackList as CallbackList
from kerastorch.callbacks.csv_logger import CSVLogger as CSVLogger
from kerastorch.callbacks.early_stopping import EarlyStopping as EarlyStopping
from kerastorch.callbacks.history import History as History
from kerastorch.callbacks.lambda_callback import LambdaCallback as LambdaCallback
from kerastorch.callbacks.learning_rate import LearningRateScheduler as LearningRateScheduler
from kerastorch.callbacks.learning_rate import ReduceLROnPlateau as ReduceLROnPlateau
from kerastorch.callbacks.model_checkpoint import ModelCheckpoint as ModelCheckpoint
from kerastorch.callbacks.progbar_logger import ProgbarLogger as ProgbarLogger
from kerastorch.callbacks.remote_monitor import RemoteMonitor as RemoteMonitor
from kerastorch.callbacks.swap_ema_weights import SwapEMAWeights as SwapEMAWeights
from kerastorch.callbacks.tensorboard import TensorBoard as TensorBoard
from kerastorch.callbacks.terminate_on_nan import TerminateOnNaN as TerminateOnNaN

"""Keras 3 metrics on PyTorch (`kerastorch.metrics`, also `keras.metrics` under the alias).

`get("accuracy")` gives `Accuracy` as in Keras; `compile(metrics=["accuracy"])` instead picks
binary, sparse or categorical accuracy from the shapes: that is `resolve_accuracy` (and
`resolve_crossentropy` for `"crossentropy"`/`"ce"`).
"""

from kerastorch.losses import binary_crossentropy as binary_crossentropy
from kerastorch.losses import binary_focal_crossentropy as binary_focal_crossentropy
from kerastorch.losses import categorical_crossentropy as categorical_crossentropy
from kerastorch.losses import (
    categorical_focal_crossentropy as categorical_focal_crossentropy,
)
from kerastorch.losses import deserialize_from as _deserialize_from
from kerastorch.losses import mean_absolute_error as mean_absolute_error
from kerastorch.losses import mean_squared_error as mean_squared_error
from kerastorch.losses import sparse_categorical_crossentropy as sparse_categorical_crossentropy
from kerastorch.metrics.accuracy import Accuracy as Accuracy
from kerastorch.metrics.accuracy import BinaryAccuracy as BinaryAccuracy
from kerastorch.metrics.accuracy import CategoricalAccuracy as CategoricalAccuracy
from kerastorch.metrics.accuracy import SparseCategoricalAccuracy as SparseCategoricalAccuracy
from kerastorch.metrics.accuracy import accuracy as accuracy
from kerastorch.metrics.accuracy import binary_accuracy as binary_accuracy
from kerastorch.metrics.accuracy import categorical_accuracy as categorical_accuracy
from kerastorch.metrics.accuracy import resolve_accuracy as resolve_accuracy
from kerastorch.metrics.accuracy import (
    SparseTopKCategoricalAccuracy as SparseTopKCategoricalAccuracy,
)
from kerastorch.metrics.accuracy import TopKCategoricalAccuracy as TopKCategoricalAccuracy
from kerastorch.metrics.accuracy import (
    sparse_top_k_categorical_accuracy as sparse_top_k_categorical_accuracy,
)
from kerastorch.metrics.accuracy import top_k_categorical_accuracy as top_k_categorical_accuracy
from kerastorch.metrics.accuracy import sparse_categorical_accuracy as sparse_categorical_accuracy
from kerastorch.metrics.base import METRICS as METRICS
from kerastorch.metrics.base import BinaryCrossentropy as BinaryCrossentropy
from kerastorch.metrics.base import CategoricalCrossentropy as CategoricalCrossentropy
from kerastorch.metrics.base import Mean as Mean
from kerastorch.metrics.base import MeanAbsoluteError as MeanAbsoluteError
from kerastorch.metrics.base import MeanMetricWrapper as MeanMetricWrapper
from kerastorch.metrics.base import MeanSquaredError as MeanSquaredError
from kerastorch.metrics.base import Metric as Metric
from kerastorch.metrics.base import SparseCategoricalCrossentropy as SparseCategoricalCrossentropy
from kerastorch.metrics.base import resolve_crossentropy as resolve_crossentropy
from kerastorch.metrics.base import Sum as Sum
from kerastorch.utils.registry import serialize as _serialize
from kerastorch.metrics.loss_metrics import CategoricalHinge as CategoricalHinge
from kerastorch.metrics.loss_metrics import CosineSimilarity as CosineSimilarity
from kerastorch.metrics.loss_metrics import Hinge as Hinge
from kerastorch.metrics.loss_metrics import KLDivergence as KLDivergence
from kerastorch.metrics.loss_metrics import LogCoshError as LogCoshError
from kerastorch.metrics.loss_metrics import (
    MeanAbsolutePercentageError as MeanAbsolutePercentageError,
)
from kerastorch.metrics.loss_metrics import (
    MeanSquaredLogarithmicError as MeanSquaredLogarithmicError,
)
from kerastorch.metrics.loss_metrics import Poisson as Poisson
from kerastorch.metrics.loss_metrics import RootMeanSquaredError as RootMeanSquaredError
from kerastorch.metrics.loss_metrics import SquaredHinge as SquaredHinge
from kerastorch.metrics.loss_metrics import categorical_hinge as categorical_hinge
from kerastorch.metrics.loss_metrics import cosine_similarity as cosine_similarity
from kerastorch.metrics.loss_metrics import hinge as hinge
from kerastorch.metrics.loss_metrics import huber as huber
from kerastorch.metrics.loss_metrics import kl_divergence as kl_divergence
from kerastorch.metrics.loss_metrics import log_cosh as log_cosh
from kerastorch.metrics.loss_metrics import (
    mean_absolute_percentage_error as mean_absolute_percentage_error,
)
from kerastorch.metrics.loss_metrics import (
    mean_squared_logarithmic_error as mean_squared_logarithmic_error,
)
from kerastorch.metrics.loss_metrics import poisson as poisson
from kerastorch.metrics.loss_metrics import squared_hinge as squared_hinge
from kerastorch.metrics.auc import AUC as AUC
from kerastorch.metrics.confusion_metrics import FalseNegatives as FalseNegatives
from kerastorch.metrics.confusion_metrics import FalsePositives as FalsePositives
from kerastorch.metrics.confusion_metrics import Precision as Precision
from kerastorch.metrics.confusion_metrics import PrecisionAtRecall as PrecisionAtRecall
from kerastorch.metrics.confusion_metrics import Recall as Recall
from kerastorch.metrics.confusion_metrics import RecallAtPrecision as RecallAtPrecision
from kerastorch.metrics.confusion_metrics import (
    SensitivityAtSpecificity as SensitivityAtSpecificity,
)
from kerastorch.metrics.confusion_metrics import (
    SpecificityAtSensitivity as SpecificityAtSensitivity,
)
from kerastorch.metrics.confusion_metrics import TrueNegatives as TrueNegatives
from kerastorch.metrics.confusion_metrics import TruePositives as TruePositives
from kerastorch.metrics.f_score_metrics import F1Score as F1Score
from kerastorch.metrics.f_score_metrics import FBetaScore as FBetaScore
from kerastorch.metrics.iou_metrics import BinaryIoU as BinaryIoU
from kerastorch.metrics.iou_metrics import IoU as IoU
from kerastorch.metrics.iou_metrics import MeanIoU as MeanIoU
from kerastorch.metrics.iou_metrics import OneHotIoU as OneHotIoU
from kerastorch.metrics.iou_metrics import OneHotMeanIoU as OneHotMeanIoU
from kerastorch.metrics.regression_metrics import R2Score as R2Score
from kerastorch.metrics.correlation_metrics import (
    ConcordanceCorrelation as ConcordanceCorrelation,
)
from kerastorch.metrics.correlation_metrics import PearsonCorrelation as PearsonCorrelation
from kerastorch.metrics.correlation_metrics import (
    concordance_correlation as concordance_correlation,
)
from kerastorch.metrics.correlation_metrics import pearson_correlation as pearson_correlation


def get(identifier):
    """A metric from a name (`"mse"`, `"categorical_accuracy"`, `"CategoricalAccuracy"`: an
    instance), a config dict, a callable (returned as is) or `None`. Unknown names raise
    `ValueError` with close matches."""
    return METRICS.get(identifier)


def serialize(metric):
    """A Keras config dict for a `Metric` (a function's name for a function)."""
    return _serialize(metric)


def deserialize(config, custom_objects=None):
    """Inverse of `serialize`; `custom_objects` maps extra names to classes or functions."""
    return _deserialize_from(METRICS, config, custom_objects)

"""`keras.ops.nn`: neural-network ops on torch tensors, eager, with Keras' formulas.

Where each family lives:

- `activations`: `relu`, `gelu`, `softmax`, `sparsemax`, ... (Keras' formulas where they differ
  from torch's).
- `losses`: the crossentropies, CTC loss and decoding, `one_hot`, `multi_hot`.
- `normalization`: `batch_normalization`, `moments`, `layer_normalization`,
  `rms_normalization`, `normalize`, `polar`, `psnr`.
- `conv_pool`: convolutions (plain, transposed, depthwise, separable) and pooling (fixed and
  adaptive), channels_last by default as in Keras.
- `attention`: `dot_product_attention` over `F.scaled_dot_product_attention`.
- `patches`: `depth_to_space`, `space_to_depth`, `fold`, `unfold`.
"""

from kerastorch.ops.nn.activations import (  # noqa: F401
    celu as celu,
    elu as elu,
    gelu as gelu,
    glu as glu,
    hard_shrink as hard_shrink,
    hard_sigmoid as hard_sigmoid,
    hard_silu as hard_silu,
    hard_swish as hard_swish,
    hard_tanh as hard_tanh,
    leaky_relu as leaky_relu,
    log_sigmoid as log_sigmoid,
    log_softmax as log_softmax,
    relu as relu,
    relu6 as relu6,
    selu as selu,
    sigmoid as sigmoid,
    silu as silu,
    soft_shrink as soft_shrink,
    softmax as softmax,
    softplus as softplus,
    softsign as softsign,
    sparse_plus as sparse_plus,
    sparse_sigmoid as sparse_sigmoid,
    sparsemax as sparsemax,
    squareplus as squareplus,
    swish as swish,
    tanh_shrink as tanh_shrink,
    threshold as threshold,
)
from kerastorch.ops.nn.losses import (  # noqa: F401
    binary_crossentropy as binary_crossentropy,
    categorical_crossentropy as categorical_crossentropy,
    sparse_categorical_crossentropy as sparse_categorical_crossentropy,
    ctc_loss as ctc_loss,
    ctc_decode as ctc_decode,
    one_hot as one_hot,
    multi_hot as multi_hot,
)
from kerastorch.ops.nn.normalization import (  # noqa: F401
    batch_normalization as batch_normalization,
    moments as moments,
    layer_normalization as layer_normalization,
    rms_normalization as rms_normalization,
    normalize as normalize,
    polar as polar,
    psnr as psnr,
)
from kerastorch.ops.nn.conv_pool import (  # noqa: F401
    adaptive_average_pool as adaptive_average_pool,
    adaptive_max_pool as adaptive_max_pool,
    average_pool as average_pool,
    conv as conv,
    conv_transpose as conv_transpose,
    depthwise_conv as depthwise_conv,
    max_pool as max_pool,
    separable_conv as separable_conv,
)
from kerastorch.ops.nn.attention import (  # noqa: F401
    dot_product_attention as dot_product_attention,
)
from kerastorch.ops.nn.patches import (  # noqa: F401
    depth_to_space as depth_to_space,
    space_to_depth as space_to_depth,
    fold as fold,
    unfold as unfold,
)

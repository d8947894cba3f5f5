"""`keras.ops.nn`: activations, convolutions, pooling, losses and normalization ops."""

from kerastorch.ops._nn1 import (
    celu as celu,
    elu as elu,
    gelu as gelu,
    glu as glu,
    hard_shrink as hard_shrink,
    hard_sigmoid as hard_sigmoid,
    hard_silu as hard_silu,
    hard_silu as hard_swish,
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
    silu as swish,
    tanh_shrink as tanh_shrink,
    threshold as threshold,
)
from kerastorch.ops._nn2 import (
    adaptive_average_pool as adaptive_average_pool,
    adaptive_max_pool as adaptive_max_pool,
    average_pool as average_pool,
    conv as conv,
    conv_transpose as conv_transpose,
    depthwise_conv as depthwise_conv,
    max_pool as max_pool,
    separable_conv as separable_conv,
)
from kerastorch.ops._nn3 import (
    batch_normalization as batch_normalization,
    binary_crossentropy as binary_crossentropy,
    categorical_crossentropy as categorical_crossentropy,
    sparse_categorical_crossentropy as sparse_categorical_crossentropy,
    moments as moments,
    multi_hot as multi_hot,
    one_hot as one_hot,
)
from kerastorch.ops._nn4 import (
    ctc_decode as ctc_decode,
    ctc_loss as ctc_loss,
)
from kerastorch.ops._nn5 import (
    depth_to_space as depth_to_space,
    dot_product_attention as dot_product_attention,
    fold as fold,
    psnr as psnr,
    space_to_depth as space_to_depth,
    unfold as unfold,
)
from kerastorch.ops.nn_extra import (
    layer_normalization as layer_normalization,
    normalize as normalize,
    polar as polar,
    rms_normalization as rms_normalization,
)

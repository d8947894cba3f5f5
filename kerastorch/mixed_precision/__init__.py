"""Keras 3's `keras.mixed_precision`: dtype policies and loss scaling.

```python
keras.mixed_precision.set_global_policy("mixed_float16")  # or "mixed_bfloat16"
model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(64, activation="relu"),
                          keras.layers.Dense(10), keras.layers.Activation("softmax",
                                                                          dtype="float32")])
model.compile("adam", "sparse_categorical_crossentropy")  # optimizer -> LossScaleOptimizer
```

Weights stay float32; `fit`/`evaluate`/`predict` run the forward pass under `torch.autocast`
with the compute dtype. A model called directly (`model(x)`) outside those loops computes in
float32 unless the caller opens `torch.autocast` itself.
"""

from kerastorch.mixed_precision.loss_scale_optimizer import (
    LossScaleOptimizer as LossScaleOptimizer,
)
from kerastorch.mixed_precision.policy import DTypePolicy as DTypePolicy
from kerastorch.mixed_precision.policy import FloatDTypePolicy as FloatDTypePolicy
from kerastorch.mixed_precision.policy import Policy as Policy
from kerastorch.mixed_precision.policy import dtype_policy as dtype_policy
from kerastorch.mixed_precision.policy import get as get
from kerastorch.mixed_precision.policy import global_policy as global_policy
from kerastorch.mixed_precision.policy import serialize as serialize
from kerastorch.mixed_precision.policy import set_dtype_policy as set_dtype_policy
from kerastorch.mixed_precision.policy import set_global_policy as set_global_policy

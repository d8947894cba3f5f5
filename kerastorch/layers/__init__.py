"""Keras layers, each a `torch.nn.Module` with torch-native state."""

from kerastorch.layers.core import Activation as Activation
from kerastorch.layers.core import Dense as Dense
from kerastorch.layers.core import Identity as Identity
from kerastorch.layers.input_layer import Input as Input
from kerastorch.layers.input_layer import InputLayer as InputLayer
from kerastorch.layers.input_layer import KerasTensor as KerasTensor
from kerastorch.layers.layer import Layer as Layer
from kerastorch.layers.regularization import Dropout as Dropout
from kerastorch.layers.reshaping import Flatten as Flatten
from kerastorch.layers.reshaping import Reshape as Reshape

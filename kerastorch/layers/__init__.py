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
from kerastorch.layers.convolutional import Conv1D as Conv1D
from kerastorch.layers.convolutional import Conv1DTranspose as Conv1DTranspose
from kerastorch.layers.convolutional import Conv2D as Conv2D
from kerastorch.layers.convolutional import Conv2DTranspose as Conv2DTranspose
from kerastorch.layers.convolutional import Conv3D as Conv3D
from kerastorch.layers.convolutional import Conv3DTranspose as Conv3DTranspose
from kerastorch.layers.convolutional import DepthwiseConv1D as DepthwiseConv1D
from kerastorch.layers.convolutional import DepthwiseConv2D as DepthwiseConv2D
from kerastorch.layers.convolutional import SeparableConv1D as SeparableConv1D
from kerastorch.layers.convolutional import SeparableConv2D as SeparableConv2D
from kerastorch.layers.pooling import AveragePooling1D as AveragePooling1D
from kerastorch.layers.pooling import AveragePooling2D as AveragePooling2D
from kerastorch.layers.pooling import AveragePooling3D as AveragePooling3D
from kerastorch.layers.pooling import GlobalAveragePooling1D as GlobalAveragePooling1D
from kerastorch.layers.pooling import GlobalAveragePooling2D as GlobalAveragePooling2D
from kerastorch.layers.pooling import GlobalAveragePooling3D as GlobalAveragePooling3D
from kerastorch.layers.pooling import GlobalMaxPooling1D as GlobalMaxPooling1D
from kerastorch.layers.pooling import GlobalMaxPooling2D as GlobalMaxPooling2D
from kerastorch.layers.pooling import GlobalMaxPooling3D as GlobalMaxPooling3D
from kerastorch.layers.pooling import MaxPooling1D as MaxPooling1D
from kerastorch.layers.pooling import MaxPooling2D as MaxPooling2D
from kerastorch.layers.pooling import MaxPooling3D as MaxPooling3D
from kerastorch.layers.preprocessing import CategoryEncoding as CategoryEncoding
from kerastorch.layers.preprocessing import Discretization as Discretization
from kerastorch.layers.preprocessing import Normalization as Normalization
from kerastorch.layers.preprocessing import Rescaling as Rescaling
from kerastorch.layers.preprocessing_image import CenterCrop as CenterCrop
from kerastorch.layers.preprocessing_image import RandomBrightness as RandomBrightness
from kerastorch.layers.preprocessing_image import RandomContrast as RandomContrast
from kerastorch.layers.preprocessing_image import RandomFlip as RandomFlip
from kerastorch.layers.preprocessing_image import RandomRotation as RandomRotation
from kerastorch.layers.preprocessing_image import RandomTranslation as RandomTranslation
from kerastorch.layers.preprocessing_image import RandomZoom as RandomZoom
from kerastorch.layers.preprocessing_image import Resizing as Resizing
from kerastorch.layers.core_extra import EinsumDense as EinsumDense
from kerastorch.layers.core_extra import Embedding as Embedding
from kerastorch.layers.core_extra import Masking as Masking
from kerastorch.layers.core_extra import Lambda as Lambda
from kerastorch.layers.activation_layers import ELU as ELU
from kerastorch.layers.activation_layers import LeakyReLU as LeakyReLU
from kerastorch.layers.activation_layers import PReLU as PReLU
from kerastorch.layers.activation_layers import ReLU as ReLU
from kerastorch.layers.activation_layers import Softmax as Softmax
from kerastorch.layers.regularization import ActivityRegularization as ActivityRegularization
from kerastorch.layers.regularization import AlphaDropout as AlphaDropout
from kerastorch.layers.regularization import GaussianDropout as GaussianDropout
from kerastorch.layers.regularization import GaussianNoise as GaussianNoise
from kerastorch.layers.regularization import SpatialDropout1D as SpatialDropout1D
from kerastorch.layers.regularization import SpatialDropout2D as SpatialDropout2D
from kerastorch.layers.regularization import SpatialDropout3D as SpatialDropout3D
from kerastorch.layers.reshaping import Cropping1D as Cropping1D
from kerastorch.layers.reshaping import Cropping2D as Cropping2D
from kerastorch.layers.reshaping import Cropping3D as Cropping3D
from kerastorch.layers.reshaping import Permute as Permute
from kerastorch.layers.reshaping import RepeatVector as RepeatVector
from kerastorch.layers.reshaping import UpSampling1D as UpSampling1D
from kerastorch.layers.reshaping import UpSampling2D as UpSampling2D
from kerastorch.layers.reshaping import UpSampling3D as UpSampling3D
from kerastorch.layers.reshaping import ZeroPadding1D as ZeroPadding1D
from kerastorch.layers.reshaping import ZeroPadding2D as ZeroPadding2D
from kerastorch.layers.reshaping import ZeroPadding3D as ZeroPadding3D
from kerastorch.layers.merging import Add as Add
from kerastorch.layers.merging import Average as Average
from kerastorch.layers.merging import Concatenate as Concatenate
from kerastorch.layers.merging import Dot as Dot
from kerastorch.layers.merging import Maximum as Maximum
from kerastorch.layers.merging import Minimum as Minimum
from kerastorch.layers.merging import Multiply as Multiply
from kerastorch.layers.merging import Subtract as Subtract
from kerastorch.layers.merging import add as add
from kerastorch.layers.merging import average as average
from kerastorch.layers.merging import concatenate as concatenate
from kerastorch.layers.merging import dot as dot
from kerastorch.layers.merging import maximum as maximum
from kerastorch.layers.merging import minimum as minimum
from kerastorch.layers.merging import multiply as multiply
from kerastorch.layers.merging import subtract as subtract
from kerastorch.layers.recurrent import GRU as GRU
from kerastorch.layers.recurrent import LSTM as LSTM
from kerastorch.layers.recurrent import SimpleRNN as SimpleRNN
from kerastorch.layers.rnn_base import RNN as RNN
from kerastorch.layers.rnn_cells import GRUCell as GRUCell
from kerastorch.layers.rnn_cells import LSTMCell as LSTMCell
from kerastorch.layers.rnn_cells import SimpleRNNCell as SimpleRNNCell
from kerastorch.layers.rnn_wrappers import Bidirectional as Bidirectional
from kerastorch.layers.rnn_wrappers import TimeDistributed as TimeDistributed
from kerastorch.layers.attention import AdditiveAttention as AdditiveAttention
from kerastorch.layers.attention import Attention as Attention
from kerastorch.layers.attention import MultiHeadAttention as MultiHeadAttention
from kerastorch.layers.normalization import BatchNormalization as BatchNormalization
from kerastorch.layers.normalization import GroupNormalization as GroupNormalization
from kerastorch.layers.normalization import LayerNormalization as LayerNormalization
from kerastorch.layers.normalization import UnitNormalization as UnitNormalization
from kerastorch.layers.torch_module_wrapper import TorchModuleWrapper as TorchModuleWrapper
from kerastorch.layers.rms_normalization import RMSNormalization as RMSNormalization
from kerastorch.layers.adaptive_pooling import AdaptiveAveragePooling1D as AdaptiveAveragePooling1D
from kerastorch.layers.adaptive_pooling import AdaptiveAveragePooling2D as AdaptiveAveragePooling2D
from kerastorch.layers.adaptive_pooling import AdaptiveAveragePooling3D as AdaptiveAveragePooling3D
from kerastorch.layers.adaptive_pooling import AdaptiveMaxPooling1D as AdaptiveMaxPooling1D
from kerastorch.layers.adaptive_pooling import AdaptiveMaxPooling2D as AdaptiveMaxPooling2D
from kerastorch.layers.adaptive_pooling import AdaptiveMaxPooling3D as AdaptiveMaxPooling3D
from kerastorch.layers.preprocessing_image import AutoContrast as AutoContrast
from kerastorch.layers.preprocessing_image import RandomColorJitter as RandomColorJitter
from kerastorch.layers.preprocessing_image import RandomCrop as RandomCrop
from kerastorch.layers.preprocessing_image import RandomGrayscale as RandomGrayscale
from kerastorch.layers.preprocessing_image import RandomHue as RandomHue
from kerastorch.layers.preprocessing_image import RandomInvert as RandomInvert
from kerastorch.layers.preprocessing_image import RandomPosterization as RandomPosterization
from kerastorch.layers.preprocessing_image import RandomSaturation as RandomSaturation
from kerastorch.layers.preprocessing_image import RandomSharpness as RandomSharpness
from kerastorch.layers.preprocessing_image import Solarization as Solarization
from kerastorch.layers.spectral_normalization import SpectralNormalization as SpectralNormalization
from kerastorch.layers.stacked_rnn_cells import StackedRNNCells as StackedRNNCells

# Keras' alias names.
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D


def serialize(layer):
    """A layer's Keras config dict (`keras.layers.serialize`)."""
    from kerastorch.saving.serialization import serialize_keras_object
    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """The layer described by a Keras config dict (`keras.layers.deserialize`)."""
    from kerastorch.saving.serialization import deserialize_keras_object
    return deserialize_keras_object(config, custom_objects=custom_objects)

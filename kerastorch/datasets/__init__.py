"""Small standard datasets as numpy arrays, as `keras.datasets` returns them.

See `kerastorch.datasets._cache` (MNIST, Fashion-MNIST) and `kerastorch.datasets._fetch` (the
others) for where they are looked for and how they are downloaded.
"""

from kerastorch.datasets import boston_housing as boston_housing
from kerastorch.datasets import california_housing as california_housing
from kerastorch.datasets import cifar10 as cifar10
from kerastorch.datasets import cifar100 as cifar100
from kerastorch.datasets import fashion_mnist as fashion_mnist
from kerastorch.datasets import imdb as imdb
from kerastorch.datasets import mnist as mnist
from kerastorch.datasets import reuters as reuters
from kerastorch.datasets._cache import DatasetFormatError as DatasetFormatError
from kerastorch.datasets._cache import DatasetNotFoundError as DatasetNotFoundError

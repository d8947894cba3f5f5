"""Small standard datasets as numpy arrays, as `keras.datasets` returns them.

See `kerastorch.datasets._cache` for where they are looked for and how they are downloaded.
"""

from kerastorch.datasets import fashion_mnist as fashion_mnist
from kerastorch.datasets import mnist as mnist
from kerastorch.datasets._cache import DatasetFormatError as DatasetFormatError
from kerastorch.datasets._cache import DatasetNotFoundError as DatasetNotFoundError

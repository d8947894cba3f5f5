"""Models: `Sequential`, `Model` (functional and subclassed)."""

from kerastorch.models.model import Model as Model
from kerastorch.models.sequential import Sequential as Sequential

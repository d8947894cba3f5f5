"""Models: `Sequential`, `Model` (functional and subclassed)."""

from kerastorch.models.cloning import clone_model as clone_model
from kerastorch.models.model import Model as Model
from kerastorch.models.model import model_from_json as model_from_json
from kerastorch.models.sequential import Sequential as Sequential
from kerastorch.saving.saving_api import load_model as load_model
from kerastorch.saving.saving_api import save_model as save_model

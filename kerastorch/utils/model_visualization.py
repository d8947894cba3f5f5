"""`plot_model` / `model_to_dot`: a model's layer graph drawn by Graphviz (through pydot).

The DOT text is produced here without any dependency (`model_to_dot_source`); pydot and the
Graphviz `dot` program are needed only to render it to an image.
"""

import os

_NO_PYDOT = "You must install pydot (`pip install pydot`) for `plot_model` to work."
_NO_GRAPHVIZ = ("You must install graphviz (see instructions at "
                "https://graphviz.gitlab.io/download/) for `plot_model` to work.")


def _pydot():
    try:
        import pydot
    except ImportError:
        return None
    return pydot


def _escape(text) -> str:
    text = str(text)
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


def _graph(model):
    """[(layer, input_shape, output_shape)], [(from_layer, to_layer)] in drawing order."""
    from kerastorch.layers.input_layer import InputLayer
    from kerastorch.models.functional import Functional, _flatten
    from kerastorch.models.sequential import Sequential
    boxes, edges = [], []
    if isinstance(model, Functional):
        own = {id(n) for n in model._nodes}
        for layer in model._operations:  # ops (`x * 2`) too, as Keras draws them
            nodes = [n for n in layer.__dict__.get("_inbound_nodes", ())
                     if id(n) in own or isinstance(layer, InputLayer)]
            outs = nodes[0].outputs if nodes else []
            ins = _flatten((nodes[0].args, nodes[0].kwargs)) if nodes else []
            out_shape = _shape([t.shape for t in outs])
            in_shape = out_shape if isinstance(layer, InputLayer) else \
                _shape([t.shape for t in ins])
            boxes.append((layer, in_shape, out_shape))
            for node in nodes:
                for t in _flatten((node.args, node.kwargs)):
                    edge = (t._keras_history[0], layer)
                    if edge not in edges:
                        edges.append(edge)
    elif isinstance(model, Sequential):
        shape = model._known_input_shape()
        previous = None
        if shape is not None:
            previous = model._input_layer or InputLayer(batch_shape=shape, name="input_layer")
            boxes.append((previous, shape, shape))
        for layer in model.layers:
            out = getattr(layer, "_summary_output_shape", None)
            boxes.append((layer, shape, out))
            if previous is not None:
                edges.append((previous, layer))
            previous, shape = layer, out
    else:
        boxes = [(layer, None, getattr(layer, "_summary_output_shape", None))
                 for layer in model.layers]
    return boxes, edges


def _shape(shapes):
    if not shapes:
        return None
    return shapes[0] if len(shapes) == 1 else shapes


def model_to_dot_source(model, show_shapes=False, show_dtype=False, show_layer_names=False,
                        rankdir="TB", dpi=200, show_layer_activations=False,
                        show_trainable=False, splines="ortho"):
    """The model's graph as DOT text (one record per layer, one edge per connection)."""
    boxes, edges = _graph(model)
    lines = [f"digraph {_quote(model.name)} {{",
             f'  graph [rankdir="{rankdir}", dpi={int(dpi)}, splines="{splines}"];',
             '  node [shape="record"];']
    for layer, in_shape, out_shape in boxes:
        kind = type(layer).__name__
        title = f"{layer.name} ({kind})" if show_layer_names else kind
        fields = [_escape(title)]
        activation = getattr(layer, "activation", None)
        if show_layer_activations and activation is not None:
            name = getattr(activation, "__name__", str(activation))
            fields.append(_escape(f"Activation: {name}"))
        if show_dtype:
            fields.append(_escape(f"dtype: {layer.dtype}"))
        if show_shapes:
            fields.append("{" + _escape(f"Input shape: {in_shape}") + "|" +
                          _escape(f"Output shape: {out_shape}") + "}")
        if show_trainable:
            fields.append("Trainable: " + ("Y" if layer.trainable else "N"))
        label = "{" + "|".join(fields) + "}"
        lines.append(f'  "{id(layer)}" [label="{label}"];')
    for source, target in edges:
        lines.append(f'  "{id(source)}" -> "{id(target)}";')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(name) -> str:
    return '"' + str(name).replace('"', '\\"') + '"'


def model_to_dot(model, **kwargs):
    """A `pydot.Dot` of the model (needs pydot); keyword arguments as `plot_model`."""
    pydot = _pydot()
    if pydot is None:
        raise ImportError(_NO_PYDOT)
    return pydot.graph_from_dot_data(model_to_dot_source(model, **kwargs))[0]


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho"):
    """Draw the model's layer graph to `to_file` (format from the extension, default png).

    Needs pydot (`pip install pydot`) and Graphviz's `dot` program; a `.dot` file is written
    without either. Nested models are drawn as one box (`expand_nested` is accepted and
    ignored). Returns an `IPython.display.Image` when IPython is installed, else None.
    """
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.")
    source = model_to_dot_source(model, show_shapes=show_shapes, show_dtype=show_dtype,
                                 show_layer_names=show_layer_names, rankdir=rankdir, dpi=dpi,
                                 show_layer_activations=show_layer_activations,
                                 show_trainable=show_trainable, splines=splines)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    if extension == "dot":
        with open(to_file, "w") as f:
            f.write(source)
        return None
    pydot = _pydot()
    if pydot is None:
        raise ImportError(_NO_PYDOT)
    dot = pydot.graph_from_dot_data(source)[0]
    try:
        dot.write(to_file, format=extension)
    except (OSError, FileNotFoundError) as err:  # pydot raises these when `dot` is missing
        raise ImportError(f"{_NO_GRAPHVIZ} ({err})") from err
    if extension != "pdf":
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None

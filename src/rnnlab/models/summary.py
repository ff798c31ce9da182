"""``summary(model)``: Keras's table of layers, output shapes and parameter counts.

Example::

    from rnnlab.models.summary import summary
    summary(model)            # the same as model.summary()
"""


def shape_str(shape):
    """``(None, 5, 8)`` as Keras prints it; a list of shapes in brackets."""
    if isinstance(shape, list):
        return "[" + ", ".join(shape_str(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def human_bytes(n):
    """``1536`` -> ``"1.50 KB"``."""
    if n < 1024:
        return f"{n} B"
    for unit in ("KB", "MB", "GB"):
        n /= 1024.0
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"


def summary(model, line_length=80, print_fn=None):
    """Print a Keras-style table: layer (type), output shape, parameter count, and totals.

    ``model._summary_rows()`` gives ``[(layer, output_shape or None), ...]``.
    """
    rows = model._summary_rows()
    print_fn = print_fn or print
    connected = bool(rows) and len(rows[0]) == 3            # functional models: Keras's "Connected to"
    if connected:
        line_length = max(line_length, 110)
        w = [int(line_length * f) for f in (0.30, 0.24, 0.12)]
        widths = w + [line_length - sum(w)]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    else:
        w0, w1 = int(line_length * 0.42), int(line_length * 0.33)
        widths = [w0, w1, line_length - w0 - w1]
        header = ["Layer (type)", "Output Shape", "Param #"]

    def row(cells):
        return "".join(str(c)[:w - 1].ljust(w) for c, w in zip(cells, widths)).rstrip()

    lines = [f'Model: "{model.name}"', "_" * line_length, row(header), "=" * line_length]
    for i, (layer, shape, *links) in enumerate(rows):
        cells = [f"{layer.name} ({type(layer).__name__})", "?" if shape is None else shape_str(shape),
                 f"{layer.count_params():,}"]
        if connected:
            inbound = links[0] or ["-"]
            lines.append(row(cells + [inbound[0]]))
            lines += [row(["", "", "", more]) for more in inbound[1:]]
        else:
            lines.append(row(cells))
        lines.append("=" * line_length if i == len(rows) - 1 else "")

    def size(trainable):
        ws = [w for layer in model.layers if trainable in (None, layer.trainable) for w in layer.weights]
        return sum(w.size for w in ws), human_bytes(sum(w.nbytes for w in ws))

    (total, tb), (trainable, trb), (frozen, fb) = size(None), size(True), size(False)
    lines += [f"Total params: {total:,} ({tb})", f"Trainable params: {trainable:,} ({trb})",
              f"Non-trainable params: {frozen:,} ({fb})", "_" * line_length]
    print_fn("\n".join(lines))

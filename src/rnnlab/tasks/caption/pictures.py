"""PNG files for the captioning task, through matplotlib (an optional dependency, imported only here and only
when a PNG is read or written, with the Agg backend: no display needed).

    read_png(path)                   (H, W, 3) float32 in [0, 1] (alpha dropped, 8/16-bit scaled)
    save_png(path, image)            one (H, W, 3) image in [0, 1]
    save_sheet(path, images, lines)  a grid of images, each titled with its caption(s)

Example::

    save_png("scene.png", images[0])
    read_png("scene.png").shape      # (32, 32, 3)
"""
import os

import numpy as np


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("Reading and writing PNG images needs matplotlib: pip install matplotlib. "
                          "Without it, pass feature vectors (--vector file.npy) instead of images.") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def read_png(path):
    """The RGB image in the PNG file ``path`` as (H, W, 3) float32 in [0, 1]."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"The image file {path!r} does not exist; pass a PNG file, e.g. one written by "
                                "rnnlab.tasks.caption.pictures.save_png.")
    _pyplot()
    import matplotlib.image
    try:
        image = np.asarray(matplotlib.image.imread(path))
    except (OSError, ValueError, SyntaxError) as e:
        raise ValueError(f"Could not read {path!r} as a PNG image ({e}).") from None
    if np.issubdtype(image.dtype, np.integer):
        image = image / np.iinfo(image.dtype).max
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"{path!r} holds an image of shape {image.shape}; expected an RGB or RGBA image.")
    return np.ascontiguousarray(image[:, :, :3], dtype=np.float32)


def save_png(path, image):
    """Write one (H, W, 3) image with values in [0, 1] as a PNG file."""
    _pyplot()
    import matplotlib.image
    matplotlib.image.imsave(os.fspath(path), np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0))


def save_sheet(path, images, lines, columns=4, scale=2.2):
    """A PNG grid of ``images``, each titled with ``lines[i]`` (a str, e.g. "model: ...\\ntrue: ...")."""
    plt = _pyplot()
    n = len(images)
    cols = min(columns, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * scale * 1.6, rows * scale), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < n:
            ax.imshow(np.clip(images[k], 0, 1), interpolation="nearest")
            ax.set_title(lines[k], fontsize=6)
    fig.tight_layout()
    fig.savefig(os.fspath(path), dpi=120)
    plt.close(fig)

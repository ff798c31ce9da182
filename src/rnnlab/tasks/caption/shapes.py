"""The built-in captioning dataset: small RGB images of coloured shapes, drawn here with NumPy, and a grammar
that describes each scene. Nothing is downloaded; the same seed always gives the same images.

A scene holds one or two objects, each a (shape, colour, size) at a centre (row, column)::

    shapes  circle, square, triangle          (x - cx)² + (y - cy)² <= r² ; |x - cx|, |y - cy| <= 0.85 r ;
                                              an upward triangle: cy - r <= y <= cy + r, |x - cx| <= (y - cy + r) / 2
    colours red, green, blue, yellow          pure RGB on a black canvas, values in [0, 1]
    sizes   small, big                        half-extent r ≈ 0.12 S and 0.2 S on an S × S canvas

Pixel (i, j) is inside a shape when its centre (i + 0.5, j + 0.5) is. Two objects sit in two cells of a
2 × 2 grid, side by side or one above the other, each jittered within its cell, so exactly one relation
holds. The grammar::

    caption  := object | object relation object
    object   := "a" size colour shape                 e.g. "a small red circle"
    relation := "left of" | "right of" | "above" | "below"

The two objects of a scene always differ, and are named in a fixed order of their attributes (shape,
then colour, then size: circle < square < triangle, red < green < blue < yellow, small < big), so each
image has exactly one correct caption, e.g. ``"a big red circle below a small blue square"``.

**Unseen combinations.** ``HELD_OUT`` lists (colour, shape) pairs that never occur in the ``train`` and
``test`` splits; every scene of the ``unseen`` split has at least one of them. Each held-out colour and
shape still occurs in training with other partners, so a model that composes attributes can name them.

Example::

    images, captions, scenes = make_split("train", 100, size=32, seed=0)
    images.shape                  # (100, 32, 32, 3) float32
    captions[0]                   # e.g. 'a small green triangle above a big yellow circle'
"""
import numpy as np

SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0), "yellow": (1.0, 1.0, 0.0)}
SIZES = ("small", "big")
RELATIONS = ("left of", "right of", "above", "below")
HELD_OUT = (("red", "triangle"), ("green", "square"), ("blue", "circle"))
SPLITS = ("train", "test", "unseen")
_SPLIT_SEED = {"train": 0, "test": 1, "unseen": 2}
_COLOUR_NAMES = tuple(COLOURS)


def half_extent(size, canvas):
    """The half-extent r in pixels of a ``size`` ("small" or "big") object on a ``canvas`` × ``canvas`` image."""
    small = max(2, round(0.12 * canvas))
    return small if size == "small" else max(small + 2, round(0.2 * canvas))


def shape_mask(shape, cy, cx, r, canvas):
    """(canvas, canvas) bool: the pixels whose centres lie inside ``shape`` centred at (cy, cx) with half-extent r.

    Example::

        shape_mask("circle", 8.0, 8.0, 3, 16).sum()       # 32 pixels
    """
    y, x = np.mgrid[0:canvas, 0:canvas] + 0.5
    dy, dx = y - cy, x - cx
    if shape == "circle":
        return dy ** 2 + dx ** 2 <= r ** 2
    if shape == "square":
        return (np.abs(dy) <= 0.85 * r) & (np.abs(dx) <= 0.85 * r)
    if shape == "triangle":
        return (dy >= -r) & (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
    raise ValueError(f"shape_mask got shape={shape!r}; expected one of {SHAPES}.")


def render(scene, canvas):
    """The (canvas, canvas, 3) float32 image of ``scene`` (a list of object dicts with keys shape, colour,
    size, cy, cx). Later objects paint over earlier ones (the generator never lets them overlap)."""
    image = np.zeros((canvas, canvas, 3), dtype=np.float32)
    for obj in scene:
        mask = shape_mask(obj["shape"], obj["cy"], obj["cx"], half_extent(obj["size"], canvas), canvas)
        image[mask] = COLOURS[obj["colour"]]
    return image


def _order_key(obj):
    return SHAPES.index(obj["shape"]), _COLOUR_NAMES.index(obj["colour"]), SIZES.index(obj["size"])


def describe(scene):
    """The caption of ``scene`` by the grammar in the module docstring (the objects in attribute order)."""
    phrases = [f"a {o['size']} {o['colour']} {o['shape']}" for o in sorted(scene, key=_order_key)]
    if len(scene) == 1:
        return phrases[0]
    if len(scene) != 2:
        raise ValueError(f"describe got a scene of {len(scene)} objects; the grammar describes 1 or 2.")
    return f"{phrases[0]} {_relation(*sorted(scene, key=_order_key))} {phrases[1]}"


def _relation(a, b):
    """Where object ``a`` is relative to object ``b``."""
    if a["row"] == b["row"]:
        return "left of" if a["col"] < b["col"] else "right of"
    return "above" if a["row"] < b["row"] else "below"


ATTRIBUTE_SIZE = 2 * (len(SHAPES) + len(COLOURS) + len(SIZES)) + len(RELATIONS)


def attributes(scene):
    """The scene's attributes as a (22,) float32 vector of one-hot blocks: for each object in caption order
    [shape (3), colour (4), size (2)] (zeros for a missing second object), then the relation (4, zeros for one
    object). An "oracle" encoder for a decoder-only baseline: train on these vectors as user features to see
    what the decoder does when colour and shape arrive disentangled.

    Example::

        attributes([dict(shape="square", colour="green", size="big", row=0, col=0)])[:9]
        # [0, 1, 0,  0, 1, 0, 0,  0, 1]
    """
    v = np.zeros(ATTRIBUTE_SIZE, dtype=np.float32)
    block = len(SHAPES) + len(COLOURS) + len(SIZES)
    objects = sorted(scene, key=_order_key)
    for k, o in enumerate(objects):
        v[k * block + SHAPES.index(o["shape"])] = 1
        v[k * block + len(SHAPES) + _COLOUR_NAMES.index(o["colour"])] = 1
        v[k * block + len(SHAPES) + len(COLOURS) + SIZES.index(o["size"])] = 1
    if len(objects) == 2:
        v[2 * block + RELATIONS.index(_relation(*objects))] = 1
    return v


def _kinds(split):
    """The (shape, colour, size) kinds an object of ``split`` may be drawn from, and the held-out ones."""
    everything = [(s, c, z) for s in SHAPES for c in _COLOUR_NAMES for z in SIZES]
    held = [k for k in everything if (k[1], k[0]) in HELD_OUT]
    seen = [k for k in everything if (k[1], k[0]) not in HELD_OUT]
    return seen, held, everything


def random_scene(rng, canvas, split="train", max_objects=2):
    """One scene of ``split`` drawn with the ``numpy.random.Generator`` ``rng`` (see the module docstring)."""
    seen, held, everything = _kinds(split)
    n = int(rng.integers(1, max_objects + 1))
    while True:
        if split == "unseen":
            kinds = [held[rng.integers(len(held))]] + [everything[rng.integers(len(everything))] for _ in range(n - 1)]
            kinds = [kinds[i] for i in rng.permutation(n)]
        else:
            kinds = [seen[rng.integers(len(seen))] for _ in range(n)]
        if len(set(kinds)) == n:
            break
    cell = canvas / 2
    if n == 1:
        cells = [(int(rng.integers(2)), int(rng.integers(2)))]
    elif rng.random() < 0.5:                                     # side by side in one row
        row = int(rng.integers(2))
        cells = [(row, 0), (row, 1)] if rng.random() < 0.5 else [(row, 1), (row, 0)]
    else:                                                        # one above the other in one column
        col = int(rng.integers(2))
        cells = [(0, col), (1, col)] if rng.random() < 0.5 else [(1, col), (0, col)]
    scene = []
    for (shape, colour, size), (row, col) in zip(kinds, cells):
        r = half_extent(size, canvas)
        room = max(0.0, cell / 2 - r - 1)                         # jitter that keeps the object in its cell
        cy = (row + 0.5) * cell + rng.uniform(-room, room)
        cx = (col + 0.5) * cell + rng.uniform(-room, room)
        scene.append(dict(shape=shape, colour=colour, size=size, row=row, col=col, cy=float(cy), cx=float(cx)))
    return scene


def make_split(split, n, size=32, seed=0, max_objects=2):
    """``n`` images of ``split`` ("train", "test" or "unseen"): ``(images (n, size, size, 3) float32, captions
    (list of str), scenes (list of object-dict lists))``. Each split has its own random stream, so changing
    ``n`` of one split never changes another."""
    if split not in SPLITS:
        raise ValueError(f"make_split got split={split!r}; expected one of {SPLITS}.")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"make_split got n={n!r}; expected a positive number of images.")
    if size < 16:
        raise ValueError(f"make_split got size={size}; the shapes need a canvas of at least 16 pixels.")
    rng = np.random.default_rng([int(seed), _SPLIT_SEED[split]])
    scenes = [random_scene(rng, size, split, max_objects) for _ in range(int(n))]
    images = np.stack([render(s, size) for s in scenes])
    return images, [describe(s) for s in scenes], scenes

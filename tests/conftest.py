import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))          # for `import gradcheck`

from rnnlab import backend  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def float64():
    """Run a test with float64 weights (gradient checks, parity at 1e-9)."""
    old = backend.floatx()
    backend.set_floatx("float64")
    yield
    backend.set_floatx(old)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def shared_data():
    """Path to ../shared/data, or skip the test when it is absent."""
    if not DATA.is_dir():
        pytest.skip(f"real data not found at {DATA}")
    return DATA


@pytest.fixture(autouse=True)
def fresh_layer_names():
    """Each test starts with Keras's default names ("dense", "lstm", ...), as after clear_session()."""
    from rnnlab.layers.base import reset_names
    reset_names()
    yield

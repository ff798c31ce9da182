"""Models travel: rnnlab models to and from Keras 3 files, PyTorch modules and ONNX graphs.

| module | direction | needs |
|---|---|---|
| ``rnnlab.interop.keras`` | ``.keras`` / ``.weights.h5`` <-> rnnlab (``load``, ``load_weights``, ``save``) | ``h5py`` |
| ``rnnlab.interop.torch`` | rnnlab <-> ``torch.nn`` (``to_torch``, ``from_torch``) | ``torch`` |
| ``rnnlab.interop.onnx`` | rnnlab -> ONNX (``to_onnx``), opset 17 | ``onnx`` (``onnxruntime`` to run it) |
| ``rnnlab.interop.cli`` | ``rnnlab export`` / ``rnnlab convert`` verbs (``register(subparsers)``) | |

Every converter checks the whole model first and refuses what it cannot carry over faithfully with a
``ConversionError`` (a ``ValueError``) naming the layer and the reason, before any file is written.
The submodules import their optional dependency only when called (``pip install rnnlab[interop]``).

Weights keep Keras's layout in rnnlab (``kernel (D, G*H)``, ``recurrent_kernel (H, G*H)``, ``bias``), so
Keras needs no reordering; PyTorch and ONNX reorder the gate blocks (tables in ``_gates``).
"""
from ._common import ConversionError

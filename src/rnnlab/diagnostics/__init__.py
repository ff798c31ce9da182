"""``rnnlab.diagnostics``: see inside training — gradients through time, read from the hand-written BPTT.

- ``gradients``: ``record_hidden_gradients`` (∂L/∂h_t at every step of every recurrent layer, as
  the BPTT loop held it), ``state_jacobian_norms`` (‖∂h_{T-1}/∂h_t‖), ``spectral_radii``,
  ``saturation``, ``parameter_gradient_norms``, ``diagnose_batch`` (all of them on one batch);
- ``flow``: the ``GradientFlow`` callback, which records them during ``fit``;
- ``experiments``, ``plots``, ``cli``: ``rnnlab diagnose``, the lecture notes' vanishing and
  exploding gradients measured (matplotlib is imported only to draw).

Example::

    from rnnlab import diagnostics
    with diagnostics.record_hidden_gradients() as rec:
        model.compute_gradients(x, y)
    norms = rec.norms()["simple_rnn"]                 # (T,) mean ‖∂L/∂h_t‖₂ per step
    diagnostics.decay_per_step(norms)                 # e.g. 0.93: shrinks 7% per step back
"""
from .flow import GradientFlow
from .gradients import (GATE_BLOCKS, GradientReport, HiddenGradientRecord, HiddenGradientRecorder, decay_per_step,
                        diagnose_batch, hidden_gradient_norms, parameter_gradient_norms, record_hidden_gradients,
                        recurrent_layers, saturation, spectral_radii, spectral_radius, state_jacobian_norms,
                        state_jacobians, step_norms)

__all__ = ["GATE_BLOCKS", "GradientFlow", "GradientReport", "HiddenGradientRecord", "HiddenGradientRecorder",
           "decay_per_step", "diagnose_batch", "hidden_gradient_norms", "parameter_gradient_norms",
           "record_hidden_gradients", "recurrent_layers", "saturation", "spectral_radii", "spectral_radius",
           "state_jacobian_norms", "state_jacobians", "step_norms"]

"""``GradientFlow``: a callback that records the gradient diagnostics during ``fit``.

On the batches it is asked to record, the callback opens ``record_hidden_gradients`` around the
real training step (``on_train_batch_begin`` → ``on_train_batch_end``), so the numbers are those of
the step that updated the weights, read from its BPTT; no extra pass is run. After the step it
reads the per-parameter gradient norms (before the optimiser's clipping, which works on copies),
the recurrent kernels' spectral radii and the saturation of the step's forward pass. Recorded
steps run the NumPy loops instead of the compiled ones (the others are untouched).

Example::

    flow = GradientFlow(every_n_batches=50)
    model.fit(x, y, epochs=3, callbacks=[flow])
    flow.reports[-1].hidden["lstm"]          # (T,) ‖∂L/∂h_t‖ of the last recorded step
    flow.history["grad_norm/lstm/kernel"]    # one value per recorded step
"""
import contextlib

from ..callbacks import Callback
from .gradients import record_hidden_gradients, report_from_recorder


class GradientFlow(Callback):
    """Record ∂L/∂h_t, ‖∂h_{T-1}/∂h_t‖ (optional), spectral radii, saturation and gradient norms during ``fit``.

    Args:
        every_n_batches: record every this-many training steps (counted over the whole run, the
            first step included); None (default) records the first step of every epoch.
        jacobian_samples: also ``‖∂h_{T-1}/∂h_t‖₂`` over the first this-many samples of the
            recorded batch (0: no; it costs a forward and backward over samples·H rows).
        tol: saturation threshold (``rnnlab.diagnostics.saturation``).
        log_to: optional callbacks with a ``log_scalars(step, scalars)`` method (``TensorBoard``)
            that receive each report's ``scalars()``.
    Attributes:
        reports: one ``GradientReport`` per recorded step.
        steps: ``(epoch, batch, global step)`` of each report.
        history: ``{tag: [value per report]}``, the flat ``GradientReport.scalars()``.
    """

    def __init__(self, every_n_batches=None, jacobian_samples=0, tol=0.05, log_to=()):
        super().__init__()
        if every_n_batches is not None and (isinstance(every_n_batches, bool) or int(every_n_batches) != every_n_batches
                                            or every_n_batches < 1):
            raise ValueError(f"GradientFlow got every_n_batches={every_n_batches!r}; expected a positive int, or None "
                             "to record the first step of each epoch.")
        self.every_n_batches = None if every_n_batches is None else int(every_n_batches)
        self.jacobian_samples = int(jacobian_samples)
        self.tol = float(tol)
        self.log_to = list(log_to)
        self.reports, self.steps, self.history = [], [], {}
        self._stack = None
        self._epoch, self._global = 0, 0

    def on_train_begin(self, logs=None):
        self.reports, self.steps, self.history = [], [], {}
        self._global = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _wanted(self, batch):
        if self.every_n_batches is None:
            return batch == 0
        return self._global % self.every_n_batches == 0

    def on_train_batch_begin(self, batch, logs=None):
        self._close()
        if self._wanted(batch):
            self._stack = contextlib.ExitStack()
            self._recorder = self._stack.enter_context(
                record_hidden_gradients(keep_inputs=self.jacobian_samples > 0, tol=self.tol))

    def on_train_batch_end(self, batch, logs=None):
        if self._stack is not None:
            self._close()
            report = report_from_recorder(self.model, self._recorder, (logs or {}).get("loss", float("nan")),
                                          self.jacobian_samples)
            self._recorder = None
            self.reports.append(report)
            self.steps.append((self._epoch, batch, self._global))
            scalars = report.scalars()
            for tag, v in scalars.items():
                self.history.setdefault(tag, []).append(v)
            for sink in self.log_to:
                sink.log_scalars(self._global, scalars)
        self._global += 1

    def on_train_end(self, logs=None):
        self._close()

    def _close(self):
        if self._stack is not None:
            stack, self._stack = self._stack, None
            stack.close()

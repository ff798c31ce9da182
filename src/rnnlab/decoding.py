"""Decoding: greedy search, sampling (temperature, top-k, top-p) and beam search over any step function.

The step-function contract::

    logits, states = step_fn(tokens, states)

    tokens: (B,) int64       the last token of each of the B sequences
    states: anything the model carries: a NumPy array with the batch on axis 0, or a list/tuple of
            such (nested lists/tuples/None allowed), e.g. [[h1, c1], [h2, c2]] for a 2-layer LSTM.
            Decoding never looks inside except to reorder rows (``reorder_states``).
    logits: (B, V) float     unnormalised log-probabilities of the next token; ``log_softmax`` is
            applied here, so returning log-probabilities is fine (log_softmax is idempotent on them).

Each generated step calls ``step_fn`` exactly once, with the last tokens only (never the prefix).

Scores are sums of log-probabilities ``log p(y_t | y_<t) = log_softmax(logits_t)[y_t]`` of the
generated tokens, the end token included. After a sequence emits ``end_token`` it is finished: its
later positions are padded with ``end_token`` and add nothing to its score or length. Decoding stops
early when every sequence is finished. With ``end_token=None`` nothing finishes, so every result has
``max_length`` tokens and there is no padding.

Example::

    table = np.log([[0.1, 0.6, 0.3], [0.7, 0.1, 0.2], [0.2, 0.2, 0.6]])    # next-token log p by last token
    step = lambda tokens, states: (table[tokens], states)
    out = greedy(step, np.array([2, 1]), None, max_length=5, end_token=0)
    out.tokens      # [[2, 2, 2, 2, 2], [0, 0, 0, 0, 0]]    out.lengths  [5, 1]
"""
from typing import NamedTuple

import numpy as np

from . import backend


class Decoded(NamedTuple):
    """The result of ``greedy``, ``sample`` and ``beam_search``.

    tokens:  (B, L) int64, the generated tokens (not the start token), L <= max_length; positions
             after a sequence's end token are padded with ``end_token``.
    scores:  (B,) float64, the sum of log p of the generated tokens (end token included). For
             ``beam_search``, the length-normalised score used for ranking, ``sum / lengths**length_penalty``.
    lengths: (B,) int64, the number of generated tokens, end token included.
    """
    tokens: np.ndarray
    scores: np.ndarray
    lengths: np.ndarray


def reorder_states(states, index):
    """Apply ``a[index]`` to every array in a nested states structure.

    None stays None, lists stay lists, tuples stay tuples (named tuples too). ``index`` selects,
    repeats or permutes rows of the batch axis 0, e.g. ``np.repeat(np.arange(B), K)`` tiles each of
    B encoder states K times for beam search.

    Example::

        h, c = np.zeros((2, 8)), np.ones((2, 8))
        reorder_states([[h, c], None], np.array([0, 0, 1, 1]))    # [[(4, 8), (4, 8)], None]
    """
    if states is None:
        return None
    if isinstance(states, list):
        return [reorder_states(s, index) for s in states]
    if isinstance(states, tuple):
        items = [reorder_states(s, index) for s in states]
        return type(states)._make(items) if hasattr(states, "_fields") else tuple(items)
    a = np.asarray(states)
    if a.ndim == 0:
        raise TypeError(f"reorder_states found a state leaf {states!r} without a batch axis; expected arrays "
                        "with the batch on axis 0, lists/tuples of them, or None.")
    return a[index]


def log_softmax(logits, axis=-1):
    """``log_softmax(z)_i = z_i - max(z) - log Σ_j exp(z_j - max(z))``; -inf entries stay -inf."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - np.max(z, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def filter_top_k(logits, k):
    """Keep the ``k`` largest logits of each row and set the others to -inf.

    Entries tied with the k-th largest are all kept; ``k >= V`` keeps everything.

    Example::

        filter_top_k(np.array([[1.0, 3.0, 2.0]]), 2)     # [[-inf, 3.0, 2.0]]
    """
    _check_top_k(k)
    z = np.array(logits, dtype=np.float64)                              # (B, V) copy
    if k >= z.shape[-1]:
        return z
    kth = -np.partition(-z, k - 1, axis=-1)[..., k - 1:k]               # (B, 1) k-th largest
    z[z < kth] = -np.inf
    return z


def filter_top_p(logits, p):
    """Nucleus filtering (Holtzman et al. 2020): keep the smallest set of most-probable tokens whose
    probability sums to at least ``p``, and set the other logits to -inf.

    With π the probabilities softmax(z) sorted in decreasing order, token π_i is kept when the mass
    before it is below p: ``Σ_{j<i} π_j < p`` (up to a rounding tolerance of 1e-9), so the most
    probable token is always kept and ``p = 1`` keeps everything.

    Example::

        filter_top_p(np.log([[0.5, 0.3, 0.15, 0.05]]), 0.8)     # keeps tokens 0, 1 (0.5 + 0.3 >= 0.8)
    """
    _check_top_p(p)
    z = np.array(logits, dtype=np.float64)                              # (B, V) copy
    if p == 1:
        return z
    order = np.argsort(-z, axis=-1, kind="stable")                      # (B, V) most probable first
    probs = np.exp(log_softmax(np.take_along_axis(z, order, axis=-1)))
    before = np.cumsum(probs, axis=-1) - probs                          # mass before each sorted token
    drop = np.zeros(z.shape, dtype=bool)
    np.put_along_axis(drop, order, before >= p - 1e-9, axis=-1)
    z[drop] = -np.inf
    return z


def sample_next(logits, temperature=1.0, top_k=None, top_p=None, rng=None):
    """Draw one token per row from ``p ∝ softmax(logits / T)`` after top-k, then top-p, filtering.

    ``temperature=0`` is argmax (greedy), as ``do_sample=False`` elsewhere. ``rng``: a
    ``numpy.random.Generator``; None uses rnnlab's global one (``backend.rng()``).

    Args:
        logits: (B, V) unnormalised log-probabilities.
    Returns:
        (B,) int64 token ids.

    Example::

        sample_next(np.log([[0.5, 0.3, 0.2]]), top_k=2, rng=np.random.default_rng(0))   # [0] or [1]
    """
    _check_sampling(temperature, top_k, top_p)
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"sample_next expects logits of shape (B, V), got shape {z.shape}.")
    if temperature == 0:
        return np.argmax(z, axis=-1).astype(np.int64)
    z = z / temperature
    if top_k is not None:
        z = filter_top_k(z, top_k)
    if top_p is not None:
        z = filter_top_p(z, top_p)
    cdf = np.cumsum(np.exp(log_softmax(z)), axis=-1)                  # (B, V)
    cdf /= cdf[:, -1:]                                                   # last entry exactly 1
    u = (backend.rng() if rng is None else rng).random((z.shape[0], 1))  # (B, 1) in [0, 1)
    return np.sum(cdf <= u, axis=-1).astype(np.int64)                   # first i with cdf_i > u


def greedy(step_fn, start_tokens, states, max_length, end_token=None):
    """Greedy search: ``y_t = argmax_v log p(v | y_<t)`` for each of the B sequences.

    Args:
        step_fn: ``(tokens (B,), states) -> (logits (B, V), states)``, see the module docstring.
        start_tokens: (B,) ints, the first input token of each sequence (e.g. a BOS id).
        states: the initial states of the model (None, an array or nested lists/tuples of arrays).
        max_length: the most tokens to generate.
        end_token: the id that finishes a sequence, or None to always generate ``max_length`` tokens.
    Returns:
        ``Decoded(tokens (B, L), scores (B,), lengths (B,))``.

    Example::

        out = greedy(step, np.array([bos, bos]), model_states, max_length=20, end_token=eos)
    """
    return _decode(step_fn, start_tokens, states, max_length, end_token,
                   lambda logits: np.argmax(logits, axis=-1))


def sample(step_fn, start_tokens, states, max_length, end_token=None, temperature=1.0, top_k=None, top_p=None,
           seed=None):
    """Ancestral sampling: ``y_t ~ p ∝ softmax(logits_t / T)``, optionally restricted to the top-k
    tokens and then to the top-p nucleus (``filter_top_k``, ``filter_top_p``).

    ``temperature=0`` is argmax (the same as ``greedy``); T < 1 sharpens, T > 1 flattens.
    ``seed``: an int (or Generator) for repeatable samples; None draws from the global generator
    that ``backend.set_random_seed`` resets. ``scores`` are log-probabilities under the model
    itself (log_softmax of the raw logits), not under the tempered/filtered distribution.
    Other arguments and the result as in ``greedy``.

    Example::

        out = sample(step, np.full(8, bos), None, max_length=50, end_token=eos, temperature=0.8, top_p=0.9, seed=0)
    """
    _check_sampling(temperature, top_k, top_p)
    rng = backend.rng(seed)
    return _decode(step_fn, start_tokens, states, max_length, end_token,
                   lambda logits: sample_next(logits, temperature, top_k, top_p, rng))


def beam_search(step_fn, start_tokens, states, max_length, beam_width=4, end_token=None, length_penalty=1.0,
                return_all=False):
    """Batched beam search: keep the ``K = beam_width`` best partial hypotheses of each input.

    Each of the B inputs has K beams, so ``step_fn`` runs on B·K rows; the states are first tiled
    with ``reorder_states(states, np.repeat(np.arange(B), K))`` (rows b·K .. b·K+K-1 are input b) and
    at every step reordered by the parent beam each survivor extends. The raw score of a hypothesis
    is ``s = Σ_t log p(y_t | y_<t)``; at the first step only beam 0 is live (initial scores
    [0, -inf, ...]), so identical beams are not expanded twice.

    Per step and input, the 2K best of the K·V extensions are walked best raw score first: one that
    ends with ``end_token`` and ranks among the K best joins the input's finished list (as fairseq
    does), any other becomes an open beam, until K open beams are found. An input is done once it has
    K finished hypotheses and its best open beam, ranked as it stands, no longer beats the K-th best
    finished one (log-probabilities only fall as a beam grows, so for ``length_penalty=0`` this is
    exact); decoding stops when all inputs are done or after ``max_length`` steps, when the open beams
    count as finished too.
    Finished hypotheses are ranked by the length-normalised score (OpenNMT/fairseq "lenpen")::

        score = s / len ** length_penalty      len = generated tokens, end token included

    ``length_penalty=0`` ranks by raw log-probability sums (favours short outputs); 1 by the mean
    log-probability per token.

    Args:
        step_fn, start_tokens (B,), states, max_length, end_token: as in ``greedy``.
        beam_width: K >= 1; K = 1 is greedy search.
        length_penalty: the exponent above.
        return_all: also return, per input, the up to K best ``(tokens 1-D int64, score)`` pairs, best first.
    Returns:
        ``Decoded`` of the best hypothesis of each input (scores are the normalised ones), or
        ``(Decoded, hypotheses)`` with ``return_all=True``.

    Example::

        out, nbest = beam_search(decoder_step, np.full(B, bos), encoder_states, max_length=40, beam_width=5,
                                 end_token=eos, return_all=True)
        out.tokens[0], out.scores[0]         # the best translation of input 0 and its normalised score
    """
    start = _check_common(step_fn, start_tokens, max_length, end_token)
    if not _is_int(beam_width) or beam_width < 1:
        raise ValueError(f"beam_width must be an integer >= 1, got {beam_width!r}; use 1 for greedy search.")
    if not isinstance(length_penalty, (int, float, np.number)) or not np.isfinite(length_penalty):
        raise TypeError(f"length_penalty must be a finite number, got {length_penalty!r}; 0 ranks by raw "
                        "log-probability, 1 by log-probability per token.")
    B, K = start.size, int(beam_width)
    rows = np.repeat(np.arange(B), K)                                   # (B·K,) input of each row
    tokens, states = start[rows], reorder_states(states, rows)
    scores = np.full((B, K), -np.inf)
    scores[:, 0] = 0.0                                                  # only beam 0 is live at first
    history = np.zeros((B, K, 0), dtype=np.int64)                       # generated tokens of each beam
    finished = [[] for _ in range(B)]                                   # per input: (tokens, raw score)
    done = np.zeros(B, dtype=bool)
    for t in range(1, max_length + 1):
        logits, states = _step(step_fn, tokens, states, B * K, end_token)
        V = logits.shape[1]
        cand = (scores[:, :, None] + log_softmax(logits).reshape(B, K, V)).reshape(B, K * V)   # (B, K·V)
        n = min(2 * K, K * V)                   # at most K of them end (one per beam), so >= K stay open
        top = np.argpartition(-cand, n - 1, axis=1)[:, :n]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(cand, top, 1), 1, kind="stable"), 1)
        parent = np.zeros((B, K), dtype=np.int64)
        new_tok = np.zeros((B, K), dtype=np.int64)
        new_score = np.full((B, K), -np.inf)
        for b in range(B):
            ends = (top[b] % V == end_token) if end_token is not None else np.zeros(n, dtype=bool)   # (n,)
            take = np.cumsum(~ends) - ~ends < K                         # fewer than K open beams before it
            if not done[b]:
                for j in top[b][ends & (np.arange(n) < K)]:             # an end among the K best: finished
                    if cand[b, j] > -np.inf:
                        finished[b].append((np.append(history[b, j // V], end_token), cand[b, j]))
            opened = top[b][~ends & take]
            parent[b, :opened.size], new_tok[b, :opened.size] = opened // V, opened % V
            new_score[b, :opened.size] = cand[b, opened]
        history = np.concatenate([np.take_along_axis(history, parent[:, :, None], 1), new_tok[:, :, None]], 2)
        scores = new_score
        for b in range(B):
            if not done[b] and len(finished[b]) >= K:
                kth = sorted((float(s) / len(toks) ** length_penalty for toks, s in finished[b]), reverse=True)[K - 1]
                done[b] = not np.max(scores[b]) / t ** length_penalty > kth
        if done.all():
            break
        tokens = new_tok.ravel()
        states = reorder_states(states, (np.arange(B)[:, None] * K + parent).ravel())
    else:
        for b in range(B):                                              # max_length: open beams count
            if not done[b]:
                finished[b] += [(history[b, k], scores[b, k]) for k in range(K) if scores[b, k] > -np.inf]
    hyps = []
    for f in finished:
        ranked = sorted(((toks, float(s) / len(toks) ** length_penalty) for toks, s in f), key=lambda h: -h[1])
        hyps.append(ranked[:K])
    lengths = np.array([h[0][0].size for h in hyps], dtype=np.int64)
    out = np.full((B, lengths.max()), 0 if end_token is None else end_token, dtype=np.int64)
    for b, h in enumerate(hyps):
        out[b, :lengths[b]] = h[0][0]
    best = Decoded(out, np.array([h[0][1] for h in hyps]), lengths)
    return (best, hyps) if return_all else best


# ----------------------------------------------------------------------------------------- helpers

def _decode(step_fn, start_tokens, states, max_length, end_token, choose):
    """The loop shared by greedy and sample: one step_fn call per step, finished rows padded."""
    tokens = _check_common(step_fn, start_tokens, max_length, end_token)
    B = tokens.size
    out = np.zeros((B, max_length), dtype=np.int64)
    scores = np.zeros(B)
    lengths = np.zeros(B, dtype=np.int64)
    done = np.zeros(B, dtype=bool)
    for t in range(max_length):
        logits, states = _step(step_fn, tokens, states, B, end_token)  # (B, V)
        nxt = np.where(done, end_token or 0, choose(logits)).astype(np.int64)   # (B,) finished rows: padding
        scores += np.where(done, 0.0, log_softmax(logits)[np.arange(B), nxt])
        lengths += ~done
        out[:, t] = nxt
        if end_token is not None:
            done |= nxt == end_token
        tokens = nxt
        if done.all():
            break
    return Decoded(out[:, :t + 1], scores, lengths)


def _step(step_fn, tokens, states, rows, end_token):
    result = step_fn(tokens.copy(), states)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"step_fn must return a pair (logits, states), got {type(result).__name__}; "
                        "return the new states too, e.g. `return logits, states`.")
    logits = np.asarray(result[0], dtype=np.float64)
    if logits.ndim != 2 or logits.shape[0] != rows:
        raise ValueError(f"step_fn returned logits of shape {logits.shape}; expected ({rows}, V): one row of "
                         "next-token scores per sequence (B·beam_width rows in beam search). Return the scores "
                         "of the last step only, not of the whole sequence.")
    if end_token is not None and not 0 <= end_token < logits.shape[1]:
        raise ValueError(f"end_token={end_token} is not a token id of the vocabulary of size {logits.shape[1]} "
                         "that step_fn returned logits for.")
    return logits, result[1]


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _check_common(step_fn, start_tokens, max_length, end_token):
    if not callable(step_fn):
        raise TypeError(f"step_fn must be callable as `logits, states = step_fn(tokens, states)`, "
                        f"got {type(step_fn).__name__}.")
    start = np.asarray(start_tokens)
    if start.ndim != 1 or start.size == 0 or not np.issubdtype(start.dtype, np.integer):
        raise ValueError(f"start_tokens must be a non-empty 1-D array of integer token ids (one per sequence), "
                         f"got shape {start.shape} and dtype {start.dtype}; e.g. np.full(B, bos_id).")
    if not _is_int(max_length) or max_length < 1:
        raise ValueError(f"max_length must be an integer >= 1 (the most tokens to generate), got {max_length!r}.")
    if end_token is not None and not _is_int(end_token):
        raise TypeError(f"end_token must be an integer token id or None, got {end_token!r}.")
    return start.astype(np.int64)


def _check_top_k(k):
    if not _is_int(k):
        raise TypeError(f"top_k must be an integer >= 1 or None, got {k!r} of type {type(k).__name__}.")
    if k < 1:
        raise ValueError(f"top_k must be >= 1 (the number of most likely tokens kept), got {k}; "
                         "use None for no top-k filtering.")


def _check_top_p(p):
    if not isinstance(p, (int, float, np.number)) or isinstance(p, bool) or not 0 < p <= 1:
        raise ValueError(f"top_p must be a number in (0, 1] (the probability mass kept), got {p!r}; "
                         "use None or 1.0 for no nucleus filtering.")


def _check_sampling(temperature, top_k, top_p):
    if not isinstance(temperature, (int, float, np.number)) or isinstance(temperature, bool) \
            or not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}; "
                         "use 1.0 for the model's distribution and 0 for greedy (argmax) decoding.")
    if top_k is not None:
        _check_top_k(top_k)
    if top_p is not None:
        _check_top_p(top_p)

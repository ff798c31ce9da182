from collections import namedtuple

import numpy as np
import pytest

from rnnlab import backend
from rnnlab.decoding import (Decoded, beam_search, filter_top_k, filter_top_p, greedy, log_softmax, reorder_states,
                             sample, sample_next)

NEG = -np.inf


def table_step(table):
    """A bigram model: next-token log-probabilities are the row of ``table`` for the last token."""
    table = np.asarray(table, dtype=np.float64)

    def step(tokens, states):
        return table[tokens], states
    return step


def timed_step(tables):
    """Next-token logits from ``tables[step, last token]``; the states carry each row's step counter."""
    def step(tokens, steps):
        return tables[steps, tokens], steps + 1
    return step


def probs_table(rows):
    """log of a table of probabilities given as {last token: {next token: p}} over V = 8 tokens."""
    t = np.full((8, 8), NEG)
    for last, nxt in rows.items():
        for tok, p in nxt.items():
            t[last, tok] = np.log(p)
    return t


def replay_logprob(step_fn, start, states, tokens):
    """log p(tokens | start) for one sequence, feeding it token by token (B = 1)."""
    total, last = 0.0, np.array([start])
    for tok in tokens:
        logits, states = step_fn(last, states)
        total += log_softmax(logits)[0, tok]
        last = np.array([tok])
    return total


# ------------------------------------------------------------------------------------------- greedy

END, A, B, BOS, C, D, E, F = range(8)


def test_greedy_follows_argmax_pads_and_stops_early():
    table = probs_table({
        A: {END: 0.1, A: 0.1, B: 0.6, BOS: 0.2},
        B: {END: 0.2, A: 0.1, B: 0.1, BOS: 0.6},
        BOS: {END: 0.7, A: 0.2, B: 0.1},
        END: {END: 0.5, A: 0.5},
    })
    out = greedy(table_step(table), np.array([A, B, BOS]), None, max_length=10, end_token=END)
    assert isinstance(out, Decoded)
    # A -> B -> BOS -> END;  B -> BOS -> END;  BOS -> END
    np.testing.assert_array_equal(out.tokens, [[B, BOS, END], [BOS, END, END], [END, END, END]])
    assert out.tokens.dtype == np.int64
    np.testing.assert_array_equal(out.lengths, [3, 2, 1])
    np.testing.assert_allclose(out.scores, [np.log(0.6 * 0.6 * 0.7), np.log(0.6 * 0.7), np.log(0.7)])


def test_greedy_without_end_token_generates_max_length():
    table = np.log([[0.1, 0.9], [0.8, 0.2]])
    out = greedy(table_step(table), [0, 1], None, max_length=4)
    np.testing.assert_array_equal(out.tokens, [[1, 0, 1, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(out.lengths, [4, 4])
    np.testing.assert_allclose(out.scores, 2 * np.log([0.9 * 0.8, 0.8 * 0.9]))


def test_step_fn_called_once_per_step_with_last_tokens_only():
    rng = np.random.default_rng(0)
    table = rng.standard_normal((6, 6))
    calls = []

    def step(tokens, states):
        calls.append(tokens.copy())
        return table[tokens], states

    out = greedy(step, np.array([1, 2, 3]), None, max_length=7, end_token=0)
    assert len(calls) == out.tokens.shape[1]
    assert all(c.shape == (3,) for c in calls)
    np.testing.assert_array_equal(calls[0], [1, 2, 3])
    for t in range(1, len(calls)):
        np.testing.assert_array_equal(calls[t], out.tokens[:, t - 1])

    calls.clear()
    sample(step, np.array([1, 2]), None, max_length=5, seed=0)
    assert len(calls) == 5 and all(c.shape == (2,) for c in calls)

    calls.clear()
    out = beam_search(step, np.array([1, 2]), None, max_length=6, beam_width=3)
    assert len(calls) == 6 and all(c.shape == (6,) for c in calls)
    assert out.tokens.shape == (2, 6)


# -------------------------------------------------------------------------------------- beam search

@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_beam_width_one_equals_greedy(seed):
    rng = np.random.default_rng(seed)
    V, T = 6, 8
    tables = 2 * rng.standard_normal((T, V, V))
    start = rng.integers(0, V, size=5)
    for end in (None, 0):
        g = greedy(timed_step(tables), start, np.zeros(5, dtype=int), T, end_token=end)
        b = beam_search(timed_step(tables), start, np.zeros(5, dtype=int), T, beam_width=1, end_token=end,
                        length_penalty=0.0)
        np.testing.assert_array_equal(b.tokens, g.tokens)
        np.testing.assert_array_equal(b.lengths, g.lengths)
        np.testing.assert_allclose(b.scores, g.scores, rtol=1e-12)
        b1 = beam_search(timed_step(tables), start, np.zeros(5, dtype=int), T, beam_width=1, end_token=end)
        np.testing.assert_allclose(b1.scores, g.scores / g.lengths, rtol=1e-12)


def test_beam_search_finds_the_better_sequence_greedy_misses():
    table = probs_table({
        BOS: {A: 0.6, B: 0.4},
        A: {C: 0.3, D: 0.3, E: 0.3, END: 0.1},
        B: {F: 1.0},
        C: {END: 1.0}, D: {END: 1.0}, E: {END: 1.0}, F: {END: 1.0},
    })
    step = table_step(table)
    g = greedy(step, [BOS], None, max_length=5, end_token=END)
    np.testing.assert_array_equal(g.tokens, [[A, C, END]])
    np.testing.assert_allclose(g.scores, [np.log(0.6 * 0.3)])

    out, hyps = beam_search(step, [BOS], None, max_length=5, beam_width=2, end_token=END, length_penalty=0.0,
                            return_all=True)
    np.testing.assert_array_equal(out.tokens, [[B, F, END]])
    np.testing.assert_allclose(out.scores, [np.log(0.4)])
    np.testing.assert_array_equal(out.lengths, [3])
    assert len(hyps) == 1 and len(hyps[0]) == 2
    second, score = hyps[0][1]
    assert second[0] == A and second[1] in (C, D, E) and second[2] == END
    np.testing.assert_allclose(score, np.log(0.6 * 0.3))


def test_length_penalty_zero_prefers_short_one_prefers_long():
    table = probs_table({
        BOS: {END: 0.5, A: 0.45, B: 0.05},
        A: {END: 0.9, B: 0.1},
        B: {END: 0.5, A: 0.5},
    })
    kw = dict(max_length=4, beam_width=2, end_token=END, return_all=True)
    short, long_ = np.log(0.5), np.log(0.45 * 0.9)             # raw sums: short wins
    out, hyps = beam_search(table_step(table), [BOS], None, length_penalty=0.0, **kw)
    np.testing.assert_array_equal(out.tokens, [[END]])
    np.testing.assert_array_equal(out.lengths, [1])
    np.testing.assert_allclose(out.scores, [short])
    np.testing.assert_array_equal(hyps[0][1][0], [A, END])
    np.testing.assert_allclose(hyps[0][1][1], long_)

    for lp in (1.0, 0.5):                                      # score / len**lp: long wins
        out, hyps = beam_search(table_step(table), [BOS], None, length_penalty=lp, **kw)
        np.testing.assert_array_equal(out.tokens, [[A, END]])
        np.testing.assert_array_equal(out.lengths, [2])
        np.testing.assert_allclose(out.scores, [long_ / 2 ** lp])
        np.testing.assert_allclose(hyps[0][1][1], short / 1 ** lp)
        assert [h[1] for h in hyps[0]] == sorted((h[1] for h in hyps[0]), reverse=True)


def test_beam_search_batch_with_different_inputs_and_end_times():
    table = probs_table({
        BOS: {A: 0.6, B: 0.4},
        A: {C: 0.3, D: 0.3, E: 0.3, END: 0.1},
        B: {F: 1.0},
        C: {END: 1.0}, D: {END: 1.0}, E: {END: 1.0}, F: {END: 1.0},
    })
    out = beam_search(table_step(table), [BOS, F, C], None, max_length=5, beam_width=2, end_token=END,
                      length_penalty=0.0)
    np.testing.assert_array_equal(out.tokens, [[B, F, END], [END, END, END], [END, END, END]])
    np.testing.assert_array_equal(out.lengths, [3, 1, 1])
    np.testing.assert_allclose(out.scores, [np.log(0.4), 0.0, 0.0])


def _history_model(V):
    """A model whose logits depend on each row's whole history, carried in nested states.

    states = [history (N, t), (code (N,), None)]: ``code`` is a hash of the history kept in a
    separate leaf, so leaves reordered inconsistently are caught; each history forbids one token,
    so a token paired with another beam's history is caught too.
    """
    def code(hist):
        return (hist * 7 ** np.arange(hist.shape[1])).sum(axis=1) % 1_000_003

    def logits_of(hist):                                        # (N, V)
        out = np.stack([np.random.default_rng(int(c)).standard_normal(V) * 2 for c in code(hist)])
        out[np.arange(len(hist)), code(hist) % (V - 1) + 1] = NEG
        return out

    def step(tokens, states):
        hist, (c, none) = states
        assert none is None and isinstance(states, list) and isinstance(states[1], tuple)
        assert hist.shape == (tokens.shape[0], hist.shape[1])
        np.testing.assert_array_equal(c, code(hist))            # leaves reordered together
        if hist.shape[1]:
            allowed = np.isfinite(logits_of(hist)[np.arange(len(tokens)), tokens])
            assert allowed.all(), "a token was given with another beam's states"
        hist = np.concatenate([hist, tokens[:, None]], axis=1)
        return logits_of(hist), [hist, (code(hist), None)]

    def initial(n):
        return [np.zeros((n, 0), dtype=np.int64), (np.zeros(n, dtype=np.int64), None)]
    return step, initial


@pytest.mark.parametrize("end", [None, 0])
def test_beam_search_reorders_states_with_the_beams(end):
    V, K = 10, 3
    step, initial = _history_model(V)
    start = np.array([1, 2, 3, 4])
    out, hyps = beam_search(step, start, initial(4), max_length=6, beam_width=K, end_token=end, length_penalty=0.0,
                            return_all=True)
    for b in range(4):
        assert len(hyps[b]) == K
        for toks, score in hyps[b]:                             # each hypothesis' score is its true log p
            np.testing.assert_allclose(score, replay_logprob(step, start[b], initial(1), toks), rtol=1e-10)
        np.testing.assert_array_equal(out.tokens[b, :out.lengths[b]], hyps[b][0][0])
    assert len({tuple(t) for t, _ in hyps[0]}) == K             # no duplicate hypotheses


def test_beam_search_first_step_expands_one_beam_only():
    table = np.log([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]])
    out, hyps = beam_search(table_step(table), [0], None, max_length=1, beam_width=3, length_penalty=0.0,
                            return_all=True)
    assert [int(t[0]) for t, _ in hyps[0]] == [0, 1, 2]
    np.testing.assert_allclose([s for _, s in hyps[0]], np.log([0.5, 0.3, 0.2]))


def test_reorder_states_keeps_structure():
    Pair = namedtuple("Pair", "h c")
    h, c = np.arange(6).reshape(3, 2), np.arange(3)
    out = reorder_states([Pair(h, c), None, ([h], c)], np.array([2, 2, 0]))
    assert isinstance(out, list) and isinstance(out[0], Pair) and out[1] is None
    assert isinstance(out[2], tuple) and isinstance(out[2][0], list)
    np.testing.assert_array_equal(out[0].h, h[[2, 2, 0]])
    np.testing.assert_array_equal(out[2][1], [2, 2, 0])
    assert reorder_states(None, [0]) is None
    with pytest.raises(TypeError, match="without a batch axis"):
        reorder_states([h, 3.0], [0])


# ----------------------------------------------------------------------------------------- sampling

def test_sampling_with_tiny_or_zero_temperature_is_greedy():
    rng = np.random.default_rng(7)
    tables = rng.standard_normal((6, 5, 5))
    start = rng.integers(0, 5, size=8)
    g = greedy(timed_step(tables), start, np.zeros(8, dtype=int), 6, end_token=0)
    for T in (1e-6, 0):
        s = sample(timed_step(tables), start, np.zeros(8, dtype=int), 6, end_token=0, temperature=T, seed=1)
        np.testing.assert_array_equal(s.tokens, g.tokens)
        np.testing.assert_allclose(s.scores, g.scores)


def test_sampling_repeats_with_a_seed_and_scores_are_model_logprobs():
    rng = np.random.default_rng(3)
    table = rng.standard_normal((6, 6))
    start = np.arange(6).repeat(5)
    a = sample(table_step(table), start, None, 8, end_token=0, seed=11)
    b = sample(table_step(table), start, None, 8, end_token=0, seed=11)
    c = sample(table_step(table), start, None, 8, end_token=0, seed=12)
    np.testing.assert_array_equal(a.tokens, b.tokens)
    assert not np.array_equal(a.tokens, c.tokens)
    backend.set_random_seed(5)                                  # seed=None: the global generator
    d = sample(table_step(table), start, None, 8, end_token=0, temperature=1.5)
    backend.set_random_seed(5)
    e = sample(table_step(table), start, None, 8, end_token=0, temperature=1.5)
    np.testing.assert_array_equal(d.tokens, e.tokens)
    for i in range(len(start)):                                 # the score of a sample is its log p under the model
        toks = a.tokens[i, :a.lengths[i]]
        assert (a.tokens[i, a.lengths[i]:] == 0).all() and (0 not in toks[:-1])
        np.testing.assert_allclose(a.scores[i], replay_logprob(table_step(table), start[i], None, toks))


def test_top_k_never_samples_outside_the_k_best():
    logits = np.array([0.5, 2.0, -1.0, 1.5, 0.0, 1.0])          # top 3: tokens 1, 3, 5
    np.testing.assert_array_equal(np.isfinite(filter_top_k(logits[None], 3)), [[0, 1, 0, 1, 0, 1]])
    ids = sample_next(np.tile(logits, (2000, 1)), top_k=3, rng=np.random.default_rng(0))
    assert set(ids.tolist()) == {1, 3, 5}
    step = table_step(np.tile(logits, (6, 1)))
    out = sample(step, np.zeros(2000, dtype=int), None, 3, top_k=2, temperature=3.0, seed=1)
    assert set(out.tokens.ravel().tolist()) == {1, 3}
    np.testing.assert_array_equal(filter_top_k(logits[None], 10), logits[None])


def test_top_p_keeps_exactly_the_nucleus():
    probs = np.array([0.5, 0.3, 0.15, 0.05])
    perm = np.array([2, 0, 3, 1])                               # unsorted input: probs[perm]
    for p, kept in ((0.8, 2), (0.81, 3), (0.3, 1), (0.5, 1), (0.51, 2), (0.96, 4), (1.0, 4)):
        z = filter_top_p(np.log(probs)[None], p)
        np.testing.assert_array_equal(np.isfinite(z[0]), np.arange(4) < kept, err_msg=f"p={p}")
        np.testing.assert_array_equal(z[0, :kept], np.log(probs[:kept]))
        z = filter_top_p(np.log(probs[perm])[None] + 3.0, p)    # shift-invariant, order-free
        np.testing.assert_array_equal(np.isfinite(z[0]), perm < kept, err_msg=f"p={p}")
    ids = sample_next(np.tile(np.log(probs), (4000, 1)), top_p=0.8, rng=np.random.default_rng(0))
    freq = np.bincount(ids, minlength=4) / 4000
    assert freq[2] == freq[3] == 0
    np.testing.assert_allclose(freq[:2], [0.625, 0.375], atol=0.03)   # renormalised nucleus


def chi_square(ids, probs):
    counts = np.bincount(ids, minlength=len(probs))
    expected = len(ids) * probs
    return ((counts - expected) ** 2 / expected).sum()


def test_sampling_frequencies_follow_tempered_softmax():
    logits = np.array([2.0, 1.0, 0.0, -1.0, -2.0])
    soft = lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    step = table_step(np.tile(logits, (5, 1)))
    N = 20000                                                   # df = 4: P(chi2 > 18.5) = 0.001
    t1 = sample(step, np.zeros(N, dtype=int), None, 1, temperature=1.0, seed=0).tokens[:, 0]
    assert chi_square(t1, soft(logits)) < 18.5
    t2 = sample(step, np.zeros(N, dtype=int), None, 1, temperature=2.0, seed=0).tokens[:, 0]
    assert chi_square(t2, soft(logits / 2)) < 18.5
    assert chi_square(t2, soft(logits)) > 1000                  # flatter than T = 1
    assert np.bincount(t2, minlength=5)[0] < np.bincount(t1, minlength=5)[0]
    t3 = sample_next(np.tile(logits, (N, 1)), temperature=0.5, rng=np.random.default_rng(1))
    assert chi_square(t3, soft(logits / 0.5)) < 18.5


def test_log_softmax_is_normalised_and_idempotent():
    z = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, NEG]])
    ls = log_softmax(z)
    np.testing.assert_allclose(np.exp(ls).sum(axis=1), [1.0, 1.0])
    np.testing.assert_allclose(log_softmax(ls), ls)
    assert ls[1, 2] == NEG and np.isfinite(ls[1, :2]).all()


# ------------------------------------------------------------------------------------ bad arguments

def test_bad_arguments_raise_clear_errors():
    step = table_step(np.log(np.full((4, 4), 0.25)))
    start = np.array([0, 1])
    with pytest.raises(ValueError, match="temperature must be a finite number >= 0"):
        sample(step, start, None, 3, temperature=-1.0)
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        sample(step, start, None, 3, top_k=0)
    with pytest.raises(TypeError, match="top_k must be an integer"):
        sample(step, start, None, 3, top_k=2.5)
    with pytest.raises(ValueError, match=r"top_p must be a number in \(0, 1\]"):
        sample(step, start, None, 3, top_p=0.0)
    with pytest.raises(ValueError, match="top_p.*got 1.5"):
        filter_top_p(np.zeros((1, 4)), 1.5)
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        filter_top_k(np.zeros((1, 4)), 0)
    with pytest.raises(ValueError, match="beam_width must be an integer >= 1, got 0"):
        beam_search(step, start, None, 3, beam_width=0)
    for fn in (greedy, sample, beam_search):
        with pytest.raises(ValueError, match="max_length must be an integer >= 1.*got 0"):
            fn(step, start, None, 0)
        with pytest.raises(ValueError, match=r"start_tokens must be a non-empty 1-D array.*shape \(2, 1\)"):
            fn(step, start[:, None], None, 3)
        with pytest.raises(ValueError, match="start_tokens.*dtype float64"):
            fn(step, np.array([0.0, 1.0]), None, 3)
        with pytest.raises(ValueError, match=r"step_fn returned logits of shape \(1, 4\); expected"):
            fn(lambda tokens, states: (np.zeros((1, 4)), states), start, None, 3)
        with pytest.raises(TypeError, match=r"step_fn must return a pair \(logits, states\)"):
            fn(lambda tokens, states: np.zeros((len(tokens), 4)), start, None, 3)
        with pytest.raises(ValueError, match="end_token=9 is not a token id"):
            fn(step, start, None, 3, end_token=9)
        with pytest.raises(TypeError, match="step_fn must be callable"):
            fn("model", start, None, 3)
    with pytest.raises(ValueError, match="sample_next expects logits of shape"):
        sample_next(np.zeros(4))


def test_beam_search_keeps_going_while_an_open_beam_can_still_win():
    # tokens: 0 END, 1 A, 2 B, 3 START, 4 D. From START an early END is likeliest; A leads to a long but
    # nearly certain "A D END" whose per-token score (-1.07 / 3) beats every short hypothesis.
    P = np.full((5, 5), 1e-9)
    P[3, [0, 1, 2]] = [0.4, 0.35, 0.25]        # START -> END | A | B
    P[1, [0, 4]] = [0.01, 0.99]                # A -> END | D
    P[2, [0, 4]] = [0.9, 0.1]                  # B -> END | D
    P[4, 0] = 0.99                             # D -> END
    P[0, 0] = 1.0
    table = np.log(P / P.sum(axis=1, keepdims=True))
    step = lambda tokens, states: (table[tokens], states)
    out, hyps = beam_search(step, np.array([3]), None, max_length=6, beam_width=2, end_token=0,
                            length_penalty=1.0, return_all=True)
    # after step 2 two hypotheses have finished ("END" -0.92, "B END" -0.745 per token), but the open
    # "A D" (-1.06 / 2 = -0.53) still beats them, so the search goes on and finds "A D END"
    assert out.tokens[0].tolist() == [1, 4, 0]
    expected = (table[3, 1] + table[1, 4] + table[4, 0]) / 3
    assert out.scores[0] == pytest.approx(expected, rel=1e-6)
    assert [h[0].tolist() for h in hyps[0]] == [[1, 4, 0], [2, 0]]

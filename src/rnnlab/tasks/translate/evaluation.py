"""Scoring translations: corpus BLEU and chrF (sacrebleu, its default 13a tokenisation and chrF settings) on
detokenised output, and the exact-match rate.

References are the normalised target sentences of the split (NFKC, lowercase, single spaces: see ``data``),
since the model writes lowercase; so BLEU and chrF here are case-insensitive. A test source with several
Tatoeba translations is scored against all of them (multi-reference BLEU; sacrebleu takes one reference
stream per reference index, ``None`` where a source has fewer). A hypothesis is an exact match when its
tokens equal the tokens of one of its references.

Example::

    scores = evaluate(translator, "tatoeba:../shared/data/tatoeba/fra.txt.xz", beam_width=5)
    scores["bleu"], scores["chrf"], scores["exact_match"]
"""
import time

from .data import Dataset, load_dataset, tokenize


def corpus_scores(hypotheses, references, level="word"):
    """``{"bleu", "chrf", "exact_match"}`` (percentages) of detokenised ``hypotheses`` (list of str) against
    ``references`` (one list of reference strings per hypothesis), and sacrebleu's ``signatures``.
    ``level``: the target tokens (``"word"``/``"char"``) compared for exact match."""
    from sacrebleu.metrics import BLEU, CHRF
    if len(hypotheses) != len(references) or not hypotheses:
        raise ValueError(f"corpus_scores got {len(hypotheses)} hypotheses and {len(references)} reference lists; "
                         "expected the same non-zero number.")
    if any(not refs for refs in references):
        raise ValueError("Every hypothesis needs at least one reference.")
    n = max(len(refs) for refs in references)
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(n)]
    bleu, chrf = BLEU(), CHRF()
    b, c = bleu.corpus_score(hypotheses, streams), chrf.corpus_score(hypotheses, streams)
    exact = sum(any(tokenize(h, level) == tokenize(r, level) for r in refs) for h, refs in zip(hypotheses, references))
    return {"bleu": float(b.score), "chrf": float(c.score), "exact_match": 100.0 * exact / len(hypotheses),
            "signatures": {"bleu": str(bleu.get_signature()), "chrf": str(chrf.get_signature())}}


def evaluate(translator, data, split="test", beam_width=5, length_penalty=1.0, max_sentences=None, batch_size=64):
    """Translate every distinct source of ``split`` (``"test"`` or ``"valid"``; the first ``max_sentences``)
    and score them. ``data``: ``"tatoeba:PATH"`` (split again with the model's saved settings) or a
    ``Dataset``. Returns the scores plus ``sentences``, ``sources``, ``hypotheses``, ``references``,
    ``seconds``."""
    if split not in ("test", "valid", "train"):
        raise ValueError(f"split must be 'test', 'valid' or 'train', got {split!r}.")
    dataset = data if isinstance(data, Dataset) else load_dataset(data, translator.config, translator.src_vocab,
                                                                  translator.tgt_vocab)
    sources, references = getattr(dataset, split).references()
    if not sources:
        raise ValueError(f"The {split!r} split is empty; use another split or a larger valid_fraction.")
    if max_sentences is not None:
        sources, references = sources[:max_sentences], references[:max_sentences]
    t0 = time.perf_counter()
    hyps = translator.translate(sources, beam_width=beam_width, length_penalty=length_penalty,
                                batch_size=batch_size, warn=False)
    seconds = time.perf_counter() - t0
    scores = corpus_scores(hyps, references, translator.config.level("tgt"))
    return {**scores, "sentences": len(sources), "sources": sources, "hypotheses": hyps, "references": references,
            "seconds": seconds}

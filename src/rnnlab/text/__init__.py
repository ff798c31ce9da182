"""Text pipeline of seed 004: tokenise, keep the top-k words as ids, cut/pad to T tokens.

Example::

    from rnnlab import text
    tok = text.tokenizers.get("english")
    tokens = tok.tokenize_many(texts, progress=True)
    vocab = text.Vocabulary.build(tokens, max_size=20000)
    x = text.pad_sequences(vocab.encode_many(tokens), maxlen=200)      # (N, 200) int32
"""
from . import tokenizers
from .sequences import pad_sequences
from .tokenizers import EnglishTokenizer, KoreanTokenizer, Tokenizer, WhitespaceTokenizer
from .vocabulary import Vocabulary
from .corpus import LMVocabulary, char_tokens, load_ptb, read_text, split_text, word_tokens
from .streams import batchify, num_windows, windows

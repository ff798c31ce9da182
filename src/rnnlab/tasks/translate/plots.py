"""Drawing attention weights (matplotlib, imported only here and only when asked; Agg backend, no display).

Example::

    src, out, weights = translator.attention_weights("I love you.")
    save_attention_map("attention.png", src, out, weights)
"""


def save_attention_map(path, source_tokens, output_tokens, weights):
    """Write a heat map of ``weights`` (len(output), len(source)): row t = where output token t looked."""
    try:
        import matplotlib
    except ImportError:
        raise ValueError("--attention-map needs matplotlib: pip install 'rnnlab[translate]'.") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    T, S = weights.shape
    fig, ax = plt.subplots(figsize=(1.0 + 0.5 * S, 1.0 + 0.4 * T))
    ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(S), source_tokens, rotation=60, ha="right")
    ax.set_yticks(range(T), output_tokens)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

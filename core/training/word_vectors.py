"""Word vectors learnt from the training and unlabelled texts with gensim, to start the embedding.

Why: a labelled set of a few thousand reviews sees most words a handful of times, too few
for a randomly started embedding to place them; word2vec places every word that occurs a few
times in any of the available texts (Mikolov et al. 2013). gensim is the well-kept library
for it, so nothing here re-implements the training itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from core.errors import TrainingError
from core.text.vocabulary import PAD_INDEX, Vocabulary


def train_word_vectors(token_lists: Sequence[Sequence[str]], vocab: Vocabulary, dim: int, *,
                       epochs: int = 5, seed: int = 13, workers: int = 2,
                       progress: Callable[[float, str], None] | None = None,
                       cancel: Callable[[], bool] | None = None) -> tuple[np.ndarray, float]:
    """([len(vocab), dim] float32 rows for the vocabulary, share of its words learnt).

    Rows of words gensim did not learn (and ``<unk>``) are drawn like the embedding's own
    start; learnt rows are scaled to the same spread, so the first updates of the classifier
    see inputs of the size they would otherwise. The padding row is zero. Training runs one
    epoch per ``train`` call so that ``cancel`` is honoured between epochs.
    """
    from gensim.models import Word2Vec  # imported here: only runs that pretrain pay for it

    sentences = [list(tokens) for tokens in token_lists if tokens]
    if not sentences:
        raise TrainingError("There is no text to learn word vectors from.")
    model = Word2Vec(vector_size=dim, window=5, min_count=1, sg=1, negative=5,
                     sample=1e-4, workers=max(1, workers), seed=seed)
    model.build_vocab(sentences)
    start_alpha, end_alpha = model.alpha, model.min_alpha
    for epoch in range(epochs):
        if cancel is not None and cancel():
            raise TrainingError("Learning word vectors was cancelled.")
        # One epoch at a time with the learning rate gensim would use across all of them.
        begin = start_alpha - (start_alpha - end_alpha) * epoch / epochs
        end = start_alpha - (start_alpha - end_alpha) * (epoch + 1) / epochs
        model.train(sentences, total_examples=len(sentences), epochs=1, start_alpha=begin,
                    end_alpha=end)
        if progress is not None:
            progress((epoch + 1) / epochs, f"word vectors: epoch {epoch + 1}/{epochs}")
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((len(vocab), dim)).astype(np.float32)
    learnt = [index for index, word in enumerate(vocab.itos)
              if index > 1 and word in model.wv.key_to_index]
    if learnt:
        vectors = np.stack([model.wv[vocab.itos[i]] for i in learnt]).astype(np.float32)
        vectors = (vectors - vectors.mean(0)) / max(float(vectors.std()), 1e-8)
        table[learnt] = vectors
    table[PAD_INDEX] = 0.0
    return table, len(learnt) / max(len(vocab) - 2, 1)

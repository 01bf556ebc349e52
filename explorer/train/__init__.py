"""Training embedding spaces from data, one module per trainer, each saving a normal
space: ``corpus`` and ``word2vec`` (gensim's Word2Vec), ``beside_glove`` (a trained word
space beside GloVe), ``encoder``, ``simclr`` and ``clip`` (small image and image–text
models), ``image_eval`` (their held-out figures) and ``image_jobs`` (train, judge, save).
"""

__all__ = [
    "beside_glove",
    "clip",
    "corpus",
    "encoder",
    "image_eval",
    "image_jobs",
    "simclr",
    "word2vec",
]

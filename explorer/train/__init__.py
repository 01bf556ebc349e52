"""Training embedding spaces from data: one module per trainer, each saving a normal space.

``corpus`` reads and tokenises text, ``word2vec`` trains gensim's Word2Vec and saves the
result with :func:`explorer.build.build_space`, ``compare`` sets a trained word space
beside GloVe.
"""

"""symsharing: is symmetry-induced parameter sharing an inductive bias?

The package behind the book: groups and their actions, weight tying by orbits, the model
families, the toy tasks, training, metrics and the experiments of each chapter.
"""

__version__ = "0.1.0"

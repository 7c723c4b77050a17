"""The main study (Kim, "An Empirical Study of Symmetry-Induced Parameter Sharing as an Inductive
Bias in Neural Networks"): three model families on three tasks along four axes.

- ``config``: how models are trained, tuned and scored; each experiment's grid (full and quick)
- ``runner``: tuning, training units in the engine, scoring, cached tidy records
- ``axes``: the experiments themselves (what each trains)
- ``families``, ``augment``: the model families and augmentation by the task's group
- ``protocol``: budgets and the rules of learning-rate tuning
- ``orbits``, ``ceilings``: orbit representatives and exact ceilings of tied classifiers
- ``analysis``: from records to the claims' answers
- ``soft_sharing``: the soft-sharing family against mlp and shared

Imports the core library, the engine and ``symsharing.stats``; never theory or parameter space.
"""

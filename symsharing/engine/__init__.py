"""The sweep engine's inside, below ``symsharing.train`` (which holds ``fit`` and ``fit_many``).

- ``draws``: each model's own random draws (mini-batches, augmentation elements)
- ``stacks``: training a stack of K models of one architecture at once
- ``pool``: the worker processes (or a Dask cluster) that train stacks on every core
- ``cache``: the on-disk results cache, keyed by configuration and code

Imports only the core library (groups, models, settings).
"""

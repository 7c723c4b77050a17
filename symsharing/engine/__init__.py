"""The sweep engine's inside, below ``symsharing.train`` (which holds ``fit`` and ``fit_many``).

- ``draws``: each model's own random draws (mini-batches, augmentation elements)
- ``stacks``: training a stack of K models of one architecture at once
- ``compiled``: the loss of an MLP stack compiled once per architecture (opt-in)
- ``pool``: the worker processes (or a Dask cluster) that train stacks on every core
- ``mainguard``: whether a script may start worker processes (the ``spawn`` main-module trap)
- ``cache``: the on-disk results cache, keyed by configuration and code

Imports only the core library (groups, models, settings).
"""

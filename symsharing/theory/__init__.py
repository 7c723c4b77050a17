"""Theory: closed forms for linear models under a symmetry and exact least squares (``linear``),
their calibration against trained models with a noise-averaged estimate (``calibration``), and
invariant kernel ridge regression (``kernels``).

Imports the core library, the engine and ``symsharing.stats``; never the study or parameter space.
"""

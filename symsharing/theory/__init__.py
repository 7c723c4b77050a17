"""Theory: closed forms for linear models under a symmetry and their calibration against trained
models (``linear``), and invariant kernel ridge regression (``kernels``).

Imports the core library, the engine and ``symsharing.stats``; never the study or parameter space.
"""

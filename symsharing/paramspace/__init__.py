"""Parameter-space symmetry: transformations of the weights that leave a network's function
unchanged (hidden-unit permutations, positive rescalings of ReLU units) and what they do to the
loss landscape (Zhao, Walters & Yu, "Symmetry in Neural Network Parameter Spaces", 2025).

- ``permutation_spec``: the permutation spec of an architecture; permuting, rescaling, interpolating
- ``matching``: weight, activation and rotation matching (Ainsworth et al. 2023, git-re-basin)
- ``repair``: REPAIR (Jordan et al. 2023)
- ``barriers``: interpolation curves and loss barriers (linear mode connectivity)
- ``connectivity``, ``lmc_study``: the mode-connectivity experiments and Lim et al.'s protocol
"""

from symsharing.paramspace.barriers import barrier_of, interpolation_curve, loss_barrier
from symsharing.paramspace.matching import (
    activation_matching,
    channel_matching,
    roll_channels,
    rotation_matching,
    weight_matching,
)
from symsharing.paramspace.permutation_spec import (
    UnitAxes,
    hidden_sizes,
    interpolate,
    permutation_group_order,
    permutation_spec,
    permute_hidden,
    rescale_hidden,
)
from symsharing.paramspace.repair import repair

__all__ = ["permute_hidden", "rescale_hidden", "weight_matching", "channel_matching", "roll_channels",
           "rotation_matching", "activation_matching", "repair", "interpolate",
           "loss_barrier", "interpolation_curve", "barrier_of", "hidden_sizes", "permutation_group_order",
           "permutation_spec", "UnitAxes"]

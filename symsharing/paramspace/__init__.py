"""Parameter-space symmetry: transformations of the weights that leave a network's function
unchanged (hidden-unit permutations, positive rescalings of ReLU units) and what they do to the
loss landscape (Zhao, Walters & Yu, "Symmetry in Neural Network Parameter Spaces", 2025).

- ``permutation_spec``: the permutation spec of an architecture; permuting, rescaling, interpolating
- ``matching``: weight, activation and rotation matching (Ainsworth et al. 2023, git-re-basin)
- ``repair``: REPAIR (Jordan et al. 2023)
- ``barriers``: interpolation curves and loss barriers (linear mode connectivity)
- ``connectivity``, ``lmc_study``: the mode-connectivity experiments and Lim et al.'s protocol
- ``balance``: the quantities rescaling symmetries conserve along training (Kunin et al. 2021)
- ``hessian``: flat directions of the loss from symmetry generators (Zhao et al. 2023)
- ``sharpness``: top Hessian eigenvalue and trace, plain and rescaling-invariant (Dinh et al. 2017)
- ``teleport``: symmetry teleportation along the rescaling orbit (Zhao et al. 2022, 2024)
- ``two_layer``, ``teleport_toy``, ``dynamics``, ``teleport_study``: the experiments of the chapter
  on training dynamics (Zhao et al.'s two-layer and toy set-ups, the book's own tasks)
- ``bayes``, ``variational``: Bayesian MLPs with fixed (W-Asymmetric) entries, trained by the ELBO
- ``interpolation``: monotonic linear interpolation from initial to trained weights
- ``zoo``, ``metanet``: populations of trained networks, and metanetworks that read their weights
- ``training_effects``: Lim et al.'s findings on training (Bayesian networks, interpolation,
  metanetworks) as the chapter runs them
"""

from symsharing.paramspace.balance import (
    balance_after_step,
    balance_trajectory,
    linear_balance,
    neuron_balance,
    rescalable_units,
)
from symsharing.paramspace.barriers import barrier_of, interpolation_curve, loss_barrier
from symsharing.paramspace.bayes import BayesianLinear, BayesianMLP, gaussian_kl
from symsharing.paramspace.hessian import (
    hessian_eigenvalues,
    null_space_size,
    rescaling_generators,
    symmetry_identities,
    zero_loss_minimum,
)
from symsharing.paramspace.interpolation import interpolation_losses, mli_statistics
from symsharing.paramspace.matching import (
    activation_matching,
    channel_matching,
    roll_channels,
    rotation_matching,
    weight_matching,
)
from symsharing.paramspace.metanet import (
    METANETS,
    make_metanet,
    metanet_scores,
    unit_features,
    weight_statistics,
    zoo_features,
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
from symsharing.paramspace.sharpness import hessian_trace, top_hessian_eigenvalue
from symsharing.paramspace.teleport import gradient_norm, teleport
from symsharing.paramspace.variational import (
    expected_calibration_error,
    fit_variational,
    posterior_scores,
    predictive_log_probs,
)
from symsharing.paramspace.zoo import (
    ZOO_FAMILIES,
    Zoo,
    build_zoo,
    draw_hyperparameters,
    free_parameters,
    zoo_network,
)

__all__ = ["permute_hidden", "rescale_hidden", "weight_matching", "channel_matching", "roll_channels",
           "rotation_matching", "activation_matching", "repair", "interpolate",
           "loss_barrier", "interpolation_curve", "barrier_of", "hidden_sizes", "permutation_group_order",
           "permutation_spec", "UnitAxes", "neuron_balance", "linear_balance", "rescalable_units",
           "balance_after_step", "balance_trajectory", "rescaling_generators", "symmetry_identities",
           "hessian_eigenvalues", "null_space_size", "zero_loss_minimum", "top_hessian_eigenvalue",
           "hessian_trace", "teleport", "gradient_norm",
           "BayesianLinear", "BayesianMLP", "gaussian_kl", "fit_variational", "predictive_log_probs",
           "expected_calibration_error", "posterior_scores", "mli_statistics", "interpolation_losses",
           "ZOO_FAMILIES", "Zoo", "build_zoo", "draw_hyperparameters", "free_parameters", "zoo_network",
           "METANETS", "make_metanet", "metanet_scores", "unit_features", "weight_statistics", "zoo_features"]

import pytest
import torch

from symsharing.groups import cyclic
from symsharing.models import MLP, SharedMLP
from symsharing.study.augment import OrbitAverage
from symsharing.study.ceilings import population_score, ring_inputs
from symsharing.study.lookup import RingTable, tabulated
from symsharing.tasks import get_task

DTYPES = [torch.float32, torch.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("build", [lambda: MLP(16, 2, 8), lambda: SharedMLP(cyclic(16), 2, 3)])
def test_a_table_gives_the_models_outputs_on_any_ring(build, dtype):
    torch.manual_seed(0)
    model = build().to(dtype)
    table = RingTable(model)
    X, _ = get_task("ring").sample(300, 5)
    X = torch.cat([X.to(dtype), ring_inputs(16)[[0, 65535]].to(dtype)])  # all -1 and all +1 too
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    with torch.no_grad():
        torch.testing.assert_close(table(X), model(X), atol=tolerance, rtol=tolerance)


def test_a_batch_off_the_ring_is_passed_to_the_model():
    torch.manual_seed(0)
    model = MLP(16, 2, 8)
    X = torch.randn(7, 16)
    with torch.no_grad():
        assert torch.equal(RingTable(model)(X), model(X))


def test_population_score_and_orbit_average_read_through_the_table():
    torch.manual_seed(1)
    task = get_task("ring")
    model = MLP(16, 2, 8)
    average = OrbitAverage(model, task.group)
    table_average = OrbitAverage(tabulated(task, model), task.group)
    assert population_score(task, table_average) == pytest.approx(population_score(task, average), abs=1e-9)
    assert tabulated(get_task("set"), model) is model


@pytest.mark.parametrize(("x", "error"), [(torch.ones(3, 15), ValueError), (torch.ones(16), ValueError),
                                          ("ring", ValueError)])
def test_bad_inputs_are_named(x, error):
    table = RingTable(MLP(16, 2, 4))
    with pytest.raises(error, match="RingTable expects input"):
        table(x)


def test_bad_construction_is_named():
    with pytest.raises(TypeError, match="model must be"):
        RingTable("mlp")
    with pytest.raises(ValueError, match="n must be"):
        RingTable(MLP(16, 2, 4), n=30)

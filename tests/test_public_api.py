"""The public matmul API promised in issue #2, imported the way an outside user imports it."""
import pytest, torch
from scratchnet.matmul import matmul_loops, matmul_elementwise, matmul_python, neuron

VARIANTS = [matmul_loops, matmul_elementwise]

@pytest.mark.parametrize('f', VARIANTS, ids=lambda f: f.__name__)
def test_matches_at(f):
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 6, generator=g), torch.randn(6, 3, generator=g)
    torch.testing.assert_close(f(a, b), a @ b, rtol=1e-5, atol=1e-5)

@pytest.mark.parametrize('f', VARIANTS, ids=lambda f: f.__name__)
def test_dtype_device_and_empty_shapes(f):
    ai, bi = torch.randint(-5, 5, (2, 3)), torch.randint(-5, 5, (3, 2))
    assert torch.equal(f(ai, bi), ai @ bi) and f(ai, bi).dtype == torch.int64
    assert f(ai.float(), bi.double()).dtype == torch.float64
    assert f(torch.randn(0, 3), torch.randn(3, 4)).shape == (0, 4)
    assert torch.equal(f(torch.randn(2, 0), torch.randn(0, 4)), torch.zeros(2, 4))
    assert f(ai, bi).device == ai.device

@pytest.mark.parametrize('f', VARIANTS, ids=lambda f: f.__name__)
def test_errors_name_function_and_shapes(f):
    with pytest.raises(TypeError, match=f'{f.__name__}: a must be a tensor, got list'): f([[1.]], torch.ones(1, 1))
    with pytest.raises(ValueError, match=rf"{f.__name__}: a must be 2-D \('n k'\), got a \(3,\), b \(3, 1\)"): f(torch.ones(3), torch.ones(3, 1))
    with pytest.raises(ValueError, match=rf"{f.__name__}: sizes disagree: b must be 'k m' with k = 3, got a \(2, 3\), b \(2, 3\)"): f(torch.ones(2, 3), torch.ones(2, 3))
    with pytest.raises(TypeError, match=f'{f.__name__}: bool matrices cannot be multiplied'): f(torch.ones(2, 3, dtype=torch.bool), torch.ones(3, 2, dtype=torch.bool))

def test_python_and_neuron():
    assert matmul_python([[1, 2], [3, 4]], [[5], [6]]) == [[17], [39]]
    assert neuron(torch.tensor([1., 2.]), torch.tensor([3., -4.]), 1.).item() == 0.   # relu(3 - 8 + 1) = 0
    assert neuron(torch.tensor([1., 2.]), torch.tensor([3., 4.]), 1.).item() == 12.

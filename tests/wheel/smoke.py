"""Use an installed scratchnet the way a user would: run by tests/wheel/check_wheel.py with the fresh venv's Python,
from a folder outside the repository.

    python smoke.py MODULE [MODULE ...]     # the modules the repository's scratchnet/ folder has

Imports every module of the installed package, fails if one the repository has is missing from it (a file left out
of the wheel) or if the package was imported from the repository instead of site-packages, then calls one public
function of each module on small inputs. A module without an entry in SMOKE fails: add one when you add a notebook.
"""
import importlib, pkgutil, sys, tempfile, traceback
from pathlib import Path
import numpy as np, torch

def _matmul(m):
    a, b = torch.randn(3, 4), torch.randn(4, 2)
    assert torch.allclose(m.matmul_elementwise(a, b), a @ b, atol=1e-5)
    assert m.matmul_python([[1, 2]], [[3], [4]]) == [[11]]

def _broadcasting(m): assert tuple(m.broadcast_shapes((3, 1), (4,))) == (3, 4)

def _einsum(m):
    a, b = torch.randn(2, 3, 4), torch.randn(2, 4, 5)
    assert torch.allclose(m.einsum('bij,bjk->bik', a, b), a @ b, atol=1e-5)

def _init(m):
    w = m.init_weights(100, 10, 'kaiming', generator=0)
    assert w.shape == (100, 10) and m.relu(torch.tensor([-1., 2.])).tolist() == [0., 2.]

def _backward(m):
    x, y = torch.randn(8, 5, dtype=torch.float64), torch.randn(8, dtype=torch.float64)
    ps = [torch.randn(5, 4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64),
          torch.randn(4, 1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)]
    m.forward_and_backward(x, y, *ps)
    grads = m.autograd_grads(x, y, *ps)
    for name, p in zip(['w1', 'b1', 'w2', 'b2'], ps): assert torch.allclose(p.g, grads[name], atol=1e-8), name

def _layers(m):
    x, y = torch.randn(8, 5), torch.randn(8)
    model = m.Model(torch.randn(5, 4), torch.zeros(4), torch.randn(4, 1), torch.zeros(1))
    loss = model(x, y); model.backward()
    assert loss.ndim == 0 and all(p.g.shape == p.shape for p in model.params)

def _modules(m):
    out = m.Model(5, 4, 1)(torch.randn(8, 5), torch.randn(8))
    assert out.ndim == 0

def _data(m):
    a, b, mean, std = m.normalise(torch.rand(10, 4), torch.rand(5, 4))
    assert a.shape == (10, 4) and abs(a.mean().item()) < 1e-5
    x_train, y_train, x_valid, y_valid = m.load_digits_data()    # scikit-learn's bundled digits: no download
    assert x_train.shape[1] == 64 and len(x_train) + len(x_valid) == 1797

def _mnist(m):
    with tempfile.TemporaryDirectory() as d:                     # the IDX (MNIST) file format round trip
        arr = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
        m.write_idx(Path(d) / 'x.idx.gz', arr)
        assert np.array_equal(m.read_idx(Path(d) / 'x.idx.gz'), arr)

def _quiz(m):
    assert len(m.QUESTIONS) >= 40
    assert isinstance(m.check_text(1, 'some words about neurons').passed, bool)

def _training(m):
    x, y = torch.randn(6, 10), torch.tensor([0, 1, 2, 3, 4, 5])
    torch.testing.assert_close(m.cross_entropy(x, y), torch.nn.functional.cross_entropy(x, y))
    assert 0 <= m.accuracy(x, y) <= 1

def _conv(m):
    x, w, b = torch.randn(2, 3, 6, 6), torch.randn(4, 3, 3, 3), torch.randn(4)
    torch.testing.assert_close(m.conv2d(x, w, b, stride=2, padding=1),
                               torch.nn.functional.conv2d(x, w, b, stride=2, padding=1), rtol=1e-4, atol=1e-4)
    assert m.simple_cnn()(torch.randn(2, 64)).shape == (2, 10)

def _npnet(m):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    assert np.allclose(m.matmul_einsum(a, b), a @ b)
    model = m.Model(m.init_weights(4, 5, rng=rng), np.zeros(5), m.init_weights(5, 1, rng=rng), np.zeros(1))
    loss = model(a, rng.standard_normal(3)); model.backward()
    assert np.ndim(loss) == 0 and set(model.grads()) == {'w1', 'b1', 'w2', 'b2'}

def _bench(m):
    text = m.format_report({**m.run_benchmarks(quick=True, only=['peak', 'numpy'], progress=False)})
    assert '2. @ 1024×1024×1024' in text and '6. one MLP training step' in text, text

def _timing(m):
    r = m.compare_speed('two sums', lambda: sum([1]), lambda: sum([2]), reps=1, min_run_time=0.001)
    assert r.ours > 0 and r.reference > 0 and m.speed_sentence(r), r

def _fast(m):
    a, b = torch.randn(3, 4), torch.randn(4, 2)
    assert torch.allclose(m.einsum('ik,kj->ij', a, b), a @ b, atol=1e-5)
    x, w = torch.randn(2, 3, 6, 6), torch.randn(4, 3, 3, 3)
    assert torch.allclose(m.Conv2dFunction.apply(x, w, None, 1, 1), torch.nn.functional.conv2d(x, w, None, 1, 1), atol=1e-4)

def _sandbox(m):
    o = m.run_isolated(abs, m.call_each, [(-2,)], timeout=30)
    assert o.ok and o.value == [('ok', 2, (-2,))], o

def _quiz_checks(m): assert m.check(13, 'tensor([2, 3])').passed and not m.check(14, 'It does not raise an error').passed

def _checks(m):
    assert m.check_shapes('f', a=(torch.zeros(2, 3), 'n k'), b=(torch.zeros(3, 4), 'k m')) == dict(n=2, k=3, m=4)

def _practice(m):
    nb = {'cells': [{'cell_type': 'code', 'id': 'a', 'metadata': {}, 'outputs': [], 'execution_count': None,
                     'source': 'def relu(x):\n    "ReLU."\n    return x.clamp_min(0.)'},
                    {'cell_type': 'code', 'id': 'b', 'metadata': {}, 'outputs': [], 'execution_count': None,
                     'source': '#| exercise relu\n#| hint Clamp the negatives.\nassert relu(torch.tensor([-1.])).item() == 0'}]}
    assert [e.name for e in m.find_exercises(nb)] == ['relu']

SMOKE = {'matmul': _matmul, 'broadcasting': _broadcasting, 'einsum': _einsum, 'init': _init, 'backward': _backward,
         'layers': _layers, 'modules': _modules, 'data': _data, 'mnist': _mnist, 'quiz': _quiz, 'bench': _bench, 'training': _training,
         'conv': _conv, 'npnet': _npnet, 'sandbox': _sandbox, 'quiz_checks': _quiz_checks, 'checks': _checks,
         'practice': _practice, 'timing': _timing, 'fast': _fast}
NOT_PUBLIC = {'_modidx'}                                     # nbdev's index: imported, has no functions to call

def main(expected):
    import scratchnet
    where = Path(scratchnet.__file__).resolve().parent
    print(f"scratchnet {scratchnet.__version__} imported from {where}")
    if 'site-packages' not in where.parts: sys.exit(f"FAIL: scratchnet was not imported from an installed package: {where}")
    installed = {m.name for m in pkgutil.iter_modules(scratchnet.__path__)}
    failures = [f"{name}: in the repository's scratchnet/ but not in the wheel" for name in sorted(set(expected) - installed)]
    for name in sorted(installed):
        try:
            mod = importlib.import_module(f'scratchnet.{name}')
            if name in NOT_PUBLIC: print(f"ok   scratchnet.{name} (imported)"); continue
            if name not in SMOKE: raise LookupError(f"no smoke call for scratchnet.{name}: add one to SMOKE in {__file__}")
            SMOKE[name](mod)
            print(f"ok   scratchnet.{name}")
        except Exception:
            failures.append(f"{name}:\n{traceback.format_exc()}")
            print(f"FAIL scratchnet.{name}")
    if failures: sys.exit("FAIL:\n" + '\n'.join(failures))
    print(f"all {len(installed)} modules of the installed package import and work")

if __name__ == '__main__': main(sys.argv[1:])

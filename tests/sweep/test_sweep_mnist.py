"""The bad-input sweep over scratchnet.mnist: IDX files and the MNIST downloader.
MNIST itself is never downloaded: small IDX files are served from 127.0.0.1, with bounded requests only."""
import gzip, hashlib, http.server, os, tempfile, threading, time
from contextlib import contextmanager
from pathlib import Path
import numpy as np, torch, pytest
from hypothesis import given, settings, strategies as st
from harness import outcome
from scratchnet.mnist import parse_idx, read_idx, write_idx, data_dir, sha256_file, load_mnist

M = 'mnist'
nan, inf = float('nan'), float('inf')

def raised(call, kind):
    "Run `call`; return the exception if it is a `kind`, else the result (for environment errors that are not bad arguments)."
    try: return call()
    except kind as e: return e

# IDX: parse_idx, read_idx, write_idx
def idx_bytes(a, code=None):
    a = np.asarray(a); code = code or {'u1': 8, 'i1': 9, 'i2': 11, 'i4': 12, 'f4': 13, 'f8': 14}[a.dtype.str[1:]]
    return bytes([0, 0, code, a.ndim]) + np.array(a.shape, '>u4').tobytes() + a.astype(a.dtype.newbyteorder('>')).tobytes()

@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.binary(max_size=40))
def test_parse_idx_any_bytes(raw):
    "Any bytes at all: an array whose size is what the header declares, or a clear error."
    outcome(M, 'parse_idx', lambda: parse_idx(raw), what=raw[:12].hex(),
            ok=lambda a: isinstance(a, np.ndarray) and a.nbytes == len(raw) - 4 - 4 * raw[3])

@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.sampled_from(['u1', 'i1', '>i2', '<i4', 'f4', '>f8']), st.lists(st.integers(0, 3), min_size=1, max_size=4), st.integers(0, 10**6))
def test_idx_round_trip(dt, shape, seed):
    a = (np.random.default_rng(seed).standard_normal(shape) * 50).astype(dt)
    outcome(M, 'parse_idx', lambda: parse_idx(idx_bytes(a)), ref=lambda: a.astype(a.dtype.newbyteorder('=')), what=f"{dt} {shape}")

@pytest.mark.parametrize('what,raw', [('header sizes overflow int64', bytes([0, 0, 0x0E, 3]) + np.array([2**32 - 1] * 3, '>u4').tobytes() + bytes(8)),
                                      ('header sizes 0', bytes([0, 0, 8, 2]) + bytes(8)), ('255 dimensions', bytes([0, 0, 8, 255]) + bytes(1020)),
                                      ('255 dims of size 1', bytes([0, 0, 8, 255]) + np.ones(255, '>u4').tobytes() + b'\x07')])
def test_parse_idx_headers(what, raw):
    n = raw[3]; shape = tuple(int(v) for v in np.frombuffer(raw, '>u4', n, 4)) if len(raw) >= 4 + 4 * n else None
    fits = shape is not None and int(np.prod(shape, dtype=object)) == len(raw) - 4 - 4 * n and n <= 64
    outcome(M, 'parse_idx', lambda: parse_idx(raw), error=not fits, ok=lambda a: a.shape == shape, what=what)

@pytest.mark.parametrize('what,raw', [('str', '0000'), ('None', None), ('list', [0, 0, 8, 1, 0, 0, 0, 0]), ('int', 5), ('array', np.zeros(8, np.uint8))])
def test_parse_idx_types(what, raw): outcome(M, 'parse_idx', lambda: parse_idx(raw), error=True, what=what)

def test_parse_idx_buffers():
    a = np.arange(6, dtype=np.uint8).reshape(2, 3)
    for what, raw in [('bytearray', bytearray(idx_bytes(a))), ('memoryview', memoryview(idx_bytes(a)))]:
        outcome(M, 'parse_idx', lambda: parse_idx(raw), ref=lambda: a, what=what)

def test_read_write_idx():
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); a = np.arange(12, dtype=np.int16).reshape(3, 4)
        for name in ('a.idx', 'a.idx.gz'):
            outcome(M, 'write_idx', lambda: write_idx(d/name, a), ok=lambda r: r is None, what=name)
            outcome(M, 'read_idx', lambda: read_idx(d/name), ref=lambda: a, what=name)
            outcome(M, 'read_idx', lambda: read_idx(str(d/name)), ref=lambda: a, what=f"{name} as str")
        outcome(M, 'write_idx', lambda: write_idx(d/'l.idx', [[1., 2.]]), ok=lambda r: r is None, what='a list')
        outcome(M, 'read_idx', lambda: read_idx(d/'l.idx'), ref=lambda: np.array([[1., 2.]]), what='a list back')
        outcome(M, 'write_idx', lambda: write_idx(d/'t.idx', a.T), ok=lambda r: r is None, what='non-contiguous')
        outcome(M, 'read_idx', lambda: read_idx(d/'t.idx'), ref=lambda: a.T.copy(), what='non-contiguous back')
        for what, args in [('None path', (None, a)), ('int path', (3, a)), ('uint64', (d/'x.idx', a.astype(np.uint64))), ('bool', (d/'x.idx', a > 3)),
                           ('0-d', (d/'x.idx', np.array(3, np.uint8))), ('object', (d/'x.idx', np.array([None]))), ('complex', (d/'x.idx', a + 1j)),
                           ('None array', (d/'x.idx', None)), ('float16', (d/'x.idx', a.astype(np.float16)))]:
            outcome(M, 'write_idx', lambda: write_idx(*args), error=True, what=what)
        outcome(M, 'write_idx', lambda: raised(lambda: write_idx(d/'no'/'dir.idx', a), OSError),
                ok=lambda e: isinstance(e, OSError) and 'write_idx' in str(e), what='missing folder')
        (d/'junk.gz').write_bytes(b'\x1f\x8b' + bytes(30)); (d/'empty').write_bytes(b'')
        (d/'bomb.gz').write_bytes(gzip.compress(bytes(10**6)))
        for what, args in [('None', (None,)), ('int', (3,)), ('directory', (d,)), ('broken gzip', (d/'junk.gz',)), ('empty file', (d/'empty',)),
                           ('more than max_bytes', (d/'bomb.gz', 1000))]:
            outcome(M, 'read_idx', lambda: read_idx(*args), error=True, what=what)
        outcome(M, 'read_idx', lambda: raised(lambda: read_idx(d/'missing'), FileNotFoundError),
                ok=lambda e: isinstance(e, FileNotFoundError) and 'read_idx' in str(e), what='missing file')
        outcome(M, 'sha256_file', lambda: sha256_file(d/'a.idx'), ref=lambda: hashlib.sha256((d/'a.idx').read_bytes()).hexdigest())
        for what, p in [('None', None), ('int', 3), ('bytes', b'x')]: outcome(M, 'sha256_file', lambda: sha256_file(p), error=True, what=what)
        for what, p in [('directory', d), ('missing', d/'missing')]:
            outcome(M, 'sha256_file', lambda: raised(lambda: sha256_file(p), OSError),
                    ok=lambda e: isinstance(e, OSError) and 'sha256_file' in str(e), what=what)

WRITE_BAD = {'ragged list': [[1, 2], [3]], 'ragged nested list': [[[1]], [[1, 2]]], 'a string': 'abc',
             'tensor that requires grad': torch.ones(2, requires_grad=True), 'meta tensor': torch.ones(2, device='meta'),
             'bfloat16 tensor': torch.ones(2, dtype=torch.bfloat16),
             'a dimension of 2**32 (a view of one byte)': np.broadcast_to(np.zeros(1, np.uint8), (2**32,)),
             'a dimension of 2**40 (a view)': np.broadcast_to(np.zeros((1, 1), np.uint8), (3, 2**40))}

@pytest.mark.parametrize('what', WRITE_BAD)
def test_write_idx_bad_arrays(what):
    with tempfile.TemporaryDirectory() as d:
        outcome(M, 'write_idx', lambda: write_idx(Path(d)/'x.idx', WRITE_BAD[what]), error=True, what=what)
        assert listing(d) == [], f"write_idx({what}) wrote {listing(d)}"

def test_write_idx_largest_size_and_tensors():
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        outcome(M, 'write_idx', lambda: write_idx(d/'w.idx', np.broadcast_to(np.zeros(1, np.uint8), (0, 2**32 - 1))), ok=lambda r: r is None,
                what='a dimension of 2**32 - 1, the largest IDX can store')
        outcome(M, 'read_idx', lambda: read_idx(d/'w.idx'), ok=lambda r: r.shape == (0, 2**32 - 1) and r.dtype == np.uint8, what='the largest size back')
        outcome(M, 'write_idx', lambda: write_idx(d/'p.idx', torch.arange(4, dtype=torch.int32)), ok=lambda r: r is None, what='a plain tensor')
        outcome(M, 'read_idx', lambda: read_idx(d/'p.idx'), ref=lambda: np.arange(4, dtype=np.int32), what='a plain tensor back')

@pytest.mark.parametrize('mb', [None, 10**12, np.int64(100), 2**31, '20', 2.5, 0, -1, True, [20], 10], ids=repr)
def test_read_idx_max_bytes(mb):
    "`max_bytes`: a whole number of bytes at least 1, or None for no limit; anything else is refused before the file is read."
    a = np.arange(12, dtype=np.int16).reshape(3, 4)
    with tempfile.TemporaryDirectory() as d:
        for name in ('a.idx', 'a.idx.gz'):
            write_idx(Path(d)/name, a)
            fits = mb is None or (type(mb) in (int, np.int64) and mb >= len(idx_bytes(a)))
            outcome(M, 'read_idx', lambda: read_idx(Path(d)/name, max_bytes=mb), ref=lambda: a, error=not fits, what=f"{name} max_bytes={mb!r}")

@pytest.mark.parametrize('fn', ['read_idx', 'write_idx', 'sha256_file', 'data_dir', 'load_mnist'])
def test_paths_with_nul(fn):
    "A NUL character, which no file name can hold: a clear ValueError, not the OS layer's 'embedded null byte'."
    with tempfile.TemporaryDirectory() as d:
        bad = Path(d) / 'a\x00b'
        call = {'read_idx': lambda: read_idx(bad), 'write_idx': lambda: write_idx(bad, np.ones(2, np.uint8)), 'sha256_file': lambda: sha256_file(bad),
                'data_dir': lambda: data_dir(bad), 'load_mnist': lambda: load_mnist(bad, download=False, checksums=SUMS)}[fn]
        outcome(M, fn, call, error=True, what='NUL in the path')
        assert listing(d) == []

def test_data_dir():
    outcome(M, 'data_dir', lambda: data_dir('/x/y'), ref=lambda: Path('/x/y'))
    outcome(M, 'data_dir', lambda: data_dir(Path('~/z')), ref=lambda: Path.home()/'z', what='~')
    for what, v in [('int', 5), ('list', ['a']), ('bytes', b'/x')]: outcome(M, 'data_dir', lambda: data_dir(v), error=True, what=what)

# load_mnist, against a loopback server
class _Handler(http.server.BaseHTTPRequestHandler):
    timeout = 5
    def do_GET(self):
        self.server.requests.append(self.path)
        body = self.server.files.get(self.path.lstrip('/'))
        try:
            if body is None: return self.send_error(404)
            self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
            step = 16 if self.server.trickle else max(len(body), 1)
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step]); self.wfile.flush(); time.sleep(self.server.trickle)
        except (BrokenPipeError, ConnectionResetError): pass
    def log_message(self, *args): pass

@contextmanager
def serve(files, trickle=0.):
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    srv.files, srv.requests, srv.trickle, srv.daemon_threads = files, [], trickle, True
    thread = threading.Thread(target=srv.serve_forever, kwargs=dict(poll_interval=0.05), daemon=True)
    old = os.environ.get('no_proxy'); os.environ['no_proxy'] = '127.0.0.1,localhost'
    thread.start()
    try: yield f'http://127.0.0.1:{srv.server_address[1]}/', srv.requests
    finally:
        srv.shutdown(); srv.server_close(); thread.join(timeout=5)
        if old is None: del os.environ['no_proxy']
        else: os.environ['no_proxy'] = old

def tiny_files(n_train=5, n_valid=3):
    rng = np.random.default_rng(0)
    arrays = {'train-images-idx3-ubyte.gz': rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              'train-labels-idx1-ubyte.gz': rng.integers(0, 10, n_train, dtype=np.uint8),
              't10k-images-idx3-ubyte.gz': rng.integers(0, 256, (n_valid, 28, 28), dtype=np.uint8),
              't10k-labels-idx1-ubyte.gz': rng.integers(0, 10, n_valid, dtype=np.uint8)}
    files = {n: gzip.compress(idx_bytes(a), mtime=0) for n, a in arrays.items()}
    return arrays, files, {n: hashlib.sha256(b).hexdigest() for n, b in files.items()}
ARRAYS, FILES, SUMS = tiny_files()

def mnist_ref():
    x = torch.tensor(ARRAYS['train-images-idx3-ubyte.gz'], dtype=torch.float32).reshape(5, -1)
    xv = torch.tensor(ARRAYS['t10k-images-idx3-ubyte.gz'], dtype=torch.float32).reshape(3, -1)
    m, s = x.mean(), x.std()
    return ((x - m) / s, torch.tensor(ARRAYS['train-labels-idx1-ubyte.gz']).long(), (xv - m) / s, torch.tensor(ARRAYS['t10k-labels-idx1-ubyte.gz']).long())

def listing(d): return sorted(str(p.relative_to(d)) for p in Path(d).rglob('*'))

BAD_MNIST = [('base_url None', dict(base_url=None)), ('base_url 5', dict(base_url=5)), ('base_url relative', dict(base_url='mirror/mnist')),
             ('base_url ""', dict(base_url='')), ('timeout 0', dict(timeout=0)), ('timeout -1', dict(timeout=-1)), ('timeout nan', dict(timeout=nan)),
             ('timeout inf', dict(timeout=inf)), ('timeout "30"', dict(timeout='30')), ('timeout None', dict(timeout=None)),
             ('download "yes"', dict(download='yes')), ('download None', dict(download=None)), ('download 1', dict(download=1)),
             ('checksums a list', dict(checksums=['x'])), ('checksums missing', dict(checksums={'train-images-idx3-ubyte.gz': 'x'})),
             ('cache_dir 3', dict(cache_dir=3)), ('cache_dir a list', dict(cache_dir=['/tmp'])), ('device "gpu9"', dict(device='gpu9')),
             ('device 3.5', dict(device=3.5))]

@pytest.mark.parametrize('what,kw', BAD_MNIST, ids=[w for w, _ in BAD_MNIST])
def test_load_mnist_arguments(what, kw):
    with tempfile.TemporaryDirectory() as cache:
        outcome(M, 'load_mnist', lambda: load_mnist(**{'cache_dir': cache, 'checksums': SUMS, **kw}), error=True, what=what)
        assert listing(cache) == [], f"load_mnist({what}) left {listing(cache)} behind"

def test_load_mnist_cache_is_a_file():
    with tempfile.NamedTemporaryFile() as f:
        outcome(M, 'load_mnist', lambda: load_mnist(f.name, checksums=SUMS, base_url='http://127.0.0.1:9/'), error=True, what='cache_dir a file')

def test_load_mnist_server():
    with tempfile.TemporaryDirectory() as cache, serve(FILES) as (url, requests):
        outcome(M, 'load_mnist', lambda: load_mnist(cache, base_url=url, timeout=10, checksums=SUMS), ref=mnist_ref, what='download')
        outcome(M, 'load_mnist', lambda: load_mnist(Path(cache), download=False, checksums=SUMS), ref=mnist_ref, what='cache, offline')
        outcome(M, 'load_mnist', lambda: load_mnist(cache, base_url=url.rstrip('/'), timeout=10, device='cpu',
                                                    checksums={k: v.upper() for k, v in SUMS.items()}), ref=mnist_ref, what='url without /, upper-case digests')
        assert len(requests) == 4 and listing(cache) == ['mnist'] + [f'mnist/{n}' for n in sorted(FILES)]
        name = 'train-labels-idx1-ubyte.gz'
        (Path(cache)/'mnist'/name).write_bytes(b'damaged')
        outcome(M, 'load_mnist', lambda: load_mnist(cache, download=False, checksums=SUMS), error=True, what='damaged cache, download=False')
        assert (Path(cache)/'mnist'/name).read_bytes() == b'damaged', "a damaged cached file must be kept when download=False"
        outcome(M, 'load_mnist', lambda: load_mnist(cache, base_url=url, timeout=10, checksums=SUMS), ref=mnist_ref, what='damaged cache, refetched')
        assert requests.count('/' + name) == 2 and len(requests) == 5

@pytest.mark.parametrize('what', ['flipped byte', 'truncated payload', 'labels for 4 images', 'images 1-D', 'empty split', 'missing file',
                                  'all-zero training images', 'images of 0 pixels', 'validation images of another size'])
def test_load_mnist_bad_files(what):
    files, sums = dict(FILES), dict(SUMS)
    name = 'train-labels-idx1-ubyte.gz'
    if what == 'flipped byte': files[name] = files[name][:-5] + bytes([files[name][-5] ^ 0xFF]) + files[name][-4:]
    else:
        if what == 'truncated payload': files[name] = gzip.compress(gzip.decompress(files[name])[:-2], mtime=0)
        elif what == 'labels for 4 images': files[name] = gzip.compress(idx_bytes(ARRAYS[name][:4]), mtime=0)
        elif what == 'images 1-D': files['train-images-idx3-ubyte.gz'] = gzip.compress(idx_bytes(np.zeros(5, np.uint8)), mtime=0)
        elif what == 'empty split':
            files['t10k-images-idx3-ubyte.gz'] = gzip.compress(idx_bytes(np.zeros((0, 28, 28), np.uint8)), mtime=0)
            files['t10k-labels-idx1-ubyte.gz'] = gzip.compress(idx_bytes(np.zeros(0, np.uint8)), mtime=0)
        elif what == 'missing file': del files[name]
        elif what == 'all-zero training images': files['train-images-idx3-ubyte.gz'] = gzip.compress(idx_bytes(np.zeros((5, 28, 28), np.uint8)), mtime=0)
        elif what == 'images of 0 pixels':
            for split, n in (('train', 5), ('t10k', 3)): files[f'{split}-images-idx3-ubyte.gz'] = gzip.compress(idx_bytes(np.zeros((n, 0, 0), np.uint8)), mtime=0)
        elif what == 'validation images of another size':
            files['t10k-images-idx3-ubyte.gz'] = gzip.compress(idx_bytes(np.arange(3 * 14 * 56).reshape(3, 14, 56).astype(np.uint8)), mtime=0)
        sums = {n: hashlib.sha256(files.get(n, b'')).hexdigest() for n in SUMS}
    with tempfile.TemporaryDirectory() as cache, serve(files) as (url, requests):
        call = lambda: load_mnist(Path(cache)/'sub', base_url=url, timeout=10, checksums=sums)
        if what == 'missing file':
            outcome(M, 'load_mnist', lambda: raised(call, ConnectionError), ok=lambda e: isinstance(e, ConnectionError) and 'load_mnist' in str(e), what=what)
        else: outcome(M, 'load_mnist', call, error=True, what=what)
        assert listing(cache) == [], f"a failed load_mnist ({what}) left {listing(cache)} behind"

@pytest.mark.parametrize('what', ['no server', 'trickling server', 'not cached, download=False'])
def test_load_mnist_network(what):
    with tempfile.TemporaryDirectory() as cache:
        kind = FileNotFoundError if what.startswith('not cached') else ConnectionError
        if what == 'no server':
            with serve({}) as (url, _): pass
            call = lambda: load_mnist(cache, base_url=url, timeout=2, checksums=SUMS)
            outcome(M, 'load_mnist', lambda: raised(call, kind), ok=lambda e: isinstance(e, kind) and 'load_mnist' in str(e), what=what)
        elif what == 'trickling server':
            with serve(FILES, trickle=0.05) as (url, _):
                call = lambda: load_mnist(Path(cache)/'a'/'b', base_url=url, timeout=0.5, checksums=SUMS)
                outcome(M, 'load_mnist', lambda: raised(call, kind), ok=lambda e: isinstance(e, kind) and 'timed out' in str(e), what=what)
        else:
            call = lambda: load_mnist(cache, download=False, checksums=SUMS)
            outcome(M, 'load_mnist', lambda: raised(call, kind), ok=lambda e: isinstance(e, kind) and 'load_mnist' in str(e), what=what)
        assert listing(cache) == [], f"load_mnist ({what}) left {listing(cache)} behind"

def test_load_mnist_cached_file_that_does_not_parse():
    "A cached file whose checksum matches (the learner's own checksums) but that is not IDX: the error names load_mnist."
    files = {**FILES, 'train-labels-idx1-ubyte.gz': gzip.compress(b'not an IDX file', mtime=0)}
    sums = {n: hashlib.sha256(b).hexdigest() for n, b in files.items()}
    with tempfile.TemporaryDirectory() as cache:
        (Path(cache)/'mnist').mkdir()
        for n, b in files.items(): (Path(cache)/'mnist'/n).write_bytes(b)
        outcome(M, 'load_mnist', lambda: load_mnist(cache, download=False, checksums=sums), error=True, what='cached, not IDX')

"""The sandbox keeps the promises that 91_sandbox makes (issue #24), each against the answer that broke it.

- Nothing of an answer runs in this process: here only its type is looked at (`type(obj)`), under fork and spawn.
- The deadline covers reading the result too: a child (or a grandchild) that writes half a message cannot hold `check`.
- No process that an answer starts survives `check`, not even one that calls `os.setsid()` or whose parent has ended.
- Q38's backward is judged from what the learner's `backward` returns, so patching autograd in `forward` does not help.
- Stop (SIGINT) during `check` leaves nothing running and nothing changed, and gives a result that did not pass, not an exception.

Each test asserts the attack's effect is absent (state unchanged, no process left); times are only hang guards.
"""
import inspect, multiprocessing.process, os, pathlib, signal, struct, subprocess, sys, threading, time
import pytest, torch
import scratchnet.sandbox as sandbox
from scratchnet.quiz import check, check_text

GUARD = 30.                                   # seconds on top of a deadline: a hang guard, not a speed test
LINUX = sys.platform.startswith('linux')
needs_proc = pytest.mark.skipif(not LINUX, reason="the whole-family kill is Linux's (a child subreaper and /proc)")

def state(): return os.getcwd(), torch.get_default_dtype(), signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGALRM)

def alive(pid, start=None):
    "True while process `pid` runs (a zombie has ended); `start`, its start time, tells it from a newer process with its number."
    try: s = open(f'/proc/{pid}/stat').read()
    except FileNotFoundError: return False
    f = s[s.rindex(')') + 2:].split()
    return f[0] not in 'ZX' and (start is None or int(f[19]) == start)

@pytest.fixture
def pids(tmp_path):
    """A folder where answers write the pid and start time of each process they start; at the end, any survivor is
    killed (so that a failing run leaves nothing behind) and reported."""
    yield tmp_path
    left = [pid for pid, start in _started(tmp_path) if alive(pid, start)]
    for pid in left: os.kill(pid, signal.SIGKILL)
    assert not left, f"processes survived the check: {left}"

def _started(folder):
    "(pid, start time) of each process that noted itself in `folder` (a note cut short by a kill is skipped)."
    notes = [f.read_text().split() for f in folder.glob('*.pid')]
    return [(int(n[0]), int(n[1])) for n in notes if len(n) == 2]

def survivors(folder):
    found = _started(folder)
    assert found, "the answer did not get to start its processes"
    return [pid for pid, start in found if alive(pid, start)]

# ---- nothing of the answer runs here ------------------------------------------------------------------------------

HITS, ARMED = [], [False]
def _hit(*args, **kw):
    "Armed only while the test runs: pytest itself looks at module-level objects when it collects, and must not set this off."
    if ARMED[0]: HITS.append(1); os.chdir('/'); torch.set_default_dtype(torch.float64)
    return str

class Hostile:
    "An answer every hook of which changes this process: any code of its own that runs here shows."
    __class__ = property(_hit)
    def __getattribute__(self, name): _hit(); return object.__getattribute__(self, name)
    __getattr__ = __eq__ = __ne__ = __hash__ = __repr__ = __str__ = __format__ = __len__ = __iter__ = __bool__ = _hit
    __float__ = __index__ = __int__ = __call__ = __get__ = __reduce__ = __reduce_ex__ = __instancecheck__ = _hit

class HostileMeta(type):
    __name__ = property(_hit); __module__ = property(_hit)
    def __getattribute__(cls, name): _hit(); return type.__getattribute__(cls, name)
    __repr__ = __eq__ = __hash__ = __subclasscheck__ = __instancecheck__ = __call__ = _hit

class HostileClass(metaclass=HostileMeta):
    def forward(self, x): return x

class HostileStr(str):
    __class__ = property(_hit)
    def __getattribute__(self, name): _hit(); return str.__getattribute__(self, name)
    strip = __eq__ = __hash__ = __str__ = __repr__ = __len__ = __iter__ = __format__ = _hit

HOSTILE_GLOBAL = Hostile()

def relu_with_hostile_attributes(x): return x.clamp_min(0.) if HOSTILE_GLOBAL is not None else x
relu_with_hostile_attributes.__wrapped__ = Hostile()
relu_with_hostile_attributes.__module__ = Hostile()

ANSWERS = [Hostile(), HostileClass, HostileStr('tensor([2, 3])'), relu_with_hostile_attributes,
           object.__new__(HostileClass)]                     # its type's type answers `==` and `hash`: `type(a) in (...)` would run it

@pytest.mark.parametrize('start', ['fork', 'spawn'] if LINUX else ['spawn'])
def test_no_code_of_the_answer_runs_here(start, monkeypatch):
    "Every question, every hostile answer, through check and check_text (as a value and as a bad timeout or question)."
    monkeypatch.setattr(sandbox, 'START_METHOD', start)
    before = state()
    HITS.clear(); ARMED[0] = True
    questions = range(1, 41) if start == 'fork' else [2, 13, 14, 16, 29, 38, 39]            # spawn starts a Python each time
    try:
        for n in questions:
            for answer in ANSWERS:
                repr(check(n, answer, timeout=5)); repr(check_text(n, answer, {'x': answer}))
                if n in (2, 38): repr(check_text(n, 'x', {'x': answer}))                    # by name, as the quiz's text box does
        for bad in [ANSWERS[0], ANSWERS[1], ANSWERS[4]]:
            check(bad, 1); check(2, lambda x: x, timeout=bad); repr(check(bad, 1))
    finally:
        ARMED[0] = False
        after = state()
        os.chdir(before[0]); torch.set_default_dtype(before[1])
    assert not HITS, f"the answer's own code ran {len(HITS)} times in this process"
    assert after == before

def test_text_in_a_str_subclass_is_read_by_strs_own_code():
    HITS.clear()
    assert check(13, HostileStr('tensor([2, 3])')).passed and check(16, HostileStr(' (5, 3, 4) ')).passed
    assert check(2, HostileStr('relu')).message.startswith('expected a function') and not HITS

# ---- the deadline covers reading the result ------------------------------------------------------------------------

def _result_pipe():
    "The file descriptor that the sandbox's child sends its result on, found in the frame of the function that runs the answer."
    f = sys._getframe()
    while f.f_code.co_name != '_child': f = f.f_back
    return f.f_locals['fd']                      # the pipe's file descriptor

def half_a_message(x):
    os.write(_result_pipe(), struct.pack('!i', 1000) + b'x')                    # says 1,000 bytes follow; sends 1
    time.sleep(GUARD + 30)
    return x

def grandchild_writes_half(x):
    if os.fork() == 0:
        os.write(_result_pipe(), struct.pack('!i', 1000) + b'x')
        time.sleep(GUARD + 30); os._exit(0)
    time.sleep(0.5)
    os._exit(3)

@pytest.mark.skipif(os.name != 'posix', reason="the answers fork")
@pytest.mark.parametrize('answer, part', [(half_a_message, 'did not finish within 2 s'), (grandchild_writes_half, 'exit code 3')])
def test_a_half_written_result_cannot_hold_check(answer, part, monkeypatch):
    monkeypatch.setattr(sandbox, 'START_METHOD', 'fork')
    t0 = time.monotonic()
    r = check(2, answer, timeout=2)
    assert time.monotonic() - t0 < 2 + GUARD, "check waited for the rest of the message"
    assert not r.passed and part in r.message, r

# ---- no process survives -------------------------------------------------------------------------------------------

FOLDER = None                                          # set by each test, read by the answers (fork inherits it)

def note(folder, name):
    "Write this process's pid and start time to `folder`, whole or not at all (the file appears only when complete)."
    import os
    start = open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19]
    path = os.path.join(folder, f'{name}-{os.getpid()}')
    with open(path + '.tmp', 'w') as f: f.write(f'{os.getpid()} {start}')
    os.replace(path + '.tmp', path + '.pid')

def _note(name): note(os.environ.get('SANDBOX_TEST_FOLDER', FOLDER), name)

def _forever(name):
    _note(name)
    while True: time.sleep(0.1)

def new_session(x):
    "A grandchild that leaves the process group, and a great-grandchild orphaned by its parent's exit (a daemon)."
    folder = os.environ.get('SANDBOX_TEST_FOLDER', FOLDER)
    expected = len(_started(pathlib.Path(folder))) + 4
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0: _forever('daemon')
        _forever('session')
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0: _forever('orphan')
        os._exit(0)
    code = f"{inspect.getsource(note)}\nnote({folder!r}, 'exec'); import time; time.sleep(600)"
    subprocess.Popen([sys.executable, '-c', code], start_new_session=True)                    # a program of its own
    end = time.monotonic() + 20
    while len(_started(pathlib.Path(folder))) < expected and time.monotonic() < end: time.sleep(0.02)
    return x.clamp_min(0.)

def new_session_then_loop(x):
    new_session(x)
    while True: pass

@needs_proc
@pytest.mark.parametrize('start', ['fork', 'spawn'])
@pytest.mark.parametrize('answer', [new_session, new_session_then_loop])
def test_no_process_survives_check(answer, start, pids, monkeypatch):
    global FOLDER
    FOLDER = str(pids)
    if start == 'spawn' and answer is new_session_then_loop: pytest.skip("one spawn case is enough")
    monkeypatch.setattr(sandbox, 'START_METHOD', start)
    monkeypatch.setenv('SANDBOX_TEST_FOLDER', FOLDER)
    r = check(2, answer, timeout=60 if answer is new_session else 20)           # the loop ends only at the deadline
    assert not r.passed or answer is new_session, r
    assert survivors(pids) == []
    assert not multiprocessing.active_children(), "the sandbox process was not reaped"

# ---- Q38: the backward is judged outside the answer's reach ----------------------------------------------------------

class PatchesAutograd(torch.autograd.Function):
    "A wrong backward (it ignores ReLU's slope), hidden by a forward that patches the tools that measure it."
    @staticmethod
    def forward(ctx, x):
        torch.autograd.grad = lambda y, x, go, *a, **k: (go * (x > 0),)
        torch.autograd.gradcheck = lambda *a, **k: True
        ctx.save_for_backward(x)
        return x.clamp_min(0.)
    @staticmethod
    def backward(ctx, grad_output): return grad_output

class NewStyle(torch.autograd.Function):
    "The newer way to write a Function: forward without ctx, and setup_context."
    @staticmethod
    def forward(x): return x.clamp_min(0.)
    @staticmethod
    def setup_context(ctx, inputs, output): ctx.save_for_backward(inputs[0])
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (x > 0)

def test_patching_autograd_does_not_buy_q38(monkeypatch):
    monkeypatch.setattr(sandbox, 'START_METHOD', 'fork')
    grad, gradcheck = torch.autograd.grad, torch.autograd.gradcheck
    r = check(38, PatchesAutograd)
    assert (torch.autograd.grad, torch.autograd.gradcheck) == (grad, gradcheck)        # patched in the child only
    assert not r.passed and r.graded and 'changed torch.autograd.gradcheck, torch.autograd.grad' in r.message, r   # the fingerprint
    assert check(38, NewStyle).passed

# ---- Stop (SIGINT) during check -------------------------------------------------------------------------------------

@pytest.fixture
def stop_button():
    """Stop reaches a kernel as SIGINT with Python's own handler. A test run started in the background (`cmd &`) inherits
    SIGINT ignored, where no Stop can arrive, so these tests install that handler for their duration whatever started them."""
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, outer)

def _press_stop_when(ready):
    "Press Stop (SIGINT to this process) once `ready()` is true: the answer's processes have all started."
    def press():
        end = time.monotonic() + 60
        while not ready() and time.monotonic() < end: time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)
    threading.Thread(target=press, daemon=True).start()

@needs_proc
def test_stop_during_check_leaves_nothing(pids, monkeypatch, stop_button):
    global FOLDER
    FOLDER = str(pids)
    monkeypatch.setattr(sandbox, 'START_METHOD', 'fork')
    before, subreaper = state(), getattr(sandbox, '_is_subreaper', lambda: None)()
    _press_stop_when(lambda: len(_started(pids)) >= 4)
    t0 = time.monotonic()
    r = check(2, new_session_then_loop, timeout=60)
    assert not r.passed and not r.graded and 'not graded' in r.message, r
    assert time.monotonic() - t0 < 60, "Stop did not end the check"                  # a hang guard: the answer never ends
    assert survivors(pids) == []
    assert state() == before and getattr(sandbox, '_is_subreaper', lambda: None)() == subreaper
    assert not multiprocessing.active_children()
    assert check(2, lambda x: x.clamp_min(0.)).passed                                   # the next check is unaffected

def loops_and_notes(x):
    _note('child')
    while True: pass

@needs_proc
def test_stop_right_after_the_child_starts(pids, monkeypatch, stop_button):
    "The worst moment: SIGINT arrives as soon as the child process exists, before anything else is recorded."
    global FOLDER
    FOLDER = str(pids)
    monkeypatch.setattr(sandbox, 'START_METHOD', 'fork')
    start = multiprocessing.process.BaseProcess.start
    def start_then_stop(self):
        start(self)
        t0 = time.monotonic()
        while not _started(pids) and time.monotonic() - t0 < 30: time.sleep(0.01)   # the answer runs
        signal.raise_signal(signal.SIGINT)
    monkeypatch.setattr(multiprocessing.process.BaseProcess, 'start', start_then_stop)
    before = state()
    r = check(2, loops_and_notes, timeout=60)
    monkeypatch.undo()
    assert not r.passed and not r.graded, r
    time.sleep(0.2)
    assert survivors(pids) == [] and state() == before

@needs_proc
def test_a_stop_that_does_not_raise_gives_no_verdict(pids, monkeypatch):
    "Whatever the kernel's SIGINT handler, Stop during a check ends it early with no verdict (○); the handler is back afterwards."
    global FOLDER
    FOLDER = str(pids)
    monkeypatch.setattr(sandbox, 'START_METHOD', 'fork')
    seen, note = [], lambda *a: seen.append(1)
    old = signal.signal(signal.SIGINT, note)
    try:
        _press_stop_when(lambda: _started(pids))
        r = check(2, loops_and_notes, timeout=60)
        assert signal.getsignal(signal.SIGINT) is note
    finally: signal.signal(signal.SIGINT, old)
    assert not r.passed and not r.graded and 'not graded' in r.message and seen == [], r

    assert survivors(pids) == []

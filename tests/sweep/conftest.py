import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import harness

def pytest_terminal_summary(terminalreporter):
    if harness.COUNTS:
        terminalreporter.write_sep('=', 'bad-input sweep: every call gave the reference result or a clear error')
        terminalreporter.write_line(harness.table())

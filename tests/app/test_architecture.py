"""The layering is checked, not hoped for: import-linter's contracts from pyproject.toml."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "import-linter is part of the test extra"
    done = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "KEPT" in done.stdout and "BROKEN" not in done.stdout


def test_engine_layer_imports_no_web_or_database_code():
    code = ("import sys, workflows; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('flask', 'sqlalchemy', 'app', 'alembic', 'marshmallow', 'apscheduler')]; print(bad); "
            "sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr

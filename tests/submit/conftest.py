import os

import pytest

from submit_cases import JOB_SCRIPT, ROWS_FILE


@pytest.fixture
def workdir(tmp_path):
    """The directory layout every case of submit_cases.py runs in."""
    (tmp_path / "job.sh").write_text(JOB_SCRIPT)
    os.chmod(tmp_path / "job.sh", 0o755)
    (tmp_path / "sub").mkdir()
    for name in ("a.dat", "b.dat"):
        (tmp_path / "sub" / name).write_text("")
    (tmp_path / "rows.txt").write_text(ROWS_FILE)
    return tmp_path

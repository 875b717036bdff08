"""The distribution installs every command a user types."""
import sysconfig
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_console_script_is_installed():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    bindir = Path(sysconfig.get_path("scripts"))
    missing = [name for name in scripts if not (bindir / name).exists()]
    assert not missing, f"not installed in {bindir}: {missing}"

"""The distribution installs every command a user types, and every part of the condorsim package."""
import sysconfig
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_console_script_is_installed():
    scripts = PYPROJECT["project"]["scripts"]
    bindir = Path(sysconfig.get_path("scripts"))
    missing = [name for name in scripts if not (bindir / name).exists()]
    assert not missing, f"not installed in {bindir}: {missing}"


def test_every_source_package_is_in_the_distribution():
    """setuptools is given the package list explicitly (the parts live in top-level folders), so
    a new subpackage must be added to it or the wheel silently lacks it."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    folders = {folder: package for package, folder in setuptools["package-dir"].items()}
    found = set()
    for folder, package in folders.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *parts)))
    assert sorted(found) == sorted(setuptools["packages"])


def test_the_embedded_configuration_is_package_data():
    import condorsim
    from condorsim.shared.config.loader import EMBEDDED_ROOT
    assert (condorsim.CONFIG_DIR / "00personal_condor.config").is_file()
    assert EMBEDDED_ROOT.is_file()
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    assert "config.d/*" in data["condorsim"] and EMBEDDED_ROOT.name.endswith(".config")

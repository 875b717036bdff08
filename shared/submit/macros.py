"""Macro expansion of submit values, with the config language's expander.

``$(name)``, ``$(name:default)``, ``$ENV(NAME)``, ``$INT()``, ``$REAL()``, ``$SUBSTR()``,
``$CHOICE()``, ``$RANDOM_CHOICE()``, ``$RANDOM_INTEGER()``, ``$BASENAME()``, ``$DIRNAME()`` and the
``$F[fpdnxbqawu]()`` family.  Names are case-insensitive.  An undefined macro without a default
expands to nothing, as in condor_submit.  ``$$(Attr)`` is left alone: it is substituted when the
job is matched.  The defaults condor_submit provides (``$(ARCH)``, ``$(OPSYS)``,
``$(SUBMIT_FILE)``, ``$(SUBMIT_TIME)``, ``$(Year)`` ...) come from ``submit_defaults``.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Callable

from condorsim.shared.config.errors import ConfigError
from condorsim.shared.config.macros import Expander

from .errors import SubmitError

Lookup = Callable[[str], "str | None"]


def expand(text: str, lookup: Lookup, line: int | None = None, cwd: str | None = None) -> str:
    """Expand every macro of `text`; `lookup(name_lowercase)` gives a raw value or None."""
    if "$" not in text:
        return text
    try:
        return Expander(lambda name: lookup(name.lower()), os.environ, cwd).expand(text)
    except ConfigError as exc:
        message = str(exc.args[0] if exc.args else exc)
        if "circular" in message:
            message = f"Macro expansion does not terminate (a macro refers to itself): {text}"
        raise SubmitError(message, line) from None


def _os_release() -> tuple[str, str]:
    """(name, major version) from /etc/os-release, as HTCondor's OPSYSANDVER is built."""
    fields = {}
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for row in f:
                key, _, value = row.strip().partition("=")
                fields[key] = value.strip('"')
    except OSError:
        return "Linux", "0"
    name = {"debian": "Debian", "ubuntu": "Ubuntu", "centos": "CentOS", "rhel": "RedHat",
            "almalinux": "AlmaLinux", "rocky": "Rocky", "fedora": "Fedora"}.get(
        fields.get("ID", ""), fields.get("ID", "Linux").capitalize())
    return name, fields.get("VERSION_ID", "0").split(".")[0]


def submit_defaults(submit_file: str | None, submit_time: int) -> dict[str, str]:
    """The macros condor_submit defines before reading a description (lowercase names)."""
    name, major = _os_release()
    stamp = time.localtime(submit_time)
    defaults = {
        "arch": {"x86_64": "X86_64", "aarch64": "aarch64"}.get(platform.machine(), platform.machine().upper()),
        "opsys": "LINUX", "opsysandver": f"{name}{major}", "opsysmajorver": major,
        "opsysver": f"{major}00", "islinux": "1", "iswindows": "0",
        "submit_time": str(submit_time), "year": f"{stamp.tm_year:04d}",
        "month": f"{stamp.tm_mon:02d}", "day": f"{stamp.tm_mday:02d}",
    }
    if submit_file:
        defaults["submit_file"] = submit_file
    return defaults

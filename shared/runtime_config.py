"""Settings condor_config_val gives a running daemon (HTCondor's runtime and persistent config).

``condor_config_val -rset "NAME = value"`` sends SET_CONFIG with persistent=False: the daemon
keeps the setting in memory if ENABLE_RUNTIME_CONFIG is true.  ``-set`` sends persistent=True:
the daemon writes it into PERSISTENT_CONFIG_DIR/.config.<SUBSYS> if ENABLE_PERSISTENT_CONFIG is
true, so it survives restarts.  An empty value unsets.  Either way the setting takes effect at
the next reconfig, as in HTCondor (runtime settings override persistent ones, which override
the files).  CONFIG_VAL answers a daemon's values of the names asked.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

_SETTING = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*=\s*(.*?)\s*$", re.S)
RUNTIME_SOURCE, PERSISTENT_SOURCE = "<runtime>", "<persistent>"


def _persistent_file(cfg: Any, subsystem: str, local_name: str | None) -> Path | None:
    directory = cfg.get("PERSISTENT_CONFIG_DIR")
    if not directory:
        return None
    suffix = f".{local_name}" if local_name else ""
    return Path(directory) / f".config.{subsystem}{suffix}"


def _read_settings(path: Path | None) -> dict[str, str]:
    settings: dict[str, str] = {}
    try:
        text = path.read_text() if path else ""
    except OSError:
        return settings
    for line in text.splitlines():
        match = _SETTING.match(line)
        if match:
            settings[match.group(1)] = match.group(2)
    return settings


def apply(cfg: Any, subsystem: str, local_name: str | None, runtime: dict[str, str]) -> Any:
    """Define the persistent, then the runtime settings into a freshly loaded config."""
    if cfg.get_bool("ENABLE_PERSISTENT_CONFIG", False):
        for name, value in _read_settings(_persistent_file(cfg, subsystem, local_name)).items():
            cfg.define(name, value, PERSISTENT_SOURCE)
    if cfg.get_bool("ENABLE_RUNTIME_CONFIG", False):
        for name, value in runtime.items():
            cfg.define(name, value, RUNTIME_SOURCE)
    return cfg


def set_config(cfg: Any, subsystem: str, local_name: str | None, runtime: dict[str, str],
               message: dict) -> dict:
    """SET_CONFIG {"setting": "NAME = value", "persistent": bool}: {"ok": bool, "error"?}."""
    match = _SETTING.match(str(message.get("setting", "")))
    if not match:
        return {"ok": False, "error": "expected NAME = value"}
    name, value = match.groups()
    if not message.get("persistent"):
        if not cfg.get_bool("ENABLE_RUNTIME_CONFIG", False):
            return {"ok": False, "error": "ENABLE_RUNTIME_CONFIG is false"}
        if value:
            runtime[name] = value
        else:
            runtime.pop(name, None)
        return {"ok": True}
    path = _persistent_file(cfg, subsystem, local_name)
    if not cfg.get_bool("ENABLE_PERSISTENT_CONFIG", False) or path is None:
        return {"ok": False, "error": "ENABLE_PERSISTENT_CONFIG is false or PERSISTENT_CONFIG_DIR unset"}
    settings = _read_settings(path)
    if value:
        settings[name] = value
    else:
        settings.pop(name, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(f"{n} = {v}\n" for n, v in settings.items()))
    os.replace(tmp, path)
    return {"ok": True}


def query(cfg: Any, message: dict) -> dict:
    """CONFIG_VAL {"names": [...]}: {"values": {name: expanded value or None}}."""
    names = message.get("names") or []
    return {"values": {str(n): cfg.get(str(n)) for n in names}}

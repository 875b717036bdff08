"""Where configuration comes from, and the Config object every process queries.

Load order (HTCondor's): the root file ($CONDOR_CONFIG, else the project's embedded root), then
LOCAL_CONFIG_DIR files in byte order minus LOCAL_CONFIG_DIR_EXCLUDE_REGEXP, then LOCAL_CONFIG_FILE
(re-read when a local file changes it), then LOCAL_CONFIG_DIR again if it changed, then `_CONDOR_*`
environment overrides.  Lookups go LOCALNAME.X -> SUBSYSTEM.X -> X -> built-in default.
"""
from __future__ import annotations

import copy
import dataclasses
import os
import re
import sysconfig
from collections.abc import Iterable, Mapping
from pathlib import Path

from . import detect
from .defaults import CODE_DEFAULTS, DISPLAY_NAMES, PARAM_DEFAULTS
from .errors import ConfigError
from .macros import Expander
from .parser import Parser, freeze_self_references, is_piped
from .simple_expr import evaluate
from .table import DEFAULT_SOURCE, DETECTED_SOURCE, ENVIRONMENT_SOURCE, Entry, MacroTable

ENV_PREFIX = "_CONDOR_"
EMBEDDED_ROOT = Path(__file__).with_name("embedded_root.config")
_MISSING = object()
_TRUE_WORDS = {"true", "yes", "t", "1"}
_FALSE_WORDS = {"false", "no", "f", "0"}


def project_config_dir() -> Path:
    """The shipped config.d/: the repository's top-level folder, package data when installed."""
    import condorsim
    return condorsim.CONFIG_DIR


def scripts_dir() -> str:
    """Where this package's console scripts (condor_master, ...) are installed."""
    return sysconfig.get_path("scripts")


class Config:
    """A loaded configuration, seen from one process context (subsystem and local name)."""

    def __init__(self, subsystem: str = "TOOL", local_name: str | None = None,
                 env: Mapping[str, str] | None = None):
        self.subsystem = (subsystem or "TOOL").upper()
        self.local_name = local_name or None
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.files: list[str] = []
        self.table = MacroTable()
        self._prefixes = [p.upper() for p in (self.local_name, self.subsystem) if p]
        self._expander = Expander(self._context_raw, self.env)
        self.record: LoadRecord | None = None  # what loading depended on (None: not reusable)

    # ---- lookups -------------------------------------------------------------------------
    def _find(self, name: str) -> tuple[str, Entry | None]:
        """(name used, entry) for NAME in this context; entry None means the table default."""
        if self.record is not None and self.record.loading:
            self.record.names.add(name.upper())
        for prefix in self._prefixes:
            entry = self.table.get(f"{prefix}.{name}")
            if entry is not None:
                return entry.name, entry
        entry = self.table.get(name)
        if entry is not None:
            return entry.name, entry
        key = name.upper()
        return DISPLAY_NAMES.get(key, key), None

    def _context_raw(self, name: str) -> str | None:
        _, entry = self._find(name)
        return entry.raw if entry is not None else PARAM_DEFAULTS.get(name.upper())

    def expand(self, text: str) -> str:
        """Expand macros in text as this process would."""
        return self._expander.expand(text)

    def raw(self, name: str) -> str | None:
        """Unexpanded value, or None if undefined or empty."""
        return self._context_raw(name) or None

    def get(self, name: str) -> str | None:
        """Fully expanded value; None if undefined or empty."""
        raw = self._context_raw(name)
        if not raw:
            return None
        return self.expand(raw) or None

    def name_used(self, name: str) -> str:
        """The name as HTCondor displays it: first spelling, with the prefix actually used."""
        return self._find(name)[0]

    def where(self, name: str) -> str:
        """'<file>, line <n>' (or '..., use ROLE:Personal+2', '<Default>', '<Environment>',
        '<Detected>') for the definition in effect; '' if undefined."""
        _, entry = self._find(name)
        if entry is None:
            return DEFAULT_SOURCE if PARAM_DEFAULTS.get(name.upper()) else ""
        if not entry.source.startswith("<") and entry.raw == PARAM_DEFAULTS.get(name.upper()):
            return DEFAULT_SOURCE    # HTCondor reports a value equal to the default as the default
        return entry.location()

    def default(self, name: str) -> str | None:
        return PARAM_DEFAULTS.get(name.upper()) or None

    def names(self) -> Iterable[str]:
        """Names defined by configuration (not the table defaults), as first spelled."""
        return [e.name for e in self.table.entries.values()]

    def entries(self) -> Iterable[Entry]:
        return self.table.entries.values()

    # ---- typed getters ---------------------------------------------------------------------
    def _fallback(self, name: str, default: object) -> object:
        if default is not _MISSING:
            return default
        if name.upper() in CODE_DEFAULTS:
            return CODE_DEFAULTS[name.upper()]
        raise ConfigError(f"{name} is not defined")

    def _typed(self, name: str, default: object, kind: str) -> object:
        value = self.get(name)
        if value is None:
            return self._fallback(name, default)
        result = _constant_value(value)
        if kind == "bool":
            low = value.lower()
            if low in _TRUE_WORDS:
                return True
            if low in _FALSE_WORDS:
                return False
            if isinstance(result, (bool, int, float)):
                return bool(result)
        elif isinstance(result, (int, float)) and not isinstance(result, bool):
            return int(result) if kind == "int" else float(result)
        elif isinstance(result, bool):
            return int(result) if kind == "int" else float(result)
        where = self.where(name)
        raise ConfigError(f"{self.name_used(name)} = {value!r} is not a valid {kind}"
                          + (f" (set at {where})" if where else ""))

    def get_int(self, name: str, default: object = _MISSING) -> int:
        return self._typed(name, default, "int")  # type: ignore[return-value]

    def get_float(self, name: str, default: object = _MISSING) -> float:
        return self._typed(name, default, "float")  # type: ignore[return-value]

    def get_bool(self, name: str, default: object = _MISSING) -> bool:
        return self._typed(name, default, "bool")  # type: ignore[return-value]

    def get_expr(self, name: str, default: str | None = None):
        """The expanded value parsed as a ClassAd expression (shared.classad.Expr); `default`
        (expression text) if undefined, None if that is None too."""
        from condorsim.shared.classad import ClassAdSyntaxError, parse_expr
        text = self.get(name)
        if text is None:
            return None if default is None else parse_expr(default)
        try:
            return parse_expr(text)
        except ClassAdSyntaxError as e:
            where = self.where(name)
            raise ConfigError(f"{self.name_used(name)} = {text!r} is not a valid ClassAd expression: {e}"
                              + (f" (set at {where})" if where else "")) from None

    def get_list(self, name: str) -> list[str]:
        """Items separated by commas and/or whitespace."""
        value = self.get(name)
        return [item for item in re.split(r"[\s,]+", value) if item] if value else []

    # ---- building ----------------------------------------------------------------------------
    def define(self, name: str, value: str, source: str, line: int = 0, use: str = "") -> None:
        """Record `name = value` as read at source/line (self references are frozen now)."""
        key = name.upper()
        targets = {key: lambda: self._exact_raw(key)}
        prefix, dot, rest = key.partition(".")
        if dot and prefix in self._prefixes:
            targets[rest] = lambda: self._context_raw(rest)
        record = self.record if self.record is not None and self.record.loading else None
        if record is not None:
            record.defined(key, dot and "$" in value and (prefix, rest, value, self._exact_raw(key)))
        if "$" in value:
            if record is not None:
                record.loading = False  # what freezing reads is in record.dotted, for derive_config
            value = freeze_self_references(value, targets)
            if record is not None:
                record.loading = True
        self.table.set(name, value, source, line, use)

    def _exact_raw(self, key: str) -> str | None:
        entry = self.table.get(key)
        return entry.raw if entry is not None else PARAM_DEFAULTS.get(key)

    def _detected(self, values: Mapping[str, str]) -> None:
        for name, value in values.items():
            self.table.set(name, value, DETECTED_SOURCE)


def _constant_value(text: str) -> object:
    """Value of a constant expression: the small evaluator first (no import cost), then the
    ClassAd engine for functions such as MIN({...}); None if it is not a constant."""
    try:
        return evaluate(text)
    except ValueError:
        pass
    from condorsim.shared.classad import ClassAdSyntaxError, parse_expr
    try:
        value = parse_expr(text).eval()
    except ClassAdSyntaxError:
        return None
    return value if isinstance(value, (bool, int, float, str)) else None


class LoadRecord:
    """What loading a configuration depended on beyond the text of its files, so that the same
    load can be derived for another process context (subsystem, local name, environment)
    without parsing again: the fork server's children take their view from their parent's."""

    def __init__(self, root: str | None, env: Mapping[str, str], prefixes: list[str]):
        self.loading = True
        self.root = root                           # the root argument of the load
        self.origin = prefixes                     # the context the files were read in
        self.context = prefixes                    # the context ``base`` is the table of
        self.condor_config = env.get("CONDOR_CONFIG") or None
        self.names: set[str] = set()               # names looked up in the loading context
        self.env_names: dict[str, str | None] = {}  # $ENV() variables read, and their values
        self.sources: dict[str, tuple | None] = {}  # file/directory -> stat signature (None: absent)
        self.reusable = True                       # False once a command's output was read
        self.base: dict[str, Entry] = {}           # the table before environment overrides
        # Definitions are numbered; a PREFIX.NAME definition with a '$' is kept as it was read,
        # since a process whose context includes PREFIX freezes $(NAME) in it (see Config.define).
        self.count = 0
        self.first: dict[str, int] = {}  # KEY -> number of its first definition
        self.last: dict[str, int] = {}   # KEY -> number of its last definition
        self.dotted: list[tuple[int, str, str, str, str | None]] = []  # (number, PREFIX, NAME, value, old raw)

    def defined(self, key: str, dotted: "tuple | bool") -> None:
        number = self.count
        self.count += 1
        self.first.setdefault(key, number)
        self.last[key] = number
        if dotted:
            self.dotted.append((number, *dotted))

    def frozen_values(self, prefixes: list[str], others: list[str]) -> dict[str, str] | None:
        """KEY -> raw value of each PREFIX.NAME definition that a process with context ``prefixes``
        reads differently from one with context ``others`` (which made this record); None when
        that cannot be told from the final table (a value it read was redefined afterwards)."""
        changed: dict[str, str] = {}
        for number, prefix, name, value, old in self.dotted:
            if prefix not in prefixes and prefix not in others:
                continue
            key = f"{prefix}.{name}"
            if self.first[key] != self.last[key]:
                return None  # a later self-append of the key read the first value as frozen here
            targets = {key: lambda: old}
            if prefix in prefixes:
                current = self._context_raw_at(name, number, prefixes, changed)
                if current is False:
                    return None
                targets[name] = lambda: current
            changed[key] = freeze_self_references(value, targets)
        return changed

    def _context_raw_at(self, name: str, number: int, prefixes: list[str], changed: dict):
        """The raw value of NAME in context ``prefixes`` just before definition ``number``;
        False if the final table cannot tell."""
        for key in [f"{prefix}.{name}" for prefix in prefixes] + [name]:
            entry = self.base.get(key)
            if entry is None or self.first.get(key, -1) >= number:
                continue  # not defined yet at that point
            if self.last.get(key, -1) >= number:
                return False
            return changed.get(key, entry.raw)
        return PARAM_DEFAULTS.get(name)

    def note_source(self, path: str) -> None:
        if is_piped(path):
            self.reusable = False
            return
        self.sources[path] = _signature(path)


def _signature(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev


class _WatchedEnv(Mapping):
    """The environment as $ENV() reads it while loading: each variable read is recorded."""

    def __init__(self, env: Mapping[str, str], record: LoadRecord):
        self.env, self.record = env, record

    def __getitem__(self, key: str) -> str:
        self.record.env_names[key] = self.env.get(key)
        return self.env[key]

    def __iter__(self):
        return iter(self.env)

    def __len__(self) -> int:
        return len(self.env)


_inherited: Config | None = None  # the fork-server parent's configuration, in a forked child
_latest: Config | None = None     # what load_config returned last in this process


def inherit(config: Config | None) -> None:
    """In a forked child: the next load_config may derive its view from the parent's ``config``."""
    global _inherited
    _inherited = config


def latest_config() -> Config | None:
    """The configuration this process loaded last (a daemon's current one)."""
    return _latest


def derive_config(base: Config, subsystem: str = "TOOL", local_name: str | None = None,
                  env: Mapping[str, str] | None = None) -> Config | None:
    """The configuration load_config(subsystem, local_name, env) would load, made from ``base``
    without reading its files again; None when that load could come out differently (a file or
    directory changed, a command was read, or a value read while loading depends on the context)."""
    record = base.record
    config = Config(subsystem, local_name, env)
    if record is None or not record.reusable or record.loading or record.root is not None \
            or (config.env.get("CONDOR_CONFIG") or None) != record.condor_config:
        return None
    if any(_signature(path) != sig for path, sig in record.sources.items()):
        return None
    if any(config.env.get(name) != value for name, value in record.env_names.items()):
        return None
    frozen: dict[str, str] = {}
    if config._prefixes != record.context:
        # what the files' if/include lines read must read the same in this context
        prefixes = set(config._prefixes) | set(record.origin)
        if {"SUBSYSTEM", "LOCALNAME"} & record.names:
            return None
        if any(f"{prefix}.{name}" in record.base for name in record.names for prefix in prefixes):
            return None
        frozen = record.frozen_values(config._prefixes, record.context)
        if frozen is None:
            return None
    config.files = list(base.files)
    config.table.entries = dict(record.base)
    for key, raw in frozen.items():
        config.table.entries[key] = dataclasses.replace(record.base[key], raw=raw)
    specials = {"SUBSYSTEM": config.subsystem, "LOCALNAME": config.local_name or config.subsystem}
    for name, value in specials.items():  # as the load set them first, unless a file replaced them
        entry = record.base.get(name)
        if entry is None or entry.source == DETECTED_SOURCE:
            config.table.set(name, value, DETECTED_SOURCE)
    config.record = copy.copy(record)  # the derived view can be derived from in turn
    config.record.context = config._prefixes
    config.record.base = dict(config.table.entries)
    _Loader(config).apply_environment()
    config._detected(specials)
    return config


def _dir_files(directory: str, exclude: re.Pattern | None, record: LoadRecord | None = None) -> list[str]:
    if record is not None:
        record.note_source(directory)  # its modification time changes when files come or go
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    files = [os.path.join(directory, n) for n in names
             if not (exclude and exclude.search(n)) and not os.path.isdir(os.path.join(directory, n))]
    return sorted(files, key=os.fsencode)


class _Loader:
    def __init__(self, config: Config):
        self.config = config
        self.parser = Parser(config)

    def read(self, path: str, required: bool = True) -> None:
        if not is_piped(path) and not os.access(path, os.R_OK):
            if required:
                raise ConfigError(f"cannot read config source {path}")
            return
        self.config.files.append(path)
        self.parser.parse_file(path)

    def process_directories(self, dirlist: str) -> None:
        required = self.config.get_bool("REQUIRE_LOCAL_CONFIG_FILE", True)
        pattern = self.config.get("LOCAL_CONFIG_DIR_EXCLUDE_REGEXP")
        try:
            exclude = re.compile(pattern) if pattern else None
        except re.error as e:
            raise ConfigError(f"LOCAL_CONFIG_DIR_EXCLUDE_REGEXP is not a valid regular expression: {e}") from None
        for directory in re.split(r"[\s,]+", dirlist):
            if directory:
                for path in _dir_files(directory, exclude, self.config.record):
                    self.read(path, required)

    def process_local_files(self) -> None:
        value = self.config.get("LOCAL_CONFIG_FILE")
        if not value:
            return
        required = self.config.get_bool("REQUIRE_LOCAL_CONFIG_FILE", True)
        todo = self._split_sources(value)
        done: list[str] = []
        while todo:
            source = todo.pop(0)
            self.read(source, required)
            done.append(source)
            new_value = self.config.get("LOCAL_CONFIG_FILE")
            if new_value and new_value != value:      # the file changed the list: follow the chain
                value = new_value
                todo = [s for s in self._split_sources(new_value) if s not in done]

    @staticmethod
    def _split_sources(value: str) -> list[str]:
        return [value] if is_piped(value) else [s for s in re.split(r"[\s,]+", value) if s]

    def apply_environment(self) -> None:
        for key, value in list(self.config.env.items()):
            if key.upper().startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX):
                self.config.define(key[len(ENV_PREFIX):], value.strip(), ENVIRONMENT_SOURCE)


def load_config(subsystem: str = "TOOL", local_name: str | None = None,
                env: Mapping[str, str] | None = None, root: str | None = None) -> Config:
    """Load the whole configuration as the process (subsystem, local_name) sees it.

    `root` overrides $CONDOR_CONFIG (condor_config_val -root-config).  With neither, the project's
    embedded personal-pool configuration is used.  Raises ConfigError on any bad line.

    In a daemon forked by the fork server (see inherit), the first load is derived from the
    parent's configuration when derive_config can prove it would come out the same."""
    global _inherited, _latest
    if _inherited is not None and root is None:
        base, _inherited = _inherited, None
        derived = derive_config(base, subsystem, local_name, env)
        if derived is not None:
            _latest = derived
            return derived
    config = Config(subsystem, local_name, env)
    config.record = record = LoadRecord(root, config.env, config._prefixes)
    config._expander.env = _WatchedEnv(config.env, record)
    if root is None:
        root = config.env.get("CONDOR_CONFIG") or None
    embedded = root is None
    if embedded:
        root = str(EMBEDDED_ROOT)
    elif not is_piped(root):
        if os.path.isdir(root):
            raise ConfigError(f"File specified in CONDOR_CONFIG environment variable: \"{root}\" is a directory."
                              "  Please specify a file.")
        if not os.path.exists(root):
            raise ConfigError(f"File specified in CONDOR_CONFIG environment variable: \"{root}\" does not exist.")
    detected = detect.cached_host_values()
    specials = {"SUBSYSTEM": config.subsystem, "LOCALNAME": (local_name or config.subsystem)}
    detected.update(specials)
    detected["CONFIG_ROOT"] = os.path.dirname(os.path.abspath(root)) if not is_piped(root) else os.getcwd()
    if embedded:
        detected["CONDORSIM_CONFIG_DIR"] = str(project_config_dir())
        detected["CONDORSIM_SCRIPTS"] = scripts_dir()
        detected["CONDORSIM_PREFIX"] = os.path.dirname(scripts_dir())
    config._detected(detected)

    loader = _Loader(config)
    loader.read(root)
    dirlist = config.get("LOCAL_CONFIG_DIR")
    if dirlist:
        loader.process_directories(dirlist)
    loader.process_local_files()
    new_dirlist = config.get("LOCAL_CONFIG_DIR")
    if new_dirlist and new_dirlist != dirlist:
        loader.process_directories(new_dirlist)
    record.loading = False
    config._expander.env = config.env
    record.base = dict(config.table.entries)
    loader.apply_environment()
    config._detected(specials)   # the process context cannot be overridden by configuration
    _latest = config
    return config

"""HTCondor configuration: the file language, layered sources, local-name views and defaults.

    cfg = load_config(subsystem="STARTD", local_name="SHADOW_STARTD")
    cfg.get("STARTD_LOG"); cfg.get_int("UPDATE_INTERVAL"); cfg.where("STARTD_LOG")
"""
from .argsenv import parse_args_string, parse_environment_string, parse_job_environment, split_v2_raw
from .errors import ConfigError
from .loader import Config, load_config

__all__ = ["Config", "ConfigError", "load_config", "parse_args_string", "parse_environment_string",
           "parse_job_environment", "split_v2_raw"]

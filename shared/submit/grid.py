"""Grid-universe submit keys: ``grid_resource = ec2 <URL>`` and the ``ec2_*`` commands.

HTCondor's condor_submit turns these into the job attributes condor_gridmanager reads
(EC2AmiID, EC2AccessKeyId, ...). In the grid universe ``executable`` is only a label (``Cmd``,
and the default ``Name`` tag): it is not checked nor transferred, and the job has no default
Requirements clauses since no slot ever matches it.
"""
from __future__ import annotations

import os
import re
import stat
import sys
from typing import Any, Callable

from condorsim.shared.classad import ClassAd

from .errors import SubmitError

GRID_UNIVERSE = 9
# Grid types HTCondor's condor_submit accepts; condorsim runs only ec2 ones.
GRID_TYPES = ("condor", "batch", "arc", "ec2", "gce", "azure")
# submit key (and aliases) -> job attribute, for the plain string-valued commands.
_STRING_KEYS = {
    "ec2_ami_id": "EC2AmiID", "ec2_instance_type": "EC2InstanceType",
    "ec2_user_data": "EC2UserData", "ec2_keypair": "EC2KeyPair", "ec2_keyp_air": "EC2KeyPair",
    "ec2_security_groups": "EC2SecurityGroups", "ec2_security_ids": "EC2SecurityIDs",
    "ec2_availability_zone": "EC2AvailabilityZone", "ec2_vpc_subnet": "EC2VpcSubnet",
    "ec2_vpc_ip": "EC2VpcIp",
}
# submit key (first wins) -> job attribute, for absolute paths (relative ones are made absolute).
_PATH_KEYS = {
    ("ec2_access_key_id", "aws_access_key_id_file"): "EC2AccessKeyId",
    ("ec2_secret_access_key", "aws_secret_access_key_file"): "EC2SecretAccessKey",
    ("ec2_user_data_file",): "EC2UserDataFile",
    ("ec2_keypair_file", "ec2_key_pair_file"): "EC2KeyPairFile",
}
_LIST_SPLIT = re.compile(r"[\s,]+")

Lookup = Callable[[str], tuple[str | None, int | None]]


def is_grid_job(ad: ClassAd) -> bool:
    return ad.eval("JobUniverse") == GRID_UNIVERSE


def set_grid_attributes(ad: ClassAd, value: Lookup, keys: dict[str, str], iwd: str,
                        user_requirements: str | None) -> None:
    """Make `ad` (built as a vanilla job) a grid job: `value(key)` gives a submit key's expanded
    value and line, `keys` maps every lowercase submit key set to its spelling in the file."""
    executable, line = value("executable")
    if not executable:
        raise SubmitError("No 'executable' parameter was provided", line)
    label = executable.strip()
    ad["Cmd"] = label
    ad["CloudLabelName"] = label
    ad["ExecutableSize"] = ad["ImageSize"] = ad["DiskUsage"] = 0
    ad["TransferExecutable"] = False
    ad["KillSig"] = "SIGTERM"
    ad.pop("JobLeaseDuration", None)  # the universe rules may have dropped it already
    ad.set_expr("Requirements", f"({user_requirements})" if user_requirements else "true")
    resource, line = value("grid_resource")
    if not resource or not resource.strip():
        raise SubmitError("grid_resource attribute not defined for grid universe job", line)
    resource = resource.strip()
    grid_type = resource.split()[0]
    if grid_type.lower() not in GRID_TYPES:
        raise SubmitError(f"Invalid value '{grid_type}' for grid type\n"
                          "Must be one of: condor, batch, arc, ec2, gce, or azure", line)
    if grid_type.lower() != "ec2":
        raise SubmitError(f"condorsim runs only ec2 grid jobs, not '{grid_type}' ones", line)
    ad["GridResource"] = resource
    _set_ec2(ad, value, keys, iwd)


def _set_ec2(ad: ClassAd, value: Lookup, keys: dict[str, str], iwd: str) -> None:
    resource, line = value("grid_resource")
    if len(resource.split()) < 2:
        raise SubmitError("EC2 grid jobs require a service URL", line)
    for (key, alias), attr in list(_PATH_KEYS.items())[:2]:
        path, line = _first(value, key, alias)
        if not path:
            raise SubmitError(f"EC2 jobs require a '{key}' or '{alias}' parameter", line)
        ad[attr] = _absolute(path, iwd)
    _check_key_file(ad.eval("EC2AccessKeyId"), "public", warn_group=False)
    _check_key_file(ad.eval("EC2SecretAccessKey"), "private", warn_group=True)
    ami, line = value("ec2_ami_id")
    if not ami or not ami.strip():
        raise SubmitError('EC2 jobs require a "ec2_ami_id" parameter', line)
    for key, attr in _STRING_KEYS.items():
        text, _ = value(key)
        if text is not None and text.strip():
            ad[attr] = text.strip()
    for keys_of, attr in list(_PATH_KEYS.items())[2:]:
        path, _ = _first(value, *keys_of)
        if path and path.strip():
            ad[attr] = _absolute(path, iwd)
    data_file = ad.eval("EC2UserDataFile")
    if isinstance(data_file, str):
        try:
            with open(data_file, "rb"):
                pass
        except OSError as exc:
            raise SubmitError(f"Failed to open user data file {data_file} ({exc.strerror})") from None
    if "EC2KeyPair" in ad and "EC2KeyPairFile" in ad:
        sys.stderr.write("\nWARNING: EC2 job(s) contain both ec2_keypair && ec2_keypair_file, "
                         "ignoring ec2_keypair_file\n")
        del ad["EC2KeyPairFile"]
    _set_named(ad, value, keys, "ec2_tag_", "EC2Tag", ",")
    _set_named(ad, value, keys, "ec2_parameter_", "EC2Param_", ", ")
    if "EC2TagName" not in ad:
        ad["EC2TagName"] = ad.eval("Cmd")


def _set_named(ad: ClassAd, value: Lookup, keys: dict[str, str], prefix: str, attr_prefix: str,
               joiner: str) -> None:
    """``ec2_tag_<Name>`` / ``ec2_parameter_<Name>``: one attribute each, and the list of names
    (``ec2_tag_names`` / ``ec2_parameter_names`` first, fixing their case, then the others)."""
    listed_text, _ = value(prefix + "names")
    names = [n for n in _LIST_SPLIT.split(listed_text or "") if n]
    given = [k for k in keys if k.startswith(prefix) and k not in (prefix, prefix + "names")]
    # A listed parameter name's dots are written '_' in its key (ec2_parameter_Foo_Bar).
    by_key = {n.lower().replace(".", "_"): n for n in names}
    names += sorted((keys[k][len(prefix):] for k in given if k[len(prefix):] not in by_key), key=str.lower)
    by_key = {n.lower().replace(".", "_"): n for n in names}
    for key in given:
        text, _ = value(key)
        ad[attr_prefix + by_key[key[len(prefix):]].replace(".", "_")] = (text or "").strip()
    if names:
        ad[attr_prefix.rstrip("_") + "Names"] = joiner.join(names)


def _first(value: Lookup, *keys: str) -> tuple[str | None, int | None]:
    line = None
    for key in keys:
        text, line = value(key)
        if text and text.strip():
            return text.strip(), line
    return None, line


def _absolute(path: str, iwd: str) -> str:
    return os.path.normpath(os.path.join(iwd, os.path.expanduser(path)))


def _check_key_file(path: str, kind: str, warn_group: bool) -> None:
    """The key files must be readable files; condorsim also refuses a world-readable secret."""
    if os.path.isdir(path):
        raise SubmitError(f"{path} is a directory")
    try:
        with open(path, "rb"):
            pass
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError as exc:
        raise SubmitError(f"Failed to open {kind} key file {path} ({exc.strerror})") from None
    if not warn_group:
        return
    if mode & stat.S_IROTH:
        raise SubmitError(f"the secret key file {path} is readable by everyone (mode {mode:04o}); "
                          f"make it private with chmod 600 {path}")
    if mode & stat.S_IRGRP:
        sys.stderr.write(f"\nWARNING: the secret key file {path} is readable by its group "
                         f"(mode {mode:04o})\n")


def submit_keys(variables: dict[str, Any]) -> dict[str, str]:
    """Lowercase submit key -> its spelling in the description (for tag and parameter names)."""
    return {key: getattr(assignment, "key", key) for key, assignment in variables.items()}

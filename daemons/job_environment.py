"""The environment a job runs with, built as HTCondor's starter builds it.

Only the job's own ``Environment`` (``Env`` in the old V1 form) plus what the starter adds: the
scratch directory (also as TMPDIR/TEMP/TMP and the container cache directories), the files
holding the job and machine ads, the slot's name, the job's initial directory,
``BATCH_SYSTEM=HTCondor`` and the thread-count variables set to the slot's CPUs. The starter's
own environment is not passed on (``getenv`` is resolved by condor_submit into ``Environment``).
"""
from __future__ import annotations

from condorsim.shared.classad import ClassAd
from condorsim.shared.config import parse_environment_string, parse_job_environment

# STARTER_NUM_THREADS_ENV_VARS's default: variables libraries read for their thread count.
NUM_THREADS_ENV_VARS = ("CUBACORES GOMAXPROCS JULIA_NUM_THREADS MKL_NUM_THREADS NUMEXPR_NUM_THREADS "
                        "OMP_NUM_THREADS OMP_THREAD_LIMIT OPENBLAS_NUM_THREADS PYTHON_CPU_COUNT "
                        "ROOT_MAX_THREADS TF_LOOP_PARALLEL_ITERATIONS TF_NUM_THREADS")
JOB_AD_FILE, MACHINE_AD_FILE = ".job.ad", ".machine.ad"


def job_variables(job: ClassAd) -> dict[str, str]:
    """NAME -> value of the job ad's own environment (V2 ``Environment``, else V1 ``Env``)."""
    text = job.eval("Environment")
    if isinstance(text, str):
        return parse_job_environment(text)
    old = job.eval("Env")
    return parse_environment_string(old) if isinstance(old, str) and old else {}


def slot_short_name(slot_name: str) -> str:
    """``slot1_2@host`` -> ``slot1_2`` (what _CONDOR_SLOT says)."""
    return slot_name.split("@", 1)[0]


def job_environment(job: ClassAd, machine: ClassAd | None, scratch: str, slot_name: str,
                    num_threads_vars: str | None = None) -> dict[str, str]:
    """The complete environment of the job's process (without condorsim's internal markers)."""
    env = job_variables(job)
    iwd = job.eval("Iwd")
    env["_CONDOR_SCRATCH_DIR"] = scratch
    env["_CONDOR_SLOT"] = slot_short_name(slot_name)
    env["_CONDOR_JOB_AD"] = f"{scratch}/{JOB_AD_FILE}"
    env["_CONDOR_MACHINE_AD"] = f"{scratch}/{MACHINE_AD_FILE}"
    env["_CONDOR_JOB_IWD"] = iwd if isinstance(iwd, str) else scratch
    for name in ("TMPDIR", "TEMP", "TMP", "SINGULARITY_CACHEDIR", "APPTAINER_CACHEDIR"):
        env[name] = scratch
    env["BATCH_SYSTEM"] = "HTCondor"
    cpus = machine.eval("Cpus") if machine is not None else None
    if not isinstance(cpus, int) or isinstance(cpus, bool):
        cpus = job.eval("RequestCpus")
    cpus = cpus if isinstance(cpus, int) and not isinstance(cpus, bool) and cpus > 0 else 1
    names = NUM_THREADS_ENV_VARS if num_threads_vars is None else num_threads_vars
    for name in names.replace(",", " ").split():
        env.setdefault(name, str(cpus))  # a value the job set itself wins
    return env

"""The submit language: parse a submit description and build the job ads it queues.

    desc = parse_submit(text, filename)          # SubmitError (with .line) on a bad line
    jobs = desc.build_jobs(cluster_id, owner=None, qdate=None, cwd=None, config=None)
"""

from .description import SubmitDescription, parse_submit
from .errors import SubmitError

__all__ = ["SubmitDescription", "SubmitError", "parse_submit"]

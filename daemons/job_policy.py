"""A job's own lifecycle policy, evaluated as HTCondor's user job policy evaluates it.

When a job exits (ExitCode and NumJobCompletions already recorded): OnExitHold puts it on hold
(OnExitHoldReason / OnExitHoldSubCode, code 3), else an OnExitRemove that is false sends it back
to Idle to run again (how condor_submit's max_retries / retry_until / success_exit_code work),
else it completes. While it runs: AllowedJobDuration (since its shadow started) and
AllowedExecuteDuration (since it began executing) hold it with codes 46 and 47, and
PeriodicVacate sends it back to Idle.
"""
from __future__ import annotations

from dataclasses import dataclass

from condorsim.shared.classad import ClassAd, unparse

HOLD_JOB_POLICY, HOLD_JOB_DURATION, HOLD_EXECUTE_DURATION = 3, 46, 47


def fires(ad: ClassAd, attr: str) -> bool:
    """True when the attribute exists and evaluates to true or a non-zero number."""
    if ad.lookup(attr) is None:
        return False
    value = ad.eval(attr)
    return value is True or (isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0)


def policy_text(ad: ClassAd, attr: str) -> str:
    return f"The job attribute {attr} expression '{unparse(ad.lookup(attr))}' evaluated to TRUE"


@dataclass
class Hold:
    reason: str
    code: int
    subcode: int = 0


def _reason_and_subcode(ad: ClassAd, attr: str) -> Hold:
    """The hold a fired policy expression `attr` gives: its <attr>Reason / <attr>SubCode if set."""
    reason = ad.eval(f"{attr}Reason")
    subcode = ad.eval(f"{attr}SubCode")
    return Hold(reason if isinstance(reason, str) and reason else policy_text(ad, attr), HOLD_JOB_POLICY,
                subcode if isinstance(subcode, int) and not isinstance(subcode, bool) else 0)


def exit_action(ad: ClassAd) -> Hold | str:
    """What happens to a job that just exited: a Hold, "requeue" or "complete"."""
    if fires(ad, "OnExitHold"):
        return _reason_and_subcode(ad, "OnExitHold")
    if ad.lookup("OnExitRemove") is not None and not fires(ad, "OnExitRemove"):
        return "requeue"
    return "complete"


def periodic_hold(ad: ClassAd, running: bool, now: int) -> Hold | None:
    """The hold the periodic policy calls for: a running job's duration limits, then PeriodicHold."""
    limit = running_limit(ad, now) if running else None
    if limit is None and fires(ad, "PeriodicHold"):
        return _reason_and_subcode(ad, "PeriodicHold")
    return limit


def accounting_name(ad: ClassAd) -> str | None:
    """The name the job is negotiated under: its AccountingGroup (group.user, set by
    accounting_group or nice_user), else its Owner."""
    for attr in ("AccountingGroup", "Owner"):
        value = ad.eval(attr)
        if isinstance(value, str) and value:
            return value
    return None


def format_time_short(seconds: int) -> str:
    """HTCondor's short duration: ``d+hh:mm:ss`` without its leading zeros (at least ``mm:ss``)."""
    days, rest = divmod(int(seconds), 86400)
    text = "%4d+%02d:%02d:%02d" % (days, rest // 3600, rest % 3600 // 60, rest % 60)
    stripped = text.lstrip(" 0+")
    return stripped[1:] if stripped.startswith(":") else stripped


def running_limit(ad: ClassAd, now: int) -> Hold | None:
    """The hold a running job's AllowedJobDuration / AllowedExecuteDuration calls for, if any."""
    def number(attr: str) -> int | None:
        value = ad.eval(attr)
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    birthday, allowed = number("ShadowBday"), number("AllowedJobDuration")
    if allowed is not None and birthday is not None and now - birthday >= allowed:
        return Hold(f"The job exceeded allowed job duration of {format_time_short(allowed)}", HOLD_JOB_DURATION)
    executing, allowed = number("JobCurrentStartExecutingDate"), number("AllowedExecuteDuration")
    if allowed is not None and executing is not None and birthday is not None and executing >= birthday \
            and now - executing > allowed:
        return Hold(f"The job exceeded allowed execute duration of {format_time_short(allowed)}",
                    HOLD_EXECUTE_DURATION)
    return None

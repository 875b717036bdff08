"""condor_q -analyze / -better-analyze: why a job does or does not match the pool's slots.

Laid out as HTCondor's condor_q prints it: the job's Requirements pretty-printed and numbered
clause by clause, the job attributes they read, a table of how many slots each clause matches
(clauses that decide nothing are folded into the ones that do, as HTCondor folds them), then the
run-analysis summary (slots the job rejects, slots that reject the job, slots willing to run it).
``-better-analyze:reverse`` analyses a slot's START/Requirements against the jobs instead.

Partitionable slots are analysed as one offer each (their dynamic slots are skipped, as
HTCondor's default p-slot mode does); static slots each count as one offer.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from condorsim.shared.classad import ClassAd, unparse
from condorsim.shared.classad import nodes as N
from condorsim.shared.classad.expr import Expr

_COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "is", "isnt"}
_LOGIC = {"!": 1, "||": 2, "&&": 3}


@dataclass
class Clause:
    """One numbered step of an expression (HTCondor's AnalSubExpr)."""
    node: N.Node
    depth: int
    logic: int = 0                 # 0 = a leaf, 1 = !, 2 = ||, 3 = &&
    left: int = -1
    right: int = -1
    constant: bool = False
    value: bool = False            # its value when constant
    effective: int = -1            # the clause whose result this one merely repeats
    dont_care: bool = False
    matches: int = 0

    def label(self) -> str:
        if self.logic in (2, 3):
            return f"[{self.left}] {'||' if self.logic == 2 else '&&'} [{self.right}]"
        return unparse(self.node)


def decompose(node: N.Node, clauses: list[Clause], must_store: bool = True, depth: int = 0,
              inline: dict[str, N.Node] | None = None) -> int:
    """Append the steps of `node` in evaluation order; the index of the step it is, or -1.
    References to the attributes of `inline` are analysed as the expressions they name."""
    left = right = None
    logic, push, logical_children, child_depth = 0, must_store, False, depth
    kind = type(node)
    if kind is N.AttrRef and inline and node.name.lower() in inline:
        left = inline.pop(node.name.lower())
    elif kind is N.Binary:
        left, right = node.left, node.right
        if node.op in _COMPARISONS:
            push = True
        elif node.op in ("&&", "||"):
            logic, push, logical_children = _LOGIC[node.op], True, True
    elif kind is N.Unary:
        left = node.operand
        if node.op == "!":
            logic, push, logical_children = 1, True, True
    elif kind is N.Paren:
        left, push, logical_children, child_depth = node.inner, False, True, depth + 1
    ix_left = decompose(left, clauses, logical_children, child_depth, inline) if left is not None else -1
    ix_right = decompose(right, clauses, logical_children, child_depth, inline) if right is not None else -1
    if push:
        if left is not None and right is None and ix_left >= 0:
            if logic == 1 and ix_left == len(clauses) - 1:
                clauses[-1].node, clauses[-1].logic, clauses[-1].depth = node, 0, depth
            return ix_left
        clauses.append(Clause(node, depth, logic, ix_left, ix_right))
        return len(clauses) - 1
    return ix_left if left is not None and right is None else -1


def target_references(node: N.Node, my: ClassAd) -> set[str]:
    """Attributes `node` reads from the other ad: TARGET.X, and unscoped X the ad lacks."""
    refs: set[str] = set()
    _walk_refs(node, my, refs, set())
    return refs


def my_references(node: N.Node, my: ClassAd) -> list[str]:
    """Attributes of `my` that `node` reads (MY.X and unscoped X it has), sorted."""
    refs: set[str] = set()
    _walk_refs(node, my, set(), refs)
    return sorted(refs, key=str.lower)


def _walk_refs(node: N.Node, my: ClassAd, target: set[str], mine: set[str]) -> None:
    kind = type(node)
    if kind is N.AttrRef:
        (mine if node.name in my else target).add(node.name)
        return
    if kind is N.Select and type(node.base) is N.AttrRef and node.base.name.lower() in ("my", "target"):
        (mine if node.base.name.lower() == "my" else target).add(node.name)
        return
    for child in _children(node):
        _walk_refs(child, my, target, mine)


def _children(node: N.Node) -> tuple:
    kind = type(node)
    if kind is N.Binary:
        return (node.left, node.right)
    if kind in (N.Unary,):
        return (node.operand,)
    if kind is N.Paren:
        return (node.inner,)
    if kind is N.Call:
        return tuple(node.args)
    if kind is N.Conditional:
        return (node.cond, node.then, node.otherwise)
    if kind is N.Elvis:
        return (node.left, node.right)
    if kind is N.Select:
        return (node.base,)
    if kind is N.Subscript:
        return (node.base, node.index)
    if kind is N.ListLit:
        return tuple(node.items)
    return ()


def _true(node: N.Node, my: ClassAd, target: ClassAd | None) -> bool:
    try:
        value = Expr(node).eval(my, target)
    except Exception:  # an expression that cannot be evaluated matches nothing
        return False
    return value is True or (type(value) in (int, float) and value != 0)


def _inline(my: ClassAd, names: tuple[str, ...]) -> dict[str, N.Node]:
    return {name.lower(): my.lookup(name).node for name in names if my.lookup(name) is not None}


def steps(my: ClassAd, attr: str, inline: tuple[str, ...] = ()) -> list[Clause]:
    clauses: list[Clause] = []
    expr = my.lookup(attr)
    if expr is not None:
        decompose(expr.node, clauses, inline=_inline(my, inline))
    return clauses


def analyse_clauses(my: ClassAd, attr: str, targets: list[ClassAd],
                    inline: tuple[str, ...] = ()) -> list[Clause]:
    """The steps of `my`[attr] with the number of `targets` each matches, folded as HTCondor
    folds them: a step whose result equals one of its operands' is shown as that operand."""
    clauses = steps(my, attr, inline)
    for clause in clauses:
        clause.constant = not target_references(clause.node, my)
        if clause.constant:
            clause.value = _true(clause.node, my, None)
    for ix, clause in enumerate(clauses):
        _fold_constants(clauses, ix)
        if clause.constant:
            continue
        _fold_before(clauses, ix, len(targets))
        clause.matches = sum(1 for t in targets if _true(clause.node, my, t))
        _fold_counts(clauses, ix)
    return clauses


def _irrelevant(clauses: list[Clause], ix: int) -> None:
    """Mark step `ix` and the steps it is made of as deciding nothing."""
    clauses[ix].dont_care = True
    for child in (clauses[ix].left, clauses[ix].right):
        if child >= 0 and clauses[ix].logic:
            _irrelevant(clauses, child)


def _fold_before(clauses: list[Clause], ix: int, total: int) -> None:
    """Before counting a logic step: an && with an operand matching nothing is that operand;
    an || with an operand matching everything (or the other matching nothing) is that operand."""
    clause = clauses[ix]
    if clause.logic not in (2, 3) or clause.left < 0 or clause.right < 0 or clause.effective >= 0:
        return
    left, right = clauses[clause.left].matches, clauses[clause.right].matches
    effective = prune = -1
    if clause.logic == 3:
        effective = clause.left if left == 0 else clause.right if right == 0 else -1
    elif left == total:
        effective, prune = clause.left, clause.right
    elif right == total:
        effective, prune = clause.right, clause.left
    elif left == 0 and right:
        effective, prune = clause.right, clause.left
    elif left and right == 0:
        effective, prune = clause.left, clause.right
    if prune >= 0:
        _irrelevant(clauses, prune)
    if effective >= 0:
        clause.effective = _final(clauses, effective)


def _final(clauses: list[Clause], ix: int) -> int:
    while clauses[ix].effective >= 0:
        ix = clauses[ix].effective
    return ix


def _fold_constants(clauses: list[Clause], ix: int) -> None:
    """A logic step with a constant operand is decided by (or repeats) the other operand."""
    clause = clauses[ix]
    if clause.logic not in (2, 3) or clause.left < 0 or clause.right < 0:
        return
    left, right = clauses[clause.left], clauses[clause.right]
    for const, other, ix_const, ix_other in ((left, right, clause.left, clause.right),
                                             (right, left, clause.right, clause.left)):
        if not const.constant:
            continue
        decides = const.value if clause.logic == 2 else not const.value
        if decides:
            clause.effective = _final(clauses, ix_const)
            other.dont_care = True
        else:
            clause.effective = _final(clauses, ix_other)
            const.dont_care = True
        if left.constant and right.constant:
            clause.constant, clause.value = True, _true(clause.node, ClassAd(), None)
        return


def _fold_counts(clauses: list[Clause], ix: int) -> None:
    clause = clauses[ix]
    if clause.logic not in (2, 3) or clause.left < 0 or clause.right < 0 or clause.effective >= 0:
        return
    left, right = clauses[clause.left], clauses[clause.right]
    if clause.logic == 3:
        if left.matches == clause.matches:
            clause.effective = _final(clauses, clause.left)
            right.dont_care = right.matches > clause.matches
        elif right.matches == clause.matches:
            clause.effective = _final(clauses, clause.right)
            left.dont_care = left.matches > clause.matches
    if clause.effective < 0:
        clause.left = _final(clauses, clause.left)
        clause.right = _final(clauses, clause.right)


def _step(ix: int, width: int) -> str:
    return f"[{ix}]      "[:width + 2]


def numbered_clauses(my: ClassAd, attr: str, inline: tuple[str, ...] = ()) -> str:
    lines = []
    for ix, clause in enumerate(steps(my, attr, inline)):
        text = clause.label() if clause.logic else (
            unparse(clause.node) if clause.left < 0 else f"[{clause.left}] {unparse(clause.node)}")
        lines.append(f"    {_step(ix, 4)} : {text}\n")
    return "".join(lines)


def reduction_table(clauses: list[Clause], target_kind: str) -> str:
    out = ["       " + f"{target_kind:>5}s" + "\n", "Step   Matched  Condition\n",
           "----- --------- ---------\n"]
    for ix, clause in enumerate(clauses):
        if clause.effective >= 0 or clause.dont_care:
            continue
        if clause.constant:
            count = "always" if clause.value else "never"
        else:
            count = str(clause.matches)
        out.append(f"{_step(ix, 3)} {count:>9}  {clause.label()}\n")
    return "".join(out)


def pretty_expression(text: str, indent: int = 4, width: int = 80) -> str:
    """`text` broken after && / || where a line would reach `width` (HTCondor's layout)."""
    buf = list(text)
    i = line_start = last_and = 0
    indent_at_last_and, pos, was_and, prev = indent, indent, False, ""
    while i < len(buf):
        c = buf[i]
        is_and = c in "&|" and prev == c
        if not is_and:
            indent += 2 if c == "(" else -2 if c == ")" else 0
        if pos >= width and last_and != line_start:
            buf[last_and] = "\n"
            line_start = last_and = last_and + 1
            pos = 0
            if indent_at_last_and > 0:
                buf[line_start:line_start] = [" "] * indent_at_last_and
                i += indent_at_last_and
                pos = i - line_start
            indent_at_last_and = indent
        if was_and:
            last_and, indent_at_last_and = i, indent
        prev = buf[i]
        i += 1
        pos += 1
        was_and = is_and
    return "".join(buf)


def _job_id(job: ClassAd) -> tuple[int, int]:
    return int(job.eval("ClusterId") or 0), int(job.eval("ProcId") or 0)


def offers(slots: list[ClassAd]) -> list[ClassAd]:
    """The slots analysed: all of them but dynamic slots (their p-slot stands for them)."""
    if len(slots) <= 1:
        return slots
    return [s for s in slots if s.eval("DynamicSlot") is not True]


@dataclass
class Counts:
    slots: int = 0
    machines: int = 0
    rejected_by_job: int = 0
    reject_job: int = 0
    running_yours: int = 0
    running_others: int = 0
    willing: int = 0


def count_matches(job: ClassAd, slots: list[ClassAd], user: str | None) -> Counts:
    counts = Counts()
    machines = set()
    requirements = job.lookup("Requirements")
    for slot in offers(slots):
        counts.slots += 1
        machines.add(slot.eval("Machine"))
        if requirements is not None and not _true(requirements.node, job, slot):
            counts.rejected_by_job += 1
            continue
        slot_req = slot.lookup("Requirements") or slot.lookup("START")
        if slot_req is not None and not _true(slot_req.node, slot, job):
            counts.reject_job += 1
            continue
        remote = slot.eval("RemoteUser")
        if isinstance(remote, str):
            if user and remote.split("@")[0] == user.split("@")[0]:
                counts.running_yours += 1
            else:
                counts.running_others += 1
            continue
        counts.willing += 1
    counts.machines = len(machines)
    return counts


_STATUS = {2: "Job is running.", 3: "Job is removed.", 4: "Job is completed.", 5: "Job is held."}


def _ctime(seconds: int) -> str:
    return time.strftime("%a %b %e %H:%M:%S %Y", time.localtime(seconds))


def analyse_job(job: ClassAd, slots: list[ClassAd], better: bool, user: str | None = None) -> str:
    """The analysis condor_q prints for one job (after the schedd banner)."""
    cluster, proc = _job_id(job)
    jid = f"{cluster}.{proc:03d}"
    usable = offers(slots)
    counts = count_matches(job, slots, user)
    out = ""
    if better or counts.rejected_by_job:
        out += _requirements_analysis(job, jid, usable) + "\n"
    if counts.slots:
        out += (f"\n{cluster:03d}.{proc:03d}:  Run analysis summary ignoring user priority.  "
                f"Of {counts.slots} slots on {counts.machines} machines,\n")
        out += f"  {counts.rejected_by_job:5d} slots are rejected by your job's requirements\n"
        out += f"  {counts.reject_job:5d} slots reject your job because of their own requirements\n"
        if counts.running_yours:
            out += f"  {counts.running_yours:5d} slots match and are already running your jobs\n"
        if counts.running_yours + counts.running_others:
            out += f"  {counts.running_others:5d} slots match but are serving other users\n"
        out += f"  {counts.willing:5d} slots match and are willing to run your job\n"
        if counts.rejected_by_job == counts.slots:
            out += "\nWARNING:  Be advised:\n   No machines matched the job's constraints\n"
        elif counts.rejected_by_job + counts.reject_job == counts.slots:
            out += ("\nWARNING:  Be advised:\n   Job did not match any machines' constraints\n"
                    "   To see why, pick a machine that you think should match and add\n"
                    "     -reverse -machine <name>\n   to your query.\n")
    out += "\n" + _status_and_history(job, cluster, proc)
    return out


def _requirements_analysis(job: ClassAd, jid: str, usable: list[ClassAd]) -> str:
    req = job.lookup("Requirements")
    if req is None:
        return ""
    out = f"The Requirements expression for job {jid} is\n\n    "
    out += pretty_expression(unparse(req.node)) + "\n\n"
    out += numbered_clauses(job, "Requirements") + "\n"
    out += f"Job {jid} defines the following attributes:\n\n"
    for name in my_references(req.node, job):
        if name.lower() != "requirements":
            out += f"    {name} = {unparse(job.lookup(name).node)}\n"
    if len(usable) == 1:
        slot = usable[0]
        values = "".join(f"    TARGET.{name} = {unparse(slot.lookup(name).node)}\n"
                         for name in sorted(target_references(req.node, job), key=str.lower)
                         if slot.lookup(name) is not None)
        if values:
            out += f"\n{slot.eval('Name')} has the following attributes:\n\n{values}"
    out += "\n"
    clauses = analyse_clauses(job, "Requirements", usable)
    out += f"The Requirements expression for job {jid} reduces to these conditions:\n\n"
    return out + reduction_table(clauses, "Slot")


def _status_and_history(job: ClassAd, cluster: int, proc: int) -> str:
    out = ""
    status = job.eval("JobStatus")
    if status in _STATUS:
        text = _STATUS[status]
        reason = job.eval("HoldReason")
        if status == 5 and isinstance(reason, str):
            text += f"\n\nHold reason: {reason}"
        out += f"\n{cluster:03d}.{proc:03d}:  {text}\n\n"
    matched, rejected = job.eval("LastMatchTime"), job.eval("LastRejMatchTime")
    matched = matched if isinstance(matched, int) else 0
    rejected = rejected if isinstance(rejected, int) else 0
    if matched:
        out += f"Last successful match: {_ctime(matched)}\n"
    elif rejected:
        out += "No successful match recorded.\n"
    if rejected > matched:
        out += f"Last failed match: {_ctime(rejected)}\n"
        reason = job.eval("LastRejMatchReason")
        if isinstance(reason, str):
            out += f"Reason for last match failure: {reason}\n"
    return out


SLOT_INLINE = ("START", "WithinResourceLimits")


def _slot_kind(slot: ClassAd) -> str:
    if slot.eval("DynamicSlot") is True:
        return "Dyn"
    return "Part" if slot.eval("PartitionableSlot") is True else "Stat"


def _slot_matches(slot: ClassAd, jobs: list[ClassAd]) -> tuple[int, int, int]:
    """(jobs matching both ways, jobs the slot accepts, jobs accepting the slot)."""
    req = slot.lookup("Requirements") or slot.lookup("START")
    slot_ok = [req is None or _true(req.node, slot, job) for job in jobs]
    job_ok = [job.lookup("Requirements") is None or _true(job.lookup("Requirements").node, job, slot)
              for job in jobs]
    return sum(a and b for a, b in zip(slot_ok, job_ok)), sum(slot_ok), sum(job_ok)


def analyse_slot(slot: ClassAd, jobs: list[ClassAd]) -> str:
    """-better-analyze:reverse for one slot: its Requirements (START inlined) against the jobs."""
    name = slot.eval("Name")
    out = f"\n-- Slot: {name} : Analyzing matches for {len(jobs)} Jobs in {len(jobs)} autoclusters\n"
    req = slot.lookup("Requirements")
    if req is not None:
        out += "\nThe Requirements expression for this slot is\n\n    " + pretty_expression(unparse(req.node))
        for attr in SLOT_INLINE:
            if slot.lookup(attr) is not None:
                out += f"\n\n  {attr} is\n    " + pretty_expression(unparse(slot.lookup(attr).node))
        out += "\n\n" + numbered_clauses(slot, "Requirements", SLOT_INLINE) + "\n"
        out += "This slot defines the following attributes:\n\n"
        inlined = {a.lower() for a in SLOT_INLINE} | {"requirements"}
        nodes = [req.node] + [slot.lookup(a).node for a in SLOT_INLINE if slot.lookup(a) is not None]
        names = sorted({n for node in nodes for n in my_references(node, slot) if n.lower() not in inlined},
                       key=str.lower)
        out += "".join(f"    {n} = {unparse(slot.lookup(n).node)}\n" for n in names)
        out += "\nThe Requirements expression for this slot reduces to these conditions:\n\n"
        out += reduction_table(analyse_clauses(slot, "Requirements", jobs, SLOT_INLINE), "Job")
    both, slot_side, job_side = _slot_matches(slot, jobs)
    percent = 100.0 * both / len(jobs) if jobs else 0.0
    out += (f"\n{name}: Run analysis summary of {len(jobs)} jobs.\n"
            f"{both:5d} ({percent:.2f} %) match both slot and job requirements.\n"
            f"{slot_side:5d} match the requirements of this slot.\n"
            f"{job_side:5d} have job requirements that match this slot.\n")
    return out


def reverse_table(slots: list[ClassAd], jobs: list[ClassAd]) -> str:
    """-better-analyze:reverse over several slots: one line per slot."""
    names = [str(s.eval("Name")) for s in slots]
    machines = [str(s.eval("Machine")) for s in slots]
    width = max(16, max([len(m) + 7 for m in machines] + [len(n) for n in names] or [0]))

    def row(*cells: str) -> str:
        return f"{cells[0][:width]:<{width}} {cells[1]:>4} {cells[2][:12]:>12} {cells[3][:12]:>12} {cells[4][:10]:>10}\n"
    if len(jobs) == 1:
        cluster, proc = _job_id(jobs[0])
        out = f"{cluster}.{proc}: Analyzing matches for 1 job\n"
    else:
        out = f"Analyzing matches for {len(jobs)} jobs\n"
    out += row("", "Slot", "Slot's Req ", "  Job's Req ", "Both   ")
    out += row("Name", "Type", "Matches Job", "Matches Slot", "Match %")
    out += row("------------------------", "----", "------------", "------------", "----------")
    for slot, name in zip(slots, names):
        both, slot_side, job_side = _slot_matches(slot, jobs)
        percent = 100.0 * both / len(jobs) if jobs else 0.0
        out += f"{name[:width]:<{width}} {_slot_kind(slot):<4} {slot_side:12d} {job_side:12d} {percent:10.2f}\n"
    return out

"""Late materialization: a cluster submitted with ``max_materialize`` (JobMaterializeLimit) or
``max_idle`` (JobMaterializeMaxIdle) enters the queue a few procs at a time.

The procs not yet in the queue are kept, as ad text, in ``SPOOL/materialize/cluster<C>.ads``
(written and fsync'd before the submit is acknowledged, rewritten by rename as procs move into
the queue), so a schedd restart loses none of them. A cluster may have at most
JobMaterializeLimit procs in the queue and at most JobMaterializeMaxIdle idle ones.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable

from condorsim.shared.classad import ClassAd, eval_constraint, format_new, parse_ads, parse_expr

IDLE = 1


def _limit(ad: ClassAd, attr: str) -> int | None:
    value = ad.eval(attr)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


class Materializer:
    def __init__(self, spool: str, log: Callable[[str], None] = print) -> None:
        self.dir = Path(spool) / "materialize"
        self.log = log
        self.pending: dict[int, list[ClassAd]] = {}
        for path in sorted(self.dir.glob("cluster*.ads")):
            try:
                self.pending[int(path.stem[len("cluster"):])] = parse_ads(path.read_text())
            except (OSError, ValueError) as exc:
                self.log(f"ERROR reading the unmaterialized procs in {path}: {exc}")

    def admit(self, cluster: int, ads: list[ClassAd]) -> list[ClassAd]:
        """The procs of a new cluster that enter the queue now; the rest are kept for later."""
        if not ads or (_limit(ads[0], "JobMaterializeLimit") is None
                       and _limit(ads[0], "JobMaterializeMaxIdle") is None):
            return ads
        self.pending[cluster] = list(ads)
        return self.release(cluster, [])

    def release(self, cluster: int, queued: Iterable[ClassAd]) -> list[ClassAd]:
        """The cluster's next procs that fit beside its `queued` jobs (and are removed from the
        kept ones)."""
        waiting = self.pending.get(cluster)
        if not waiting:
            return []
        queued = list(queued)
        room = len(waiting)
        limit = _limit(waiting[0], "JobMaterializeLimit")
        if limit is not None:
            room = min(room, limit - len(queued))
        max_idle = _limit(waiting[0], "JobMaterializeMaxIdle")
        if max_idle is not None:
            room = min(room, max_idle - sum(1 for ad in queued if ad.eval("JobStatus") == IDLE))
        if room <= 0:
            return []
        now, self.pending[cluster] = waiting[:room], waiting[room:]
        self.save(cluster)
        return now

    def clusters(self) -> list[int]:
        return sorted(self.pending)

    def remove_matching(self, message: dict) -> None:
        """condor_rm of whole clusters (a cluster id, an owner, a constraint, -all) also takes
        the procs still to come, as removing HTCondor's cluster ad ends its materialization."""
        expr = parse_expr(message["constraint"]) if message.get("constraint") else None
        for cluster, waiting in list(self.pending.items()):
            ad = waiting[0] if waiting else None
            if ad is None or not (message.get("all") or str(cluster) in (message.get("ids") or [])
                                  or (message.get("owner") and ad.eval("Owner") == message["owner"])
                                  or (expr is not None and eval_constraint(expr, ad))):
                continue
            self.pending[cluster] = []
            self.save(cluster)
            self.log(f"Removed the unmaterialized procs of cluster {cluster}")

    def save(self, cluster: int) -> None:
        """Persist what is still to come of the cluster (atomically; gone when nothing is)."""
        path = self.dir / f"cluster{cluster}.ads"
        waiting = self.pending.get(cluster) or []
        if not waiting:
            self.pending.pop(cluster, None)
            path.unlink(missing_ok=True)
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        with open(temporary, "w") as handle:
            handle.write("\n".join(format_new(ad) for ad in waiting) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

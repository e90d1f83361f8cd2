"""An ordered set of providers that answers a pack as long as one of them can.

For each pack the router orders the members; the chain tries them in that order. A member whose
breaker is open is passed over while a later one can take the pack (only the last one left holds
the pack until its breaker probes). A call that fails for good on one member (rate limited past its
retries, upstream errors, timeouts, a rejected request) moves to the next; an auth error, an
unknown model or a stall (no progress for the stall timeout, or nothing listening at all: see
``resilience/stall.py``) drops that member for the rest of the run, with one line saying so. A pack
whose items one member answered badly past their re-asks is sent to the others (``avoid``). When
every member has been dropped the run cannot go on and the chain says why.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence

from forge_cli.core.calls import Completion, PackRequest
from forge_cli.core.errors import FatalProviderError, StalledError
from forge_cli.engine.calibration import TokenCalibration
from forge_cli.engine.calling.caller import Caller, CallFailed
from forge_cli.engine.calling.member import Member
from forge_cli.engine.calling.routing import Ordered, Router
from forge_cli.engine.stats import RunStats

__all__ = ["Chain", "Member"]


class Chain:
    def __init__(
        self,
        members: Sequence[Member],
        *,
        stats: RunStats,
        router: Router | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        if not members:
            raise ValueError("a chain needs at least one provider")
        self.members = list(members)
        self.router = router or Ordered()
        self.stats = stats
        self._notify = notify
        #: the run's ratio over every member, for what is estimated before a member is chosen
        #: (a pack's token budget)
        self.calibration = TokenCalibration()
        for member in self.members:
            stats.providers[member.name] = member.usage

    @classmethod
    def single(cls, caller: Caller, stats: RunStats) -> Chain:
        return cls([Member(caller.provider, caller)], stats=stats)

    # ---------------------------------------------------------------- what the runner reads

    @property
    def label(self) -> str:
        return ",".join(m.name for m in self.members)

    @property
    def model_label(self) -> str:
        return ",".join(dict.fromkeys(m.provider.model for m in self.members))

    @property
    def identity(self) -> str:
        """What the chain adds to a cache key: its providers and models, in order."""
        return ",".join(f"{m.name}|{m.provider.model}" for m in self.members)

    @property
    def cacheable(self) -> bool:
        return any(m.provider.cacheable for m in self.members)

    @property
    def concurrency(self) -> int:
        """Packs the runner keeps in flight: every member's cap, so none starves another."""
        return sum(m.caller.limiter.maximum for m in self.members)

    async def aclose(self) -> None:
        for member in self.members:
            await member.provider.aclose()

    # ---------------------------------------------------------------- calling

    def has_other(self, names: Iterable[str]) -> bool:
        """Whether a member still in the run is none of ``names``: somewhere else to send a pack."""
        avoid = set(names)
        return any(m.dropped is None and m.name not in avoid for m in self.members)

    async def call(
        self,
        request: PackRequest,
        tokens: tuple[int, int] = (0, 0),
        *,
        avoid: Collection[str] = (),
    ) -> tuple[Completion, int, Member]:
        """The completion, the attempts it took over all members, and the member that answered.

        Members named in ``avoid`` (they answered this pack's items badly, past their re-asks) are
        passed over while another member is still in the run.
        """
        attempts = 0
        last: CallFailed | None = None
        live = [m for m in self.router.order(self.members, tokens) if m.dropped is None]
        candidates = [m for m in live if m.name not in avoid] or live
        for index, member in enumerate(candidates):
            if member.dropped is not None:  # dropped by another pack while this one waited
                continue
            later = candidates[index + 1 :]
            fallback = any(m.usable() for m in later)
            if (member.breaker_open() or member.paused()) and fallback:
                continue
            try:
                # the TPM bucket is charged what this member's own counts say the pack will cost
                charge = sum(member.calibration.scale(tokens))
                completion, used = await member.caller.call(request, charge, hold=not fallback)
            except CallFailed as failed:
                attempts += failed.attempts
                last = failed
                if isinstance(failed.error, FatalProviderError):
                    self._drop(member, failed.error)
                if any(m.dropped is None for m in later):
                    member.usage.fallbacks += 1
                continue
            member.latency.observe(completion.latency_ms)
            reported = (completion.tokens_in, completion.tokens_out)
            member.calibration.observe(tokens, reported)
            self.calibration.observe(tokens, reported)
            return completion, attempts + used, member
        if last is not None and len(self.members) == 1:
            raise CallFailed(last.error, attempts)  # one provider: its own error says it best
        if last is None or all(m.dropped is not None for m in self.members):
            # (last is None only when every candidate was dropped while this pack waited)
            reasons = "; ".join(f"{m.dropped}" for m in self.members if m.dropped)
            # every member stalled: the providers are down, not misconfigured (exit 1, not 2)
            stalled = all(isinstance(m.drop_error, StalledError) for m in self.members)
            error = (StalledError if stalled else FatalProviderError)(
                f"no provider left: {reasons}"
            )
            raise CallFailed(error, attempts)
        raise CallFailed(last.error, attempts)

    def _drop(self, member: Member, error: FatalProviderError) -> None:
        if member.dropped is not None:
            return
        member.drop(str(error), error)
        left = [m.name for m in self.members if m.dropped is None]
        line = f"{member.name} dropped for this run: {error.message}" + (
            f"; going on with {', '.join(left)}" if left else ""
        )
        self.stats.notices.append(line)
        if self._notify is not None:
            self._notify(line)

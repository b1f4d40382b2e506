"""Properties of the scheduler over any sequence of requests, results and clock moves."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from rotisserie import KeyConfig, Lease, LeaseStatus, RetryConfig
from rotisserie._scheduler import Scheduler, Waiter

RETRY = RetryConfig(
    retry_after_base=0.5,
    retry_after_growth=2.0,
    retry_after_cap=4.0,
    error_base=0.25,
    error_growth=3.0,
    error_cap=2.0,
)
ENDPOINTS = ("a", "b", "c")  # "c" is only ever used without entering it
#: Longer than any cooldown, window or lease timeout the machine configures.
LONG = 1_000.0

key_specs = st.lists(
    st.tuples(
        st.none() | st.tuples(st.integers(1, 3), st.sampled_from([1.0, 2.5, 5.0])),
        st.none() | st.integers(1, 2),
    ),
    min_size=1,
    max_size=3,
)


class SchedulerMachine(RuleBasedStateMachine):
    """Drives one scheduler and keeps an independent model of what it must respect."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.scheduler = Scheduler([KeyConfig("x", "t")])
        self.configs: dict[str, KeyConfig] = {}
        self.leases: list[Lease] = []
        self.pending: list[Waiter] = []
        self.cancelled: set[int] = set()
        self.from_waiter: dict[int, Waiter] = {}
        self.served_seqs: set[int] = set()
        self.queued: dict[str, list[Waiter]] = defaultdict(list)
        self.entered: dict[str, int] = {}
        # The model: sent grant times per key, cooldown ends, failure streaks.
        self.sent: dict[str, list[float]] = defaultdict(list)
        self.cool_until: dict[str, float] = defaultdict(lambda: float("-inf"))
        self.streak: dict[str, int] = defaultdict(int)
        self.disabled: set[str] = set()

    @initialize(
        specs=key_specs,
        distribute=st.booleans(),
        lease_timeout=st.sampled_from([None, 7.0]),
        b_reserve=st.integers(0, 2),
    )
    def setup(
        self,
        specs: list[tuple[tuple[int, float] | None, int | None]],
        distribute: bool,
        lease_timeout: float | None,
        b_reserve: int,
    ) -> None:
        """Build the pool and enter two endpoints."""
        configs = [
            KeyConfig(f"k{i}", f"token-{i}", per_window=window, max_in_flight=limit)
            for i, (window, limit) in enumerate(specs)
        ]
        self.configs = {c.name: c for c in configs}
        self.scheduler = Scheduler(
            configs, distribute=distribute, retry=RETRY, lease_timeout=lease_timeout
        )
        self.enter("a", 1, 1)
        self.enter("b", b_reserve, 2)

    # -- bookkeeping ----------------------------------------------------------------

    def enter(self, name: str, reserve: int, priority: int) -> None:
        self.took(self.scheduler.enter(name, reserve, priority, self.now))
        self.entered[name] = self.entered.get(name, 0) + 1

    def granted(self, lease: Lease) -> None:
        """Check a new grant against the model, then record it."""
        name = lease.name
        assert lease.granted_at == self.now
        assert name not in self.disabled, f"disabled key {name} granted"
        assert self.now >= self.cool_until[name], f"cooling key {name} granted"
        times = self.sent[name]
        times.append(self.now)
        for window in self.configs[name].windows:
            # A grant at t counts until t + seconds (the pool's own rule,
            # written the same way so that rounding cannot split them).
            inside = sum(t + window.seconds > self.now for t in times)
            assert inside <= window.limit, f"{name}: {inside} grants in {window}"
        self.leases.append(lease)

    def took(self, woken: list[Waiter]) -> None:
        """Take in the waiters a scheduler call served."""
        for waiter in woken:
            assert waiter.lease is not None and waiter.error is None
            assert waiter.seq not in self.served_seqs, "a waiter was served twice"
            assert waiter in self.pending
            # First come, first served within one endpoint.
            for earlier in self.queued[waiter.endpoint]:
                if earlier.seq == waiter.seq:
                    break
                assert earlier.done or earlier.seq in self.cancelled
            self.served_seqs.add(waiter.seq)
            self.pending.remove(waiter)
            self.from_waiter[waiter.lease.id] = waiter
            self.granted(waiter.lease)

    def refunded(self, lease: Lease) -> None:
        """A grant that never left gives its window slot back."""
        self.sent[lease.name].remove(lease.granted_at)

    # -- rules ----------------------------------------------------------------------

    @rule(endpoint=st.sampled_from(ENDPOINTS))
    def take(self, endpoint: str) -> None:
        """Ask for a key."""
        outcome = self.scheduler.request(endpoint, self.now)
        if isinstance(outcome, Lease):
            self.granted(outcome)
        else:
            self.pending.append(outcome)
            self.queued[endpoint].append(outcome)

    @precondition(lambda self: self.leases)
    @rule(data=st.data(), status=st.sampled_from([200, 429, None, 401]))
    def report(self, data: st.DataObject, status: int | None) -> None:
        """Report one lease: success, rate limit, transport error or revoked."""
        lease = data.draw(st.sampled_from(self.leases))
        self.leases.remove(lease)
        name = lease.name
        error = ConnectionError("boom") if status is None else None
        self.took(self.scheduler.report(lease, status, {}, error, self.now))
        # The model of the key's health, judged once even after a reclaim.
        if status == 200:
            self.streak[name] = 0
        elif status == 401:
            self.disabled.add(name)
        else:
            backoff = RETRY.rate_limit_backoff if status == 429 else RETRY.error_backoff
            until = self.now + backoff(self.streak[name])
            self.cool_until[name] = max(self.cool_until[name], until)
            self.streak[name] += 1

    @precondition(lambda self: self.leases)
    @rule(data=st.data(), sent=st.booleans())
    def release(self, data: st.DataObject, sent: bool) -> None:
        """Give a lease back without a result."""
        lease = data.draw(st.sampled_from(self.leases))
        self.leases.remove(lease)
        if lease.status is LeaseStatus.ACTIVE and not sent:
            self.refunded(lease)
        self.took(self.scheduler.release(lease, self.now, sent=sent))

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def cancel_waiting(self, data: st.DataObject) -> None:
        """Withdraw a request still waiting."""
        waiter = data.draw(st.sampled_from(self.pending))
        self.pending.remove(waiter)
        self.cancelled.add(waiter.seq)
        self.took(self.scheduler.cancel(waiter, self.now))

    @precondition(
        lambda self: any(lease.id in self.from_waiter for lease in self.leases)
    )
    @rule(data=st.data())
    def cancel_served(self, data: st.DataObject) -> None:
        """Cancel a waiter just after it was served, as a cancelled task does."""
        lease = data.draw(
            st.sampled_from([x for x in self.leases if x.id in self.from_waiter])
        )
        self.leases.remove(lease)
        active = lease.status is LeaseStatus.ACTIVE
        if active:
            self.refunded(lease)
        self.took(self.scheduler.cancel(self.from_waiter[lease.id], self.now))
        assert lease.status is (
            LeaseStatus.RELEASED if active else LeaseStatus.RECLAIMED
        )

    @rule(seconds=st.sampled_from([0.0, 0.01, 0.49, 0.5, 0.99, 1.0, 2.5, 10.0]))
    def tick(self, seconds: float) -> None:
        """Let time pass, as the pool's timer does."""
        self.now += seconds
        self.took(self.scheduler.advance(self.now))

    @rule(endpoint=st.sampled_from(ENDPOINTS[:2]), reserve=st.integers(0, 2))
    def enter_block(self, endpoint: str, reserve: int) -> None:
        """Open another block for an endpoint."""
        self.enter(endpoint, reserve, 1 if endpoint == "a" else 2)

    @precondition(lambda self: any(self.entered.values()))
    @rule(data=st.data())
    def leave_block(self, data: st.DataObject) -> None:
        """Close one open block."""
        name = data.draw(
            st.sampled_from(sorted(n for n, c in self.entered.items() if c))
        )
        self.entered[name] -= 1
        self.took(self.scheduler.leave(name, self.now))

    @rule()
    def drain(self) -> None:
        """Report everything and let time pass: every waiter is served unless all keys are gone."""
        for _ in range(len(self.pending) + 3):
            for lease in list(self.leases):
                self.leases.remove(lease)
                self.took(self.scheduler.report(lease, 200, {}, None, self.now))
                self.streak[lease.name] = 0
            if not self.pending:
                break
            self.now += LONG
            self.took(self.scheduler.advance(self.now))
        if len(self.disabled) < len(self.configs):
            assert not self.pending, f"{len(self.pending)} waiters never served"
        else:
            assert len(self.pending) == self.scheduler.snapshot(self.now).waiting

    # -- invariants -----------------------------------------------------------------

    @invariant()
    def no_capacity_lost(self) -> None:
        """Each key's in_flight equals the active leases on it, within max_in_flight."""
        active: dict[str, int] = defaultdict(int)
        for lease in self.leases:
            if lease.status is LeaseStatus.ACTIVE:
                active[lease.name] += 1
        for key in self.scheduler.snapshot(self.now).keys:
            assert key.in_flight == active[key.name], key.name
            limit = self.configs[key.name].max_in_flight
            assert limit is None or key.in_flight <= limit

    @invariant()
    def waiters_and_ready_keys_never_coexist(self) -> None:
        """While a request waits, no key could serve it now but for a pacing gap."""
        assert self.scheduler.has_waiters == bool(self.pending)
        assert self.scheduler.snapshot(self.now).waiting == len(self.pending)
        if self.pending:
            for key in self.scheduler.key_states():
                # Pacing may hold a windowed key back, at most 0.1 s after its
                # last grant; any other idle key is capacity lost.
                paced = self.now < key.last_granted_at + key.pace_interval
                assert paced or key.ready_at(self.now) > self.now, (
                    f"{key.name} idles while requests wait"
                )
                assert key.pace_interval <= 0.1

    def teardown(self) -> None:
        """Every run ends with the eventual-service check."""
        if self.configs:
            self.drain()


SchedulerMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
test_scheduler_properties_hold_under_any_sequence = SchedulerMachine.TestCase

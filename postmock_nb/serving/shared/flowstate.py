"""Scenario states and sequence turns on Redis (``--state``): :class:`RedisFlowState`, the shared
:class:`~postmock_nb.behaviours.state.FlowState`.

Keys (all through :meth:`SharedState.key`): ``postmock:{prefix}:flows:states`` (a hash: scenario → state, only the
scenarios moved since their reset), ``postmock:{prefix}:flows:turns`` (a hash: sequence → turns taken) and
``postmock:{prefix}:flows:draws`` (a hash: sequence → draws taken by :meth:`RedisFlowState.draw`). A sequence is
known by its item's folders and name, as a JSON list.

One decision of :class:`~postmock_nb.behaviours.flows.Flows` is atomic across replicas: :meth:`RedisFlowState.decide`
reads nothing first; it runs a Lua script that checks the states and the turn the decision was made on (this
process's last known values), and only when they are still those takes the turn (``HINCRBY``) and moves the
scenario (``HSET``), in one script: Redis runs a script alone, so no other replica's decision interleaves. When a
value differs the script answers the current ones and the decision is made again on them (compare-and-set).

Threads: :meth:`decide` runs on the server's event loop (the asyncio client); the other methods are the kernel's,
the admin API's and the command line's (the blocking client). Redis out of reach: :class:`StateUnavailable`
(the ``scenarios`` store), the app's 503 ``stateUnavailable``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from postmock_nb.behaviours.state import STARTED, DecidedT, Draft, SequenceKey, seeded_pick
from postmock_nb.serving.shared.connection import SharedState, StateUnavailable

if TYPE_CHECKING:
    import redis
    import redis.asyncio

STORE = "scenarios"
"""The store's name in ``stateUnavailable`` answers and ``%mock status``."""
MAX_ATTEMPTS = 200
"""Compare-and-set attempts of one decision before it is refused (each failed one means another decision won)."""

# KEYS: states hash, turns hash. ARGV: n, then n × (scenario, state expected: "" = never moved), then the sequence
# ("" = none), the turn expected, the scenario to move ("" = none) and its new state.
# Answers {1, turn} when applied, else {0, turn now, state now of each scenario...} (nothing written).
DECIDE = """
local n = tonumber(ARGV[1])
local ok = true
local now = {}
for i = 1, n do
  local state = redis.call('HGET', KEYS[1], ARGV[2 * i]) or ''
  now[i] = state
  if state ~= ARGV[2 * i + 1] then ok = false end
end
local at = 2 * n + 2
local sequence = ARGV[at]
local turn = 0
if sequence ~= '' then
  turn = tonumber(redis.call('HGET', KEYS[2], sequence) or '0')
  if turn ~= tonumber(ARGV[at + 1]) then ok = false end
end
if not ok then
  return {0, turn, unpack(now)}
end
if sequence ~= '' then redis.call('HINCRBY', KEYS[2], sequence, 1) end
if ARGV[at + 2] ~= '' then redis.call('HSET', KEYS[1], ARGV[at + 2], ARGV[at + 3]) end
return {1, turn}
"""


def field_of(key: SequenceKey) -> str:
    """The hash field of a sequence (its item's folders and name as a JSON list)."""
    return json.dumps(list(key), ensure_ascii=False)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


class RedisFlowState:
    """:class:`~postmock_nb.behaviours.state.FlowState` on the Redis of ``shared`` (see the module's docstring)."""

    def __init__(self, shared: SharedState) -> None:
        self.shared = shared
        self.states_key = shared.key("flows", "states")
        self.turns_key = shared.key("flows", "turns")
        self.draws_key = shared.key("flows", "draws")
        self._known_states: dict[str, str] = {}
        """Last known raw state of each scenario ("" = never moved): what a decision is first tried on."""
        self._known_turns: dict[str, int] = {}
        self._script: Any = None

    def _sync(self, operation: Callable[[redis.Redis], Any]) -> Any:
        return self.shared.call_sync(STORE, operation)

    # -- FlowState (blocking: the kernel, the admin API, the command line) ------------------------------------

    def state(self, scenario: str) -> str:
        found = self._sync(lambda r: r.hget(self.states_key, scenario))
        return STARTED if found is None else _text(found)

    def set_state(self, scenario: str, state: str) -> None:
        self._sync(lambda r: r.hset(self.states_key, scenario, state))

    def states(self) -> dict[str, str]:
        found = self._sync(lambda r: r.hgetall(self.states_key))
        states = {_text(name): _text(state) for name, state in found.items()}
        self._known_states = {name: states.get(name, "") for name in self._known_states} | states
        return states

    def known_states(self) -> dict[str, str]:
        """The moved scenarios as this process last saw them (its decisions, its last :meth:`states`), with no
        round trip: what the dashboard shows from the server's thread, which never waits on Redis."""
        return {name: state for name, state in sorted(self._known_states.items()) if state}

    def advance(self, key: SequenceKey) -> int:
        return int(self._sync(lambda r: r.hincrby(self.turns_key, field_of(key), 1))) - 1

    def draw(self, key: SequenceKey, seed: int | None, count: int) -> int:
        taken = int(self._sync(lambda r: r.hincrby(self.draws_key, field_of(key), 1))) - 1
        return seeded_pick(seed, taken, count)

    def reset(self, scenario: str | None = None) -> list[str]:
        if scenario is None:
            def everything(r: redis.Redis) -> list[Any]:
                with r.pipeline(transaction=True) as pipe:  # MULTI/EXEC: read and wiped as one
                    pipe.hkeys(self.states_key)
                    pipe.delete(self.states_key, self.turns_key, self.draws_key)
                    return list(pipe.execute())
            moved = self._sync(everything)[0]
            return sorted(_text(name) for name in moved)
        return [scenario] if self._sync(lambda r: r.hdel(self.states_key, scenario)) else []

    # -- one decision, atomic (the server's loop) -------------------------------------------------------------

    async def decide(self, scenarios: Sequence[str],
                     draft: Callable[[Mapping[str, str]], Draft[DecidedT]]) -> DecidedT:
        """``draft(states)`` made on the states of ``scenarios``, its sequence's turn taken and its move made, as
        one compare-and-set on Redis (see the module's docstring); what the draft made of its turn."""
        for _ in range(MAX_ATTEMPTS):
            known = {name: self._known_states.get(name, "") for name in scenarios}
            made = draft({name: state or STARTED for name, state in known.items()})
            field = field_of(made.sequence) if made.sequence is not None else ""
            turn = self._known_turns.get(field, 0) if field else 0
            decided, move = made.take(turn if field else None)
            args: list[str | int] = [len(known)]
            for name, state in known.items():
                args += [name, state]
            args += [field, turn, *(move if move is not None else ("", ""))]
            answer = await self.shared.call(STORE, self._applying(args))
            if int(answer[0]) == 1:
                if field:
                    self._known_turns[field] = turn + 1
                if move is not None:
                    self._known_states[move[0]] = move[1]
                return decided
            if field:
                self._known_turns[field] = int(answer[1])
            for name, state in zip(known, answer[2:], strict=True):
                self._known_states[name] = _text(state)
        raise StateUnavailable(STORE, f"a decision lost {MAX_ATTEMPTS} races in a row to other requests")

    def _applying(self, args: list[str | int]) -> Callable[[redis.asyncio.Redis], Awaitable[Any]]:
        """One attempt of the decision's script with ``args`` (see :data:`DECIDE`)."""
        def run(client: redis.asyncio.Redis) -> Awaitable[Any]:
            return cast("Awaitable[Any]", self._script_of(client)(
                keys=[self.states_key, self.turns_key], args=args, client=client))
        return run

    def _script_of(self, client: redis.asyncio.Redis) -> Any:
        """The decision's script (EVALSHA, loaded again when Redis lost it: a restart); hashed once."""
        if self._script is None:
            self._script = client.register_script(DECIDE)
        return self._script

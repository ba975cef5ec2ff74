"""Scenario states and sequence turns on Redis (``--state``): :class:`RedisFlowState`, the shared
:class:`~postmock_nb.behaviours.state.FlowState`.

Keys (all through :meth:`SharedState.key`): ``postmock:{prefix}:flows:states`` (a hash: scenario → state, only the
scenarios moved since their reset), ``postmock:{prefix}:flows:turns`` (a hash: sequence → turns taken) and
``postmock:{prefix}:flows:draws`` (a hash: sequence → draws taken by :meth:`RedisFlowState.draw`). A sequence is
known by its item's folders and name, as a JSON list.

One decision of :class:`~postmock_nb.behaviours.flows.Flows` is atomic across replicas: :meth:`RedisFlowState.decide`
runs one Lua script (:data:`DECIDE`) given the decision's rule as data (each candidate's required state, sequence and
move: :class:`~postmock_nb.behaviours.state.Rules`). Redis runs a script alone, so the states it reads (``HGET``), the
turn it takes (``HINCRBY``) and the scenario it moves (``HSET``) are one step no other replica's decision can
interleave with: a scenario moves exactly once per request, and each turn of a sequence is given once. It answers what
it read and the turn, and the process builds the same decision on them (flows.draft, FlowDraft.take): one round trip,
no retry, however many replicas race.

Threads: :meth:`decide` runs on the server's event loop (the asyncio client); the other methods are the kernel's,
the admin API's and the command line's (the blocking client). Redis out of reach: :class:`StateUnavailable`
(the ``scenarios`` store), the app's 503 ``stateUnavailable``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from postmock_nb.behaviours.state import STARTED, Rules, SequenceKey, seeded_pick
from postmock_nb.serving.shared.connection import SharedState

if TYPE_CHECKING:
    import redis
    import redis.asyncio

STORE = "scenarios"
"""The store's name in ``stateUnavailable`` answers and ``%mock status``."""

FIELDS = 9
"""ARGV fields per candidate in :data:`DECIDE`."""

# KEYS: the states hash, the turns hash. ARGV: n, the roll, then n candidates (ranked) × FIELDS: the scenario it
# requires ("" none), the state it requires, its group ("-1" none), its order, its sequence's mode, seed ("" none)
# and turn field (its group's), the scenario it moves ("" none) and its new state. The same rule as flows.draft then
# FlowDraft.take: the first eligible candidate wins; in a sequence, the eligible members of its group in their order
# take turns.
# Answers {winner (1-based, 0: none eligible), turn (-1: none), scenario, state read, ...}.
DECIDE = """
local n = tonumber(ARGV[1])
local roll = tonumber(ARGV[2])
local F = 9
local read = {}
local names = {}
local function state_of(name)
  if read[name] == nil then
    read[name] = redis.call('HGET', KEYS[1], name) or ''
    names[#names + 1] = name
  end
  if read[name] == '' then return 'Started' end
  return read[name]
end
local function field(i, k) return ARGV[2 + (i - 1) * F + k] end
local eligible = {}
for i = 1, n do
  local scenario = field(i, 1)
  if scenario == '' or state_of(scenario) == field(i, 2) then eligible[#eligible + 1] = i end
end
local out = {0, -1}
if #eligible > 0 then
  local winner = eligible[1]
  local group = field(winner, 3)
  if group ~= '-1' then
    local members = {}
    for _, i in ipairs(eligible) do
      if field(i, 3) == group then members[#members + 1] = i end
    end
    table.sort(members, function(a, b) return tonumber(field(a, 4)) < tonumber(field(b, 4)) end)
    local turn = redis.call('HINCRBY', KEYS[2], field(winner, 7), 1) - 1
    local mode, seed, count = field(winner, 5), field(winner, 6), #members
    local pick
    if mode == 'random' then
      if seed == '' then
        pick = roll % count
      else
        pick = tonumber(string.sub(redis.sha1hex(seed .. ':' .. string.format('%d', turn)), 1, 8), 16) % count
      end
    elseif mode == 'stick' then
      pick = math.min(turn, count - 1)
    else
      pick = turn % count
    end
    winner = members[pick + 1]
    out[2] = turn
  end
  out[1] = winner
  if field(winner, 8) ~= '' then redis.call('HSET', KEYS[1], field(winner, 8), field(winner, 9)) end
end
for _, name in ipairs(names) do
  out[#out + 1] = name
  out[#out + 1] = read[name]
end
return out
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
        """The last known raw state of each scenario ("" = never moved), for the dashboard (no round trip)."""
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

    async def decide(self, rules: Rules) -> tuple[dict[str, str], int | None]:
        """Apply one decision atomically: one Lua script (:data:`DECIDE`, run by Redis alone, so no other
        replica's decision interleaves) reads the states the candidates require, takes the winner's sequence's
        turn (``HINCRBY``) and moves its scenario (``HSET``). The states read and the turn taken (None: none)."""
        args: list[str | int] = [len(rules.candidates), rules.roll]
        for rule in rules.candidates:
            scenario, required = rule.requires if rule.requires is not None else ("", "")
            turns = field_of(rules.sequences[rule.group]) if rule.group >= 0 else ""
            moved, state = rule.move if rule.move is not None else ("", "")
            args += [scenario, required, rule.group, rule.order, rule.kind,
                     "" if rule.seed is None else rule.seed, turns, moved, state]
        answer = await self.shared.call(STORE, self._applying(args))
        read = answer[2:]
        raw = {_text(read[i]): _text(read[i + 1]) for i in range(0, len(read), 2)}
        self._known_states.update(raw)
        winner, turn = int(answer[0]), int(answer[1])
        move = rules.candidates[winner - 1].move if winner > 0 else None
        if move is not None:
            self._known_states[move[0]] = move[1]
        return {name: state or STARTED for name, state in raw.items()}, (turn if turn >= 0 else None)

    def _applying(self, args: list[str | int]) -> Callable[[redis.asyncio.Redis], Awaitable[Any]]:
        """The decision's script with ``args`` (see :data:`DECIDE`)."""
        def run(client: redis.asyncio.Redis) -> Awaitable[Any]:
            return cast("Awaitable[Any]", self._script_of(client)(
                keys=[self.states_key, self.turns_key], args=args, client=client))
        return run

    def _script_of(self, client: redis.asyncio.Redis) -> Any:
        """The decision's script (EVALSHA, loaded again when Redis lost it: a restart); hashed once."""
        if self._script is None:
            self._script = client.register_script(DECIDE)
        return self._script

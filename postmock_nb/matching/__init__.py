"""The matching engine: which example answers a request, and why every other one did not.

Pure: a plain :class:`IncomingRequest` and a :class:`~postmock_nb.matching.snapshot.Snapshot` in, a
:class:`MatchResult` out. No web framework, IPython or widget code is imported here.

May import: :mod:`postmock_nb.core` only (and the leaves ``errors``/``config``). Imported by the layers
above it, except :mod:`postmock_nb.formats` (files are read and written on the core alone).

- :mod:`.snapshot`: a collection compiled once, immutable, indexed by path rule;
- :mod:`.store`: the live collection, one current snapshot swapped whole on every edit;

- :mod:`.types`: the records (request, check, candidate, result), all frozen;
- :mod:`.scoring`: one example against one request (selector, query, headers, body);
- :mod:`.search`: the candidate search down the path-rule ladder, pruning, the decision;
- :mod:`.explain`: every example scored without shortcuts, and a miss's near misses (functions over a
  result: ``explain(result)``, ``near_misses(result)``);
- :mod:`.memo`: decisions remembered per snapshot, for requests whose headers and body no rule reads;
- :mod:`.snapshot`: the compiled collection, each example's markers read once, and the tables derived
  from them (cached properties: read-only, shared by every thread);
- :mod:`.persnapshot`: the one helper for the caches that grow while serving (memo, responses).

The algorithm follows Postman's (see the README, "How matching works"):

1. method filter (``HEAD`` falls back to ``GET`` examples when no ``HEAD`` example fits the path);
2. path score: every example starts at 100 and the first path rule that fits costs its
   penalty (:class:`~postmock_nb.core.paths.PathRule`); edit distance is tried only when no
   stricter rule found any example;
3. selectors, among examples of this method and path only: ``x-mock-response-code`` keeps
   that status, ``x-mock-response-id`` / ``x-mock-response-name`` pick one example (when
   several share a name, the one whose path fits best, then the first defined);
4. query parameters: +10 equal, +5 equal ignoring case or any-value, −5 same name with
   another value, −10 missing from the request or unknown to the example;
5. headers and body, when switched on per request, per mock, or per example (Postman's
   ``x-mock-match-request-headers`` / ``x-mock-match-request-body`` saved in the example's
   own request headers): a listed header or the body must match (+10, +5 for an
   any-value header or a value equal ignoring case) or the example drops out; a body may be
   asked only to contain the example's fields (``contains``, see :func:`~postmock_nb.core.bodies.body_differences`);
6. highest score wins; a tie goes to the example defined first.

Each selector and switch can also be sent as a query parameter of the same name
(``?x-mock-response-code=404``) because browsers cannot always set custom headers.

**The engine as an API (advanced).** What :data:`__all__` lists here is importable for scripts and
tests that drive the engine without a server (the README's "Advanced: the matching engine")::

    from postmock_nb import MockConfig, load_collection
    from postmock_nb.matching import IncomingRequest, match
    from postmock_nb.matching.snapshot import Snapshot

    snapshot = Snapshot(load_collection("users.postman_collection.json"))
    result = match(snapshot, IncomingRequest.build("GET", "/users/42"), MockConfig(match_body=True))
    result.winner, result.score, result.candidates  # the example (or None), its score, every candidate

The settings are the mock's one record, :class:`~postmock_nb.config.MockConfig` (the engine reads its
``match_headers``, ``match_body`` and ``match_body_contains``). These names are not part of
``postmock_nb.__all__``: they follow the engine, and may change with it.
"""

from __future__ import annotations

from postmock_nb.core.selectors import MOCK_SELECTORS as SELECTOR_NAMES
from postmock_nb.matching.explain import explain, near_misses
from postmock_nb.matching.memo import MatchMemo
from postmock_nb.matching.search import ALWAYS_SCORED, match
from postmock_nb.matching.snapshot import NEAR_MISS_POOL
from postmock_nb.matching.types import BASE_SCORE, Candidate, Check, Decision, IncomingRequest, MatchResult

__all__ = [
    "ALWAYS_SCORED", "BASE_SCORE", "NEAR_MISS_POOL", "SELECTOR_NAMES", "Candidate", "Check", "Decision",
    "IncomingRequest", "MatchMemo", "MatchResult", "explain", "match", "near_misses",
]

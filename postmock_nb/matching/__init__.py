"""The matching engine: which example answers a request, and why every other one did not.

Pure: a plain :class:`IncomingRequest` and a :class:`~postmock_nb.matching.snapshot.Snapshot` in, a
:class:`MatchResult` out. No web framework, IPython or widget code is imported here.

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
"""

from __future__ import annotations

from postmock_nb.config import MockConfig
from postmock_nb.core.selectors import MOCK_SELECTORS as SELECTOR_NAMES
from postmock_nb.matching.explain import explain, near_misses
from postmock_nb.matching.memo import MatchMemo
from postmock_nb.matching.search import ALWAYS_SCORED, match
from postmock_nb.matching.snapshot import NEAR_MISS_POOL
from postmock_nb.matching.types import BASE_SCORE, Candidate, Check, Decision, IncomingRequest, MatchResult

MatchSettings = MockConfig
"""The engine reads the ``match_headers``/``match_body`` fields of the mock's one settings record (the old name)."""

__all__ = [
    "ALWAYS_SCORED", "BASE_SCORE", "NEAR_MISS_POOL", "SELECTOR_NAMES", "Candidate", "Check", "Decision",
    "IncomingRequest", "MatchMemo", "MatchResult", "MatchSettings", "explain", "match", "near_misses",
]

"""Write the teaching notebooks 02–06, the page of notebook 05 and the sample collection.

    .venv/bin/python scripts/build_notebooks.py           # write them
    .venv/bin/python scripts/build_notebooks.py --check   # exit 1 if a notebook differs from this file

This file is the source of those notebooks and of ``notebooks/data/team-directory.html``:
edit the prose and code here, run it, and commit both (tests/test_notebooks.py checks they
agree). 01-quickstart.ipynb is written by
hand and is not touched. Notebooks are written without outputs; cell ids are stable names,
so re-running the script changes nothing that did not change here.

``notebooks/data/users.postman_collection.json`` (what ``make demo`` serves) is made by
postmock_nb's own export (Session.define + Session.save), so it is what the package writes.
It is written only when missing, or with ``--collection`` (ids are random on each export).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DATA = NOTEBOOKS / "data"

Cell = tuple[str, str, str]  # (kind, id, source)


def md(cell_id: str, text: str) -> Cell:
    return ("markdown", cell_id, text.strip("\n"))


def code(cell_id: str, text: str) -> Cell:
    return ("code", cell_id, text.strip("\n"))


# -- 02 scenarios ------------------------------------------------------------------------------

SCENARIOS: list[Cell] = [
    md("title", """
# Scenarios: several answers for one request

A front end must cope with more than the happy path: an admin sees other users than an
editor, the list can be empty, the server can fail, a user can be missing. With a mock you
write **one example per scenario** and choose between them:

| you want | how |
|---|---|
| an answer that depends on the request | query parameters in the example: `GET /users?role=admin` |
| a particular example, whatever the request | the header `x-mock-response-name: <example name>` |
| an answer with a particular status | the header `x-mock-response-code: 404` |
| the same from a browser, which cannot always set headers | the same names as query parameters: `?x-mock-response-code=404` |

Run the cells from top to bottom (Shift-Enter).
"""),
    code("load", "%load_ext postmock_nb"),
    md("query-intro", """
## 1. Examples chosen by query parameters

Three examples for `GET /users`: the whole list, and one for each value of `role`.
Query parameters written in the first line of `%%example` become part of what the example
expects.
"""),
    code("all-users", """
%%example GET /users 200 --name "All users"
[
  {"id": 1, "name": "Alice Park", "role": "admin"},
  {"id": 2, "name": "Ben Carter", "role": "editor"},
  {"id": 3, "name": "Chloe Diaz", "role": "editor"}
]
"""),
    code("admins", """
%%example GET /users?role=admin 200 --name "Admins"
[{"id": 1, "name": "Alice Park", "role": "admin"}]
"""),
    code("editors", """
%%example GET /users?role=editor 200 --name "Editors"
[
  {"id": 2, "name": "Ben Carter", "role": "editor"},
  {"id": 3, "name": "Chloe Diaz", "role": "editor"}
]
"""),
    code("start", "%mock start"),
    md("show-intro", """
A small helper prints what the mock answered. The mock tells in two response headers which
example answered (`x-mock-example-name`) and with what score (`x-mock-score`).
"""),
    code("show", """
import requests


def show(path, headers=None):
    \"\"\"GET the path from the mock and print status, example and score on one line.\"\"\"
    response = requests.get(mockUrl + path, headers=headers or {})
    example = response.headers.get("x-mock-example-name", "(no example matched)")
    score = response.headers.get("x-mock-score", "-")
    print(f"{response.status_code}  {path:<45} <- {example} (score {score})")
    return response


show("/users")
show("/users?role=admin")
show("/users?role=editor");
"""),
    md("scores", """
**Why those winners?** Every example for the path starts at 100 points. Each query parameter
the request and the example agree on adds 10; a parameter that only one of them has
costs 10. So for `/users?role=admin`, *Admins* scores 100 + 10 = 110 and *All users*
100 − 10 = 90; for plain `/users`, *All users* keeps 100 and *Admins* drops to 90.

A value nobody wrote an example for still gets the closest example. For `?role=viewer`,
*Admins* and *Editors* have the right parameter with another value, which costs only 5
(95 points each); *All users* does not have it at all (90). Of the two at 95, *Admins* was
defined first:
"""),
    code("viewer", 'show("/users?role=viewer");'),
    md("viewer-fix", """
If your page must show something particular for viewers, write an example for
`?role=viewer`; `%mock log` shows, for every request, which examples were considered and why
each one lost.

## 2. Examples chosen by name or by status

Some scenarios have the same request: the empty list a brand-new team sees, or the server
failing. They differ only in their answer, so the *caller* picks one.
"""),
    code("no-users", """
%%example GET /users 200 --name "No users yet"
[]
"""),
    code("server-down", """
%%example GET /users 500 --name "Server down"
{"error": "The user database is not responding"}
"""),
    md("tie", """
The mock served the new examples at once: no restart. Plain `/users` still gets *All users*:
*All users* and *No users yet* both score 100, and a tie goes to the example **defined first**
(Postman breaks ties by an internal id; here you can see the rule in the notebook order).
"""),
    code("plain-again", 'show("/users");'),
    md("headers-intro", """
`x-mock-response-name` picks an example by its name, `x-mock-response-code` keeps only the
examples with that status. Both only look at examples of this method and path: naming an
example of another request is an error, not a surprise.
"""),
    code("by-header", """
show("/users", {"x-mock-response-name": "No users yet"})
show("/users", {"x-mock-response-code": "500"});
"""),
    md("browser-intro", """
### From a browser

A link, an `<img>` or a quick `fetch()` in the browser console often cannot set custom
headers. Every `x-mock-*` header can also be sent as a query parameter of the same name; the
mock takes it out before it scores the query, so it costs no points:
"""),
    code("by-query", """
show("/users?x-mock-response-code=500")
show("/users?x-mock-response-name=No%20users%20yet");
"""),
    md("error-intro", """
## 3. An error example: a user that does not exist

`GET /users/:id` — `:id` matches any one path segment. One example answers for Alice; every
other id gets a 404 with the error body the real API will send.
"""),
    code("alice", """
%%example GET /users/1 200 --name "Alice"
{"id": 1, "name": "Alice Park", "role": "admin"}
"""),
    code("not-found", """
%%example GET /users/:id 404 --name "User not found"
{"error": "User not found"}
"""),
    code("call-ids", """
show("/users/1")
show("/users/42");
"""),
    md("error-scores", """
`/users/1` is an **exact** path for *Alice* (100) and a path-variable match for *User not
found* (100 − 20 = 80), so Alice wins. `/users/42` is only a path-variable match for
*User not found*. (*Alice* could still match `/users/42` by Postman's "ID segments ignored"
rule, but that costs 21: the path variable wins.)

## 4. Testing the front end's 404 handling

The point of the 404 example is to exercise the code that *handles* it. Here is the logic
of a profile page, written in Python for the notebook (in your front end it would be
JavaScript, the same few lines):
"""),
    code("front-end-logic", """
def profile_title(base_url, user_id, force_status=None):
    \"\"\"What the profile page shows as its title for a user id.\"\"\"
    params = {"x-mock-response-code": force_status} if force_status else {}
    response = requests.get(f"{base_url}/users/{user_id}", params=params)
    if response.status_code == 404:
        return "This user does not exist"
    response.raise_for_status()
    return response.json()["name"]
"""),
    md("front-end-tests", """
Three checks: the happy path, a missing user, and the error state **forced for a user that
exists** — useful when the page under test always asks for user 1:
"""),
    code("front-end-checks", """
assert profile_title(mockUrl, 1) == "Alice Park"
assert profile_title(mockUrl, 42) == "This user does not exist"
assert profile_title(mockUrl, 1, force_status="404") == "This user does not exist"
print("front end: 3 checks passed")
"""),
    md("js", """
The same from a browser page — the selector as a query parameter, no custom header:

```js
const response = await fetch(`${mockUrl}/users/1?x-mock-response-code=404`);
if (response.status === 404) showNotFound();
```

`05-frontend-demo.ipynb` shows a page doing exactly this. In a pytest suite, the `postmock`
fixture gives each test a running mock (see the README).

## 5. Look back, then stop

`%mock list` shows every example and how often it answered; `%mock log` the requests,
newest first.
"""),
    code("list", "%mock list"),
    code("log", "%mock log -n 5"),
    code("stop", "%mock stop"),
    md("next", """
Next: `03-private-and-public.ipynb` puts a key on the mock.
"""),
]

# -- 03 private and public -----------------------------------------------------------------------

PRIVATE: list[Cell] = [
    md("title", """
# Private and public mocks

A **public** mock answers anyone who can reach its port. A **private** mock, like Postman's
private mocks, answers only requests that carry its key in an `x-api-key` header; any
other request gets `401 Unauthorized` with a JSON error body.

Whichever you choose, `%mock start` listens on `127.0.0.1` by default: only programs on
this machine can reach it (on Binder: through the notebook server's proxy, behind your
Binder session's login).
"""),
    code("load", "%load_ext postmock_nb"),
    code("define", """
%%example GET /users 200 --name "List users"
[{"id": 1, "name": "Alice Park"}, {"id": 2, "name": "Ben Carter"}]
"""),
    md("start-intro", """
## 1. Start a private mock

`--private` makes up a random key. The message shows only its beginning and end, so a
notebook you share does not give it away.
"""),
    code("start", "%mock start --private --no-dashboard"),
    md("no-key-intro", """
## 2. A caller without the key

What a browser, a colleague or a script that does not know the key gets:
"""),
    code("no-key", """
import requests

anonymous = requests.get(f"{mockUrl}/users")
print(anonymous.status_code)
anonymous.json()
"""),
    md("key-intro", """
## 3. The key

`%mock key` shows the whole key (as the cell's result), and `api_key = %mock key` keeps it
in a variable. Hand it to whoever should call the mock; don't commit a notebook whose output
shows it.
"""),
    code("key", "api_key = %mock key\nprint(f\"the key is {len(api_key)} characters long and starts with {api_key[:5]}\")"),
    code("with-key", """
allowed = requests.get(f"{mockUrl}/users", headers={"x-api-key": api_key})
print(allowed.status_code, allowed.json())
"""),
    md("wrong-key-intro", """
A wrong key is refused like a missing one, and the message says which it was. The key is
compared in constant time, and only the header counts: a `?x-api-key=` query parameter does
not open a private mock.
"""),
    code("wrong-key", """
wrong = requests.get(f"{mockUrl}/users", headers={"x-api-key": "guess"})
print(wrong.status_code, wrong.json()["error"]["message"])
in_query = requests.get(f"{mockUrl}/users", params={"x-api-key": api_key})
print(in_query.status_code, "(key as a query parameter)")
"""),
    md("call-intro", """
`%mock call` adds the key for you, so you can try requests from a cell without copying it:
"""),
    code("call", "%mock call GET /users"),
    code("status", "%mock status"),
    md("own-key-intro", """
## 4. Your own key

A key that changes with every start breaks the configuration of whoever calls the mock.
Give one with `--api-key` (with `--private`):
"""),
    code("restart", """
%mock stop
%mock start --private --api-key team-demo-key --no-dashboard
"""),
    code("own-key", """
print(requests.get(f"{mockUrl}/users", headers={"x-api-key": "team-demo-key"}).status_code)
print(requests.get(f"{mockUrl}/users").status_code)
"""),
    md("public-intro", """
## 5. Back to public

Without `--private` no key is needed, and `%mock key` says so.
"""),
    code("public", """
%mock stop
%mock start --no-dashboard
%mock key
"""),
    code("public-call", 'print(requests.get(f"{mockUrl}/users").status_code)'),
    code("stop", "%mock stop"),
    md("summary", """
| | public | private |
|---|---|---|
| start | `%mock start` | `%mock start --private [--api-key KEY]` |
| a request without `x-api-key` | answered | `401`, `{"error": {"name": "AuthenticationError", ...}}` |
| the key | — | `%mock key` |
| `%mock call` | as is | adds the key |
| the command line | `postmock serve FILE` | `postmock serve FILE --private [--api-key KEY]` |

To let other machines reach the mock, start it with `--host 0.0.0.0` — and then prefer
`--private`.

Next: `04-postman-roundtrip.ipynb` moves examples between the notebook and Postman.
"""),
]

# -- 04 Postman round trip -----------------------------------------------------------------------

ROUNDTRIP: list[Cell] = [
    md("title", """
# Round trip with Postman

Examples written in a notebook are a Postman collection: `%mock save` writes one (Postman
Collection Format v2.1) that Postman imports, and `%mock load` reads one that Postman
exported. In this notebook you will:

1. export the notebook's examples to a collection file;
2. check it with `postmock validate`;
3. run it against the mock with **newman**, Postman's command-line runner;
4. load a collection a teammate exported from Postman, and serve it at once.
"""),
    code("load-ext", "%load_ext postmock_nb"),
    md("define-intro", """
## 1. Examples to export

A small users API: a list, one user, a 404 for everyone else, and a create whose answer
echoes the name it was sent (`{{$body 'name'}}`, Postman's dynamic-response syntax, which
Postman's own mock servers understand too).
"""),
    code("list", """
%%example GET /users 200 --name "List users"
X-Total-Count: 2

[{"id": 1, "name": "Alice Park"}, {"id": 2, "name": "Ben Carter"}]
"""),
    code("get", """
%%example GET /users/1 200 --name "Get user"
{"id": 1, "name": "Alice Park"}
"""),
    code("missing", """
%%example GET /users/:id 404 --name "User not found"
{"error": "User not found"}
"""),
    code("create", """
%%example POST /users 201 --name "Create user"
Location: /users/3

{"id": 3, "name": "{{$body 'name' 'New user'}}"}
"""),
    code("start", "%mock start --no-dashboard"),
    md("save-intro", """
## 2. Export: `%mock save`

The file has one item per method and path, each with its examples (Postman's "saved
responses"). The variable `baseUrl` is set to this mock's address, so the requests in the
file reach it as they are.
"""),
    code("save", "%mock save users.postman_collection.json"),
    code("peek", """
import json
from pathlib import Path

exported = json.loads(Path("users.postman_collection.json").read_text())
print(exported["info"]["schema"])
for item in exported["item"]:
    for example in item["response"]:
        print(f'{item["name"]:<18} {example["code"]}  {example["name"]}')
print("baseUrl =", next(v["value"] for v in exported["variable"] if v["key"] == "baseUrl"))
"""),
    md("validate-intro", """
In Postman: **Import** → choose the file. The examples appear under each request, and
Postman can create a mock server from them.

`postmock validate` checks a file the way the mock will read it, and against the official
v2.1 JSON schema. (`sys.executable -m postmock_nb.cli` is the `postmock` command of this
kernel's Python, wherever it is installed.)
"""),
    code("validate", "import sys\n\n!{sys.executable} -m postmock_nb.cli validate users.postman_collection.json"),
    md("newman-intro", """
## 3. Run the collection with newman

[newman](https://github.com/postmanlabs/newman) runs a collection's requests, and its
tests, from the command line — the way a CI job runs Postman collections. We add one test
to the whole collection, stored as Postman stores tests: every response must come from a
mock example.

newman is a Node.js program. The repository's `package.json` installs it (`make test` and
Binder's `postBuild` do that); where Node.js is missing this step explains and skips.
"""),
    code("add-test", """
exported["event"] = [{
    "listen": "test",
    "script": {"type": "text/javascript", "exec": [
        'pm.test("answered by a mock example", function () {',
        '    pm.response.to.have.header("x-mock-example-name");',
        '});',
    ]},
}]
Path("users-with-tests.postman_collection.json").write_text(json.dumps(exported, indent=2));
"""),
    code("newman", """
import shutil
import subprocess


def find_newman():
    \"\"\"newman on PATH, or in the repository's node_modules; None without Node.js.\"\"\"
    if shutil.which("node") is None:
        return None
    for candidate in (shutil.which("newman"), "../node_modules/.bin/newman", "node_modules/.bin/newman"):
        if candidate and Path(candidate).exists():
            return str(Path(candidate).resolve())
    return None


newman = find_newman()
if newman is None:
    print("newman is not installed here (it needs Node.js and `npm install` in the repository), "
          "so this step is skipped. Everything else in this notebook works without it.")
else:
    run = subprocess.run(
        [newman, "run", "users-with-tests.postman_collection.json", "--color", "off",
         "--reporters", "cli,json", "--reporter-json-export", "newman-report.json"],
        capture_output=True, text=True, timeout=120)
    print(run.stdout, run.stderr)
    report = json.loads(Path("newman-report.json").read_text())["run"]
    for execution in report["executions"]:
        print(f'{execution["item"]["name"]:<18} -> {execution["response"]["code"]}')
    stats = report["stats"]
    print(f'newman: {stats["requests"]["total"]} requests, {stats["requests"]["failed"]} failed; '
          f'{stats["assertions"]["total"]} assertions, {stats["assertions"]["failed"]} failed')
"""),
    md("newman-after", """
Where newman ran, each request of the collection was answered by the example you wrote for
it — including the 404 (newman sends the item's request, `/users/:id`, which the path variable matches).
The mock's log shows what newman sent:
"""),
    code("log", "%mock log -n 4"),
    md("load-intro", """
## 4. Import: `%mock load`

A teammate designed the orders API in Postman and exported it
(`data/orders.postman_collection.json`: a folder, a query parameter, a path variable
`:orderId`, two saved responses for one request). `%mock load` merges it into the
notebook's collection and reports what it added, replaced or renamed; the running mock
serves it at once.
"""),
    code("load", "%mock load data/orders.postman_collection.json"),
    code("orders", """
import requests

for path in ("/orders?status=open", "/orders/1001", "/orders/1001?x-mock-response-code=404"):
    response = requests.get(mockUrl + path)
    print(f"{response.status_code}  {path:<40} <- {response.headers.get('x-mock-example-name')}")
"""),
    md("orders-after", """
The first request gets *Open orders*, the second *Order found* (the two examples of
`GET /orders/:orderId` tie; the first defined wins), the third the 404 asked for.

Loading the same file again replaces the examples it brought (they keep their ids): a
teammate can re-export and you re-load, without duplicates.
"""),
    code("reload", "%mock load data/orders.postman_collection.json"),
    code("list-all", "%mock list"),
    md("save-all-intro", """
Finally, export everything — your examples and your teammate's — for Postman:
"""),
    code("save-all", "%mock save everything.postman_collection.json"),
    code("stop", "%mock stop"),
    md("next", """
Outside a notebook, `postmock serve everything.postman_collection.json --port 8000` serves
the same file (see the README). Next: `05-frontend-demo.ipynb`, a web page on the mock.
"""),
]

# -- 05 front-end demo ---------------------------------------------------------------------------

PAGE = r'''<!-- The team directory: a front-end prototype on a postmock_nb mock (notebooks/05-frontend-demo.ipynb).
     The notebook fills in __STAGE_ID__ and __API_URL__. Opened on its own, the page calls the API given as
     ?api=URL, else http://127.0.0.1:8000 (`make demo`). Written by scripts/build_notebooks.py. -->
<div id="__STAGE_ID__" class="postmock-stage">
<style>
#__STAGE_ID__ { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; border: 1px solid #bbb;
        border-radius: 8px; padding: 12px 16px; max-width: 680px; background: #fff; color: #222; }
#__STAGE_ID__ h3 { margin: 0 0 8px 0; }
#__STAGE_ID__ .cols { display: flex; gap: 24px; margin-top: 10px; }
#__STAGE_ID__ ul { list-style: none; padding: 0; margin: 0; min-width: 210px; }
#__STAGE_ID__ li button { width: 100%; text-align: left; margin: 2px 0; padding: 4px 8px; cursor: pointer; }
#__STAGE_ID__ .card { min-width: 260px; }
#__STAGE_ID__ .problem { color: #b71c1c; font-weight: 600; }
#__STAGE_ID__ .muted { color: #666; font-size: 0.9em; }
</style>
<h3>Team directory <span class="muted">&mdash; a front-end prototype on the mock</span></h3>
<label>Scenario:
  <select data-role="scenario">
    <option value="">Normal</option>
    <option value="x-mock-response-name=No%20users%20yet">Empty team</option>
    <option value="x-mock-response-code=500">Server error</option>
  </select>
</label>
<div class="cols">
  <ul data-role="list"><li class="muted">Loading&hellip;</li></ul>
  <div class="card" data-role="detail"><span class="muted">Pick a person.</span></div>
</div>
<p class="muted" data-role="last"></p>
</div>
<script>
(function () {
  const given = "__API_URL__";
  const API = given.startsWith("__") ? (new URLSearchParams(location.search).get("api") || "http://127.0.0.1:8000") : given;
  const root = document.getElementById("__STAGE_ID__");
  const part = (role) => root.querySelector('[data-role="' + role + '"]');

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  async function get(path) {
    const response = await fetch(API + path);
    let body = null;
    try { body = await response.json(); } catch (error) { body = null; }
    const example = response.headers.get("x-mock-example-name") || "no example";
    part("last").textContent = "GET " + path + " \u2192 " + response.status + " (" + example + ")";
    return { status: response.status, body: body };
  }

  async function showUser(id) {
    const detail = part("detail");
    detail.replaceChildren(element("span", "Loading\u2026", "muted"));
    try {
      const { status, body } = await get("/users/" + id);
      if (status === 404) {
        detail.replaceChildren(element("p", "This person is no longer in the team.", "problem"),
                               element("p", "(404 from the API: " + (body && body.error) + ")", "muted"));
      } else if (status !== 200) {
        detail.replaceChildren(element("p", "Could not load this person (" + status + ").", "problem"));
      } else {
        detail.replaceChildren(element("h4", body.name), element("p", body.email),
                               element("p", "Role: " + body.role, "muted"));
      }
    } catch (error) {
      detail.replaceChildren(element("p", "The API cannot be reached: " + error, "problem"));
    }
  }

  async function showList() {
    const list = part("list");
    const scenario = part("scenario").value;
    list.replaceChildren(element("li", "Loading\u2026", "muted"));
    try {
      const { status, body } = await get("/users" + (scenario ? "?" + scenario : ""));
      if (status !== 200) {
        list.replaceChildren(element("li", "The team could not be loaded (" + status + "). Try again later.", "problem"));
        return;
      }
      if (body.length === 0) {
        list.replaceChildren(element("li", "No one here yet. Invite your team!", "muted"));
        return;
      }
      list.replaceChildren(...body.map(function (user) {
        const button = element("button", user.name);
        button.dataset.userId = user.id;
        button.addEventListener("click", function () { showUser(user.id); });
        const item = element("li");
        item.append(button);
        return item;
      }));
    } catch (error) {
      list.replaceChildren(element("li", "The API cannot be reached: " + error, "problem"));
    }
  }

  part("scenario").addEventListener("change", showList);
  showList();
})();
</script>'''

FRONTEND: list[Cell] = [
    md("title", """
# A front end on the mock: the stage set

The back end does not exist yet, but the page that shows the team directory can be built
today — against a **stage set**: a mock that answers like the real API will, including its
empty and error states.

This notebook defines the API, starts the mock, and shows a small HTML/JavaScript page
*inside the notebook* that calls the mock with `fetch()`, the way your real front end will.
Click the names; pick the scenarios.
"""),
    code("load", "%load_ext postmock_nb"),
    md("api-intro", """
## 1. The API the page needs

A list of people; details for each; and for Chloe, who left the team after the list was
loaded, a 404. Plus two scenarios for the list that the page must handle: an empty team and
a server error.
"""),
    code("list", """
%%example GET /users 200 --name "Team"
[
  {"id": 1, "name": "Alice Park"},
  {"id": 2, "name": "Ben Carter"},
  {"id": 3, "name": "Chloe Diaz"}
]
"""),
    code("alice", """
%%example GET /users/1 200 --name "Alice"
{"id": 1, "name": "Alice Park", "email": "alice@example.com", "role": "admin"}
"""),
    code("ben", """
%%example GET /users/2 200 --name "Ben"
{"id": 2, "name": "Ben Carter", "email": "ben@example.com", "role": "editor"}
"""),
    code("gone", """
%%example GET /users/:id 404 --name "User not found"
{"error": "User not found"}
"""),
    code("empty", """
%%example GET /users 200 --name "No users yet"
[]
"""),
    code("down", """
%%example GET /users 500 --name "Server down"
{"error": "The user database is not responding"}
"""),
    code("start", "%mock start"),
    md("cors", """
## 2. The page

The page is served by Jupyter, the mock by another port: for the browser those are two
different *origins*, so the mock must allow the page's `fetch()` calls with CORS headers.
It does by default (`Access-Control-Allow-Origin: *`, and it answers preflight `OPTIONS`
requests itself; `%mock start --no-cors` turns that off).
"""),
    code("cors-check", """
import requests

preflight = requests.options(f"{mockUrl}/users", headers={
    "Origin": "http://localhost:8888", "Access-Control-Request-Method": "GET"})
answer = requests.get(f"{mockUrl}/users", headers={"Origin": "http://localhost:8888"})
print("preflight:", preflight.status_code, preflight.headers["access-control-allow-methods"])
print("GET:", answer.status_code, "Access-Control-Allow-Origin:", answer.headers["access-control-allow-origin"])
"""),
    md("where", """
Which address the *browser* uses depends on where Jupyter runs. On your machine the browser
reaches `mockUrl` directly. On Binder or JupyterHub the browser is elsewhere, and reaches the
mock through the notebook server's proxy, `…/proxy/<port>/` — `public_url` works that out
(it is what `%mock start` prints as "From your browser").
"""),
    code("api-url", """
from urllib.parse import urlsplit

from postmock_nb.session import public_url

api_url = (public_url(urlsplit(mockUrl).port) or mockUrl).rstrip("/")
print("the page calls", api_url)
"""),
    md("page-intro", """
The page is one HTML file, `data/team-directory.html` (right-click it in JupyterLab's file
browser, *Open With → Editor*, to read it). Its heart is an ordinary `fetch()`, and a branch for each state the API can
answer with:

```js
const response = await fetch(API + "/users/" + id);
if (response.status === 404) { /* "This person is no longer in the team." */ }
else if (response.status !== 200) { /* "Could not load this person" */ }
else { /* name, email, role */ }
```

The cell below fills in the mock's address and shows the page:
"""),
    code("page", """
import uuid
from pathlib import Path

from IPython.display import HTML

page = Path("data/team-directory.html").read_text(encoding="utf-8")
HTML(page.replace("__STAGE_ID__", f"stage-{uuid.uuid4().hex[:8]}").replace("__API_URL__", api_url))
"""),
    md("try", """
Things to try on the page:

- click **Alice** and **Ben**: their details come from their examples;
- click **Chloe**: `/users/3` has no example of its own, so *User not found* answers
  (the `:id` path variable beats "ID segments ignored") and the page shows its 404 state;
- choose **Empty team** and **Server error**: the page adds `?x-mock-response-name=…` or
  `?x-mock-response-code=500` to its request — query-parameter versions of the `x-mock-*`
  headers, because a page cannot always set custom headers;
- watch the dashboard above: every click is a row; select one to see why it matched.

Change an example and re-run its cell — the page shows the change on its next request,
without restarting anything.
"""),
    md("check-intro", """
## 3. The same checks, from Python

What the page does on each click, as requests — handy to check the stage set before a
demo:
"""),
    code("checks", """
for path in ("/users", "/users/1", "/users/3", "/users?x-mock-response-name=No%20users%20yet",
             "/users?x-mock-response-code=500"):
    response = requests.get(mockUrl + path)
    print(f"{path:<48} {response.status_code}  {response.headers.get('x-mock-example-name')}")
"""),
    md("stop-intro", """
When you are done with the page, stop the mock (the page then shows "cannot be reached").
"""),
    code("stop", "%mock stop"),
    md("next", """
The page also works outside the notebook: serve `notebooks/data/` with any static server
(`python -m http.server 8080 --directory notebooks/data`) and open
`http://127.0.0.1:8080/team-directory.html?api=<the mock's URL>` — without `?api=` it calls
`http://127.0.0.1:8000`, where `make demo` serves the sample users API.

Next: `06-rest-for-beginners.ipynb`.
"""),
]

# -- 06 REST for beginners -----------------------------------------------------------------------

REST: list[Cell] = [
    md("title", """
# REST APIs for beginners, with a mock you control

A web API is a program other programs talk to over HTTP. A **REST** API organises itself
around **resources** — books, users, orders — each with an address (a URL), and uses HTTP's
**methods** to say what to do with them and its **status codes** to say how it went.

Usually you learn this against someone else's server. Here you *write the server's answers
yourself*, in cells, and then call them: every rule below is one you can change and try.
"""),
    code("load", "%load_ext postmock_nb"),
    md("resources", """
## 1. Resources and URLs

A collection of books lives at `/books`; one book at `/books/<its id>`. In an example,
`:id` stands for "any id".

An example cell has two parts: the first line says **which request** it answers
(method, path, status), the rest is **the answer** (headers, a blank line, the body).
"""),
    code("list-books", """
%%example GET /books 200 --name "All books"
[
  {"id": 1, "title": "Dune", "author": "Frank Herbert"},
  {"id": 2, "title": "Emma", "author": "Jane Austen"}
]
"""),
    code("one-book", """
%%example GET /books/1 200 --name "Dune"
{"id": 1, "title": "Dune", "author": "Frank Herbert"}
"""),
    code("no-book", """
%%example GET /books/:id 404 --name "No such book"
{"error": "No book with that id"}
"""),
    code("start", "%mock start --no-dashboard"),
    md("get", """
## 2. GET: read

`GET` asks for a resource and changes nothing — you can repeat it as often as you like.
The answer's **status code** says how it went; the **body** carries the data, here JSON,
which Python reads with `.json()`.
"""),
    code("get-calls", """
import requests

books = requests.get(f"{mockUrl}/books")
print(books.status_code, books.json())

dune = requests.get(f"{mockUrl}/books/1")
print(dune.status_code, dune.json()["title"])

missing = requests.get(f"{mockUrl}/books/99")
print(missing.status_code, missing.json())
"""),
    md("status", """
Status codes come in families; the first digit tells which:

| code | family | meaning | example |
|---|---|---|---|
| 200 | 2xx success | OK, here it is | `GET /books` |
| 201 | 2xx success | created | `POST /books` |
| 204 | 2xx success | done, nothing to send back | `DELETE /books/1` |
| 400 / 422 | 4xx *your* mistake | the request is malformed / the data is invalid | a book without a title |
| 401 | 4xx | who are you? (no or wrong credentials) | no `Authorization` header |
| 404 | 4xx | no such resource | `GET /books/99` |
| 500 | 5xx *the server's* problem | it failed; try later | a database outage |

## 3. Headers: data about the data

Requests and responses carry **headers**, `Name: value` lines before the body.
`Content-Type` says what the body is; APIs add their own, like `X-Total-Count`. In an
example cell, response headers come first, then a blank line, then the body.

This cell redefines *All books* with two headers. `--replace` says that it may take over
the name from the cell that defined it first (without it, postmock_nb refuses, so two cells
cannot silently fight over one example):
"""),
    code("headers-example", """
%%example GET /books 200 --name "All books" --replace
X-Total-Count: 2
Cache-Control: max-age=60

[
  {"id": 1, "title": "Dune", "author": "Frank Herbert"},
  {"id": 2, "title": "Emma", "author": "Jane Austen"}
]
"""),
    code("headers-call", """
books = requests.get(f"{mockUrl}/books")
for name in ("Content-Type", "X-Total-Count", "Cache-Control"):
    print(f"{name}: {books.headers[name]}")
"""),
    md("post", """
## 4. POST: create

`POST` to the collection sends a new resource in the request body. A good API answers
`201 Created`, says where the new resource lives in a `Location` header, and sends it back
with its new id.

`{{$body 'title'}}` in the answer is replaced by the `title` field of the request's JSON
body — the mock echoes what you sent, as the real server would. The second example has a
**request section** (lines starting with `>`): it answers only requests whose body matches,
here a book with an empty title, with `422` and an error message.
"""),
    code("create", """
%%example POST /books 201 --name "Book created"
Location: /books/3

{"id": 3, "title": "{{$body 'title'}}", "author": "{{$body 'author' 'unknown'}}"}
"""),
    code("invalid", """
%%example POST /books 422 --name "Title missing"
> Content-Type: application/json
>
> {"title": ""}
{"error": "A book needs a title"}
"""),
    code("post-calls", """
created = requests.post(f"{mockUrl}/books", json={"title": "Middlemarch", "author": "George Eliot"})
print(created.status_code, created.headers["Location"], created.json())

rejected = requests.post(f"{mockUrl}/books", json={"title": ""})
print(rejected.status_code, rejected.json())
"""),
    md("put-patch-delete", """
## 5. PUT, PATCH, DELETE: replace, change, remove

- `PUT /books/1` sends the **whole** new book and replaces it;
- `PATCH /books/1` sends **only the fields that change**;
- `DELETE /books/1` removes it; `204 No Content` has no body.

`{{id}}` in an answer is replaced by the id from the path — the value `:id` matched.
The one-line form `%example` (one `%`) defines an example with no body.
"""),
    code("put", """
%%example PUT /books/:id 200 --name "Book replaced"
{"id": "{{id}}", "title": "{{$body 'title'}}", "author": "{{$body 'author'}}"}
"""),
    code("patch", """
%%example PATCH /books/:id 200 --name "Book changed"
{"id": "{{id}}", "title": "{{$body 'title'}}"}
"""),
    code("delete", "%example DELETE /books/:id 204 --name \"Book deleted\""),
    code("change-calls", """
print(requests.put(f"{mockUrl}/books/2", json={"title": "Emma", "author": "J. Austen"}).json())
print(requests.patch(f"{mockUrl}/books/2", json={"title": "Persuasion"}).json())
deleted = requests.delete(f"{mockUrl}/books/2")
print(deleted.status_code, repr(deleted.text))
"""),
    md("auth", """
## 6. Request headers: who is asking

Many APIs want to know who calls. A common way: an `Authorization: Bearer <token>` header.
`-R "Name: value"` (or a `>` line) makes an example answer only requests that carry that
header; the other example answers everyone else with `401`.
"""),
    code("my-books", """
%%example GET /me/books 200 --name "My books" -R "Authorization: Bearer secret-token"
[{"id": 1, "title": "Dune"}]
"""),
    code("not-logged-in", """
%%example GET /me/books 401 --name "Not logged in"
{"error": "Log in first"}
"""),
    code("auth-calls", """
print(requests.get(f"{mockUrl}/me/books").status_code)
print(requests.get(f"{mockUrl}/me/books", headers={"Authorization": "Bearer secret-token"}).status_code)
"""),
    md("miss", """
## 7. When nothing matches

A request that no example answers gets a `404` whose body explains why, listing the
closest examples and what differed — here the method:
"""),
    code("miss-call", """
wrong_method = requests.post(f"{mockUrl}/books/1", json={})
print(wrong_method.status_code)
print(wrong_method.json()["diagnosis"]["text"])
"""),
    md("exercises", """
## 8. Your turn

Try these, each in a new cell, then call the mock to check:

1. Add `GET /books?author=Jane%20Austen` answering only Emma. What does `GET /books` answer now, and why? (`%mock log` tells.)
2. Make `GET /books/2` answer Emma instead of the 404.
3. Add a `500` example for `GET /books` and get it with `requests.get(f"{mockUrl}/books", headers={"x-mock-response-code": "500"})`.
4. Give `POST /books` a `Location` that uses the new title: `Location: /books/{{$body 'title'}}`
   (redefine *Book created* in a new cell, with `--replace`).

When you are done:
"""),
    code("stop", "%mock stop"),
    md("summary", """
**In one table**

| method | on | means | typical success |
|---|---|---|---|
| GET | `/books`, `/books/1` | read | 200 |
| POST | `/books` | create | 201 + `Location` |
| PUT | `/books/1` | replace | 200 (or 204) |
| PATCH | `/books/1` | change some fields | 200 |
| DELETE | `/books/1` | remove | 204 |
"""),
]


# -- 07 prototype a CRUD API ---------------------------------------------------------------------

PROTOTYPE: list[Cell] = [
    md("title", """
# Prototype a CRUD API: a mock that remembers

A replayed example cannot remember: after `POST /todos`, a `GET /todos` of a static mock has
never heard of the new todo. Here the API *behaves*: a **resource** keeps its records in memory
(create, read, update, delete, as json-server does), a **Python handler** computes an answer, and
saved examples still answer the error cases a front end must handle.
"""),
    code("load", "%load_ext postmock_nb"),
    md("resource-intro", """
## 1. A resource

`%%resource NAME` serves a JSON array at `/NAME`: `GET /todos` (with `?field=value`, `_sort`,
`_page`/`_per_page`, and the total in `X-Total-Count`), `GET /todos/:id`, `POST /todos` (201, a
new id, `Location`), `PUT` (replace), `PATCH` (merge), `DELETE` (204). The variable `todos` is the
live list: the notebook and the server share it.
"""),
    code("todos", """
%%resource todos
[
  {"id": 1, "title": "Write the API sketch", "done": true},
  {"id": 2, "title": "Show it to the front-end team", "done": false}
]
"""),
    md("extras-intro", """
## 2. A computed answer, and an error to rehearse

A handler is a plain Python function: `/todos/summary` is a stricter path than `/todos/:id`, so
it wins for that one URL. The saved 503 example answers only when a request selects it with
`x-mock-response-code: 503`; otherwise the resource answers (a handler or resource wins a tie
with an explicit example).
"""),
    code("summary", """
@mock.handler("GET /todos/summary")
def summary(request):
    done = sum(1 for todo in todos if todo["done"])
    return {"total": len(todos), "done": done, "open": len(todos) - done}
"""),
    code("busy", """
%%example POST /todos 503 --name "Service busy"
{"error": "The todo service is busy, try again"}
"""),
    code("start", "%mock start"),
    md("client-intro", """
## 3. The front end

The front end's data layer, as it will be written against the real API — here in Python, with
the same calls a `fetch()` makes:
"""),
    code("client", """
import requests


class TodoClient:
    def __init__(self, base):
        self.base = base.rstrip("/") + "/todos"

    def _check(self, response):
        if response.status_code >= 400:
            raise RuntimeError(f"{response.status_code}: {response.json()['error']}")
        return response.json() if response.content else None

    def all(self):
        return self._check(requests.get(self.base, params={"_sort": "id"}))

    def add(self, title, **headers):
        return self._check(requests.post(self.base, json={"title": title, "done": False}, headers=headers))

    def rename(self, todo_id, title):
        return self._check(requests.patch(f"{self.base}/{todo_id}", json={"title": title}))

    def finish(self, todo_id):
        return self._check(requests.patch(f"{self.base}/{todo_id}", json={"done": True}))

    def remove(self, todo_id):
        return self._check(requests.delete(f"{self.base}/{todo_id}"))


def render(items):
    for todo in items:
        print(f"[{'x' if todo['done'] else ' '}] #{todo['id']} {todo['title']}")


app = TodoClient(mockUrl)
render(app.all())
"""),
    code("create", """
new = app.add("Prototype the API in a notebook")
print("created", new)
render(app.all())
"""),
    code("edit", """
app.rename(new["id"], "Prototype the API with postmock_nb")
app.finish(2)
render(app.all())
print(requests.get(f"{mockUrl}/todos/summary").json())
"""),
    code("delete", """
app.remove(1)
render(app.all())
"""),
    md("errors-intro", """
## 4. The error paths

A deleted todo is a 404, a body that is not a JSON object a 400, and the busy service the saved
503 example:
"""),
    code("errors", """
for attempt in (lambda: app.rename(1, "gone?"),
                lambda: requests.post(app.base, json=["not", "an", "object"]).raise_for_status(),
                lambda: app.add("during an outage", **{"x-mock-response-code": "503"})):
    try:
        attempt()
    except (RuntimeError, requests.HTTPError) as error:
        print("the page shows:", error)
"""),
    md("live-intro", """
## 5. The state is a Python object

Change it in a cell and the next request sees it; `%mock reset` puts the seed back.
"""),
    code("live", """
todos[0]["title"] = todos[0]["title"].upper()
render(app.all())
"""),
    code("reset", """
%mock reset
render(app.all())
"""),
    code("log", "%mock log -n 5"),
    code("stop", "%mock stop"),
]


NOTEBOOK_CELLS: dict[str, list[Cell]] = {
    "02-scenarios.ipynb": SCENARIOS,
    "03-private-and-public.ipynb": PRIVATE,
    "04-postman-roundtrip.ipynb": ROUNDTRIP,
    "05-frontend-demo.ipynb": FRONTEND,
    "06-rest-for-beginners.ipynb": REST,
    "07-prototype-a-crud-api.ipynb": PROTOTYPE,
}


def build(cells: list[Cell]) -> Any:
    notebook = new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    seen: set[str] = set()
    for kind, cell_id, source in cells:
        if cell_id in seen:
            raise ValueError(f"cell id {cell_id!r} used twice")
        seen.add(cell_id)
        if kind == "code":
            cell = new_code_cell(source, id=cell_id)
        else:
            cell = new_markdown_cell(source, id=cell_id)
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return notebook


def render(cells: list[Cell]) -> str:
    return nbformat.writes(build(cells)) + "\n"


def same_content(name: str, current: str, wanted: str) -> bool:
    """Equal as notebooks (cells: kind, id, source; no outputs), whatever nbformat's layout."""
    if not name.endswith(".ipynb"):
        return current == wanted

    def cells(text: str) -> list[tuple[str, str, str, bool]]:
        notebook = nbformat.reads(text, as_version=4)
        return [(c.cell_type, c.get("id", ""), c.source, bool(c.get("outputs"))) for c in notebook.cells]

    try:
        return cells(current) == cells(wanted)
    except Exception:  # not a readable notebook: rewrite it
        return False


def write_users_collection(path: Path) -> Path:
    """The users API of ``make demo``, written by postmock_nb's own export."""
    sys.path.insert(0, str(ROOT))
    from postmock_nb.session import Session

    from postmock_nb.model import Collection

    session = Session(Collection(name="Users API (postmock_nb demo)",
                                 description="A small users API: list, get by id, 404, create. Serve it with `make demo`."))
    session.define("GET /users 200", """X-Total-Count: 3

[
  {"id": 1, "name": "Alice Park", "email": "alice@example.com", "role": "admin"},
  {"id": 2, "name": "Ben Carter", "email": "ben@example.com", "role": "editor"},
  {"id": 3, "name": "Chloe Diaz", "email": "chloe@example.com", "role": "viewer"}
]""", name="List users")
    session.define("GET /users/1 200", '{"id": 1, "name": "Alice Park", "email": "alice@example.com", "role": "admin"}',
                   name="Get user")
    session.define("GET /users/:id 404", '{"error": "User not found"}', name="User not found")
    session.define("POST /users 201", """Location: /users/4

{"id": 4, "name": "{{$body 'name'}}", "email": "{{$body 'email'}}", "role": "viewer"}""", name="Create user")
    return session.save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if a notebook differs")
    parser.add_argument("--collection", action="store_true", help="rewrite the users collection even if present")
    args = parser.parse_args(argv)
    DATA.mkdir(parents=True, exist_ok=True)
    stale = []
    outputs = {name: render(cells) for name, cells in NOTEBOOK_CELLS.items()}
    outputs["data/team-directory.html"] = PAGE + "\n"
    for name, text in outputs.items():
        path = NOTEBOOKS / name
        if path.exists() and same_content(name, path.read_text(encoding="utf-8"), text):
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if args.check:
        for name in stale:
            print(f"{name} differs from scripts/build_notebooks.py: run .venv/bin/python scripts/build_notebooks.py")
        return 1 if stale else 0
    collection = DATA / "users.postman_collection.json"
    if args.collection or not collection.exists():
        print(f"wrote {write_users_collection(collection).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

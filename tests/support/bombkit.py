"""Small OpenAPI documents that expand without bound (input bombs), shared by tests/cli/test_cli.py,
tests/server/test_magics.py and benchmarks/openapi_bombs.py: each with the one-line error it must get."""

from __future__ import annotations

from pathlib import Path


def laughs(example: bool) -> str:
    """A 'billion laughs' YAML document: nine aliases of nine aliases … (9**9 strings, in 0.5 KB)."""
    lines = ["openapi: 3.0.3", 'info: {title: laughs, version: "1"}', 'x-a: &a ["lol","lol","lol","lol","lol",'
             '"lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"x-{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    lines += ["paths:", "  /x:", "    get:", '      responses: {"200": {description: ok, content: {application/json: '
              + ("{example: *i}" if example else "{}") + "}}}"]
    return "\n".join(lines) + "\n"


def fan_out(level: str, last: str, levels: int) -> str:
    """A document whose schema S0 refers to S1 in many places, S1 to S2 …: ``level`` is S<i>'s body."""
    lines = ["openapi: 3.0.3", 'info: {title: fan-out, version: "1"}', "paths:", "  /x:", "    get:",
             '      responses: {"200": {description: ok, content: {application/json: {schema: '
             '{$ref: "#/components/schemas/S0"}}}}}', "components:", "  schemas:"]
    lines += [f"    S{i}: {level.replace('NEXT', f'$ref: {chr(39)}#/components/schemas/S{i + 1}{chr(39)}')}"
              for i in range(levels)]
    return "\n".join([*lines, f"    S{levels}: {last}"]) + "\n"


_TOO_MANY_STEPS = "this schema's example value would take more than 100,000 steps to make"
BOMBS = {  # name: (document, what the one-line error says, where it says it is)
    "alias bomb": (laughs(example=False), "YAML aliases (*name) expand the document by more than 100,000 nodes",
                   "line 8"),
    "alias bomb as an example": (laughs(example=True), "YAML aliases (*name) expand the document by more than",
                                 "line 8"),
    "$ref fan-out": (fan_out("{type: object, properties: {" + ", ".join(f"p{j}: {{NEXT}}" for j in range(12))
                              + "}}", "{type: string}", 6),
                     _TOO_MANY_STEPS, "at #/paths/~1x/get/responses/200/content/application~1json/schema"),
    "minItems bomb": (fan_out("{type: array, minItems: 40, items: {NEXT}}", "{type: string, minLength: 60}", 8),
                      _TOO_MANY_STEPS, "at #/paths/~1x/get/responses/200/content/application~1json/schema"),
    "minLength bomb": (fan_out("{NEXT}", "{type: string, minLength: 10000000000}", 1),
                       _TOO_MANY_STEPS, "at #/paths/~1x/get/responses/200/content/application~1json/schema"),
}


def write_bomb(folder: Path, name: str) -> Path:
    path = folder / (name.replace(" ", "-").replace("$", "") + ".yaml")
    path.write_text(BOMBS[name][0], encoding="utf-8")
    return path

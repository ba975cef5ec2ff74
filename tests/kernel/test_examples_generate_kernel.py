"""``%mock load DOC --examples generate`` in a real kernel (nbclient): each response example of the OpenAPI document
that breaks its own schema is served, over a real socket, as a value generated from the schema, and the cell says
which; a plain ``%mock load`` serves the author's examples; a wrong value is a UsageError. No traceback."""

from __future__ import annotations

import json

from support.notebook_cells import cell_text, run_in_kernel
from support.openapi_documents import BROKEN_EXAMPLES, DATA


def test_mock_load_examples_generate_in_a_kernel(tmp_path) -> None:
    document = DATA / BROKEN_EXAMPLES
    fetch = ("import requests\nfrom postmock_nb.notebook.magics import session_of\n"
             "answer = requests.get(session_of(get_ipython()).url + '/owners/1', timeout=10)\n"
             "print(json.dumps(answer.json()), '|', answer.headers.get('X-Postmock-Note', '-')[:40])")
    nb = run_in_kernel([
        "%load_ext postmock_nb\nimport json",
        f"%mock load {document} --examples generate",
        "%mock start --no-dashboard",
        fetch,
        "%mock clear",
        f"%mock load {document}",
        fetch,
        f"try:\n    get_ipython().run_line_magic('mock', 'load {document} --examples schema')\nexcept Exception as error:\n"
        "    print(type(error).__name__, '|', str(error).replace(chr(10), ' | '))",
        "%mock stop",
    ], tmp_path, timeout=90)
    texts = [cell_text(cell) for cell in nb.cells]
    errors = [o for cell in nb.cells for o in cell.outputs
              if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]
    assert errors == []
    loaded = texts[1].splitlines()
    start = loaded.index("--examples generate: 5 examples replaced by a value generated from the schema "
                         "(the example breaks it):")
    assert loaded[start + 3] == "  GET /owners/{id} 200 (example): $.name: 42 is not of type 'string'"
    body, note = texts[3].strip().split(" | ")
    assert json.loads(body) == {"id": 1, "name": "Ada"}  # the schema's own examples (which conform)
    assert note == "--examples generate: the document's exam"  # the note header, its first 40 characters
    assert "--examples generate" not in texts[5]
    assert texts[6].strip() == '{"id": 7, "name": 42} | -'  # as written: the default
    assert texts[7].strip().startswith("UsageError | --examples must be as-written or generate, got 'schema'")

"""``%mock webhook`` in a real kernel (nbclient): with no arguments it lists the loaded OpenAPI 3.1 document's
webhooks; ``%mock webhook NAME URL`` sends one to a local receiver (a tiny HTTP server in this process, on
127.0.0.1) and says what came back, ``mock.webhook`` does the same from Python, ``%mock log`` shows the outgoing
rows; an unknown name is a UsageError naming the known ones. No cell shows a traceback."""

from __future__ import annotations

import json

from support.notebook_cells import cell_text, run_in_kernel
from support.openapi_documents import DATA
from support.receiver import Receiver


def test_mock_webhook_sends_a_31_webhook_from_a_kernel(tmp_path) -> None:
    receiver = Receiver()
    hook = receiver.url + "/hooks/pets"
    try:
        nb = run_in_kernel([
            "%load_ext postmock_nb",
            "%mock webhook",
            f"%mock load {DATA / 'oai-v3.1-webhook-example.yaml'}",
            "%mock webhook",
            "%mock start --no-dashboard",
            f"%mock webhook newPet {hook}",
            f"print('status', mock.webhook('newPet', {hook!r}))",
            f"try:\n    get_ipython().run_line_magic('mock', 'webhook oldPet {hook}')\nexcept Exception as error:\n"
            "    print(type(error).__name__, '|', str(error).replace(chr(10), ' | '))",
            "try:\n    get_ipython().run_line_magic('mock', 'webhook newPet')\nexcept Exception as error:\n"
            "    print(type(error).__name__, '|', str(error).replace(chr(10), ' | '))",
            "%mock log -n 5",
            "%mock stop",
        ], tmp_path, timeout=60)
    finally:
        receiver.close()
    texts = [cell_text(cell) for cell in nb.cells]
    errors = [o for cell in nb.cells for o in cell.outputs
              if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]
    assert errors == []
    assert "No webhooks: %mock load an OpenAPI 3.1 document" in texts[1]
    assert "1 webhook: newPet (send one with %mock webhook NAME URL)" in texts[2]
    assert texts[3].splitlines() == [
        "1 webhook (send one with %mock webhook NAME URL):",
        """  newPet  POST  payload: '{"id": 0, "name": "string", "tag": "string"}'"""]
    assert texts[5].startswith(f"Sent webhook 'newPet': POST {hook} → 204 (") and "#1 in %mock log" in texts[5]
    assert texts[6].strip() == "status 204"
    assert texts[7].strip() == "UsageError | no webhook named 'oldPet' | Hint: one of: newPet"
    assert [(r["method"], r["path"], json.loads(r["body"])) for r in receiver.received] == [
        ("POST", "/hooks/pets", {"id": 0, "name": "string", "tag": "string"})] * 2
    assert texts[8].strip() == "UsageError | %mock webhook: give the URL to send it to | Hint: %mock webhook newPet URL"
    log = texts[9]
    assert log.count("↗") == 2 and hook in log and "webhook newPet" in log

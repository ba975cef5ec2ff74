"""The OpenAPI documents the tests read (``tests/data/openapi/``): public examples (Apache-2.0, README beside
them), a local document of OpenAPI 3.1 shapes, two of the schema keywords generation honours and one of examples
that break their schema."""

from __future__ import annotations

from support.paths import DATA as TEST_DATA

DATA = TEST_DATA / "openapi"
PUBLIC = ["oai-v3.0-api-with-examples.yaml", "oai-v3.0-callback-example.yaml", "oai-v3.0-link-example.yaml",
          "oai-v3.0-petstore-expanded.yaml", "oai-v3.0-petstore.yaml", "oai-v3.0-petstore.json",
          "oai-v3.0-uspto.yaml", "oai-v3.1-webhook-example.yaml", "swagger-petstore-v3.yaml",
          "prism-dynamic-generation.oas3.json"]
BROKEN_EXAMPLES = "local-3.0-broken-examples.yaml"
"""Response examples that break their own schema, one per kind (``--examples generate``)."""
ALL = PUBLIC + ["local-3.1-shapes.yaml", "local-3.0-constraints.yaml", "local-3.1-constraints.yaml", BROKEN_EXAMPLES]

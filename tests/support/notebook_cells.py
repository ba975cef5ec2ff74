"""Running cells in a kernel, and reading an executed notebook the way its tests do (shared by the kernel,
notebook and browser tests)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

NODE_BIN = Path(__file__).resolve().parents[2] / "node_modules" / ".bin"


def newman_available() -> bool:
    return (NODE_BIN / "newman").exists() and shutil.which("node") is not None


def prism_available() -> bool:
    return (NODE_BIN / "prism").exists() and shutil.which("node") is not None


def run_in_kernel(cells: list[str], folder: Path, timeout: int = 120) -> Any:
    """A notebook of these code cells, run top to bottom in a real python3 kernel started in ``folder``."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def cell_text(cell: Any) -> str:
    """Everything a cell showed, as text (streams, plain-text results, errors)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
        else:
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def error_outputs(cell: Any) -> list[Any]:
    """The error outputs of an executed cell (a raised exception's name, value and traceback)."""
    return [output for output in cell.get("outputs", []) if output.output_type == "error"]


def squeeze(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text)


def find_cell(nb: Any, key: str) -> Any:
    """The cell with this id, else the one code cell whose source contains ``key``."""
    by_id = [c for c in nb.cells if c.get("id") == key]
    if by_id:
        return by_id[0]
    by_source = [c for c in nb.cells if c.cell_type == "code" and key in c.source]
    assert len(by_source) == 1, f"expected one cell with id or source {key!r}, found {len(by_source)}"
    return by_source[0]

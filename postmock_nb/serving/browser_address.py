"""Where a browser reaches the mock, when it is not on the machine that runs the kernel.

``%mock start`` prints it ("From your browser: …"), the dashboard links to it and notebook 05's
page calls it; code in the notebook keeps using ``mockUrl``. Worked out from the environment,
first found wins:

==================  =====================================================================
``POSTMOCK_PUBLIC_URL``  the override, with ``{port}`` filled in
JupyterHub / Binder  jupyter-server-proxy: ``<JUPYTERHUB_SERVICE_PREFIX>/proxy/<port>/``
Google Colab         Colab's kernel proxy: the page's ``google.colab.kernel.proxyPort(port)``,
                     asked through ``google.colab.output.eval_js`` (only from the kernel's main
                     thread, while a cell runs; remembered per port)
GitHub Codespaces    the forwarded port: ``https://<CODESPACE_NAME>-<port>.<domain>/``
VS Code remote       ``http://localhost:<port>/`` on your machine, once VS Code forwards the port
                     (SSH, dev containers, WSL: it forwards a port a process listens on by itself)
==================  =====================================================================

None of them: the browser is on this machine and reaches ``127.0.0.1`` itself.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

COLAB_TIMEOUT_S = 5.0
"""How long to wait for Colab's page to answer ``proxyPort`` (it answers at once while a cell runs)."""
VSCODE_VARIABLES = ("VSCODE_PID", "VSCODE_IPC_HOOK_CLI", "VSCODE_CWD", "VSCODE_AGENT_FOLDER")
"""Set in processes VS Code (or its remote server) starts: its terminals, its extensions' kernels."""
REMOTE_VARIABLES = ("VSCODE_AGENT_FOLDER", "REMOTE_CONTAINERS", "VSCODE_REMOTE_CONTAINERS_SESSION",
                    "SSH_CONNECTION", "WSL_DISTRO_NAME")
"""Set where VS Code's window is on another machine than the kernel (Remote-SSH, dev containers, WSL)."""

_colab_urls: dict[int, str] = {}
"""Colab's proxy URL of each port asked for (asked once, from the main thread)."""


@dataclass(frozen=True)
class BrowserAddress:
    """The mock's address as a browser elsewhere reaches it, and how it was found."""

    url: str
    where: str
    """``POSTMOCK_PUBLIC_URL``, ``JupyterHub``, ``Colab``, ``Codespaces`` or ``VS Code remote``."""
    note: str = ""
    """What a person may need to know (VS Code: the port is forwarded; see its Ports view)."""


def browser_address(port: int, environ: Mapping[str, str] = os.environ) -> BrowserAddress | None:
    """Where a browser that is not on this machine reaches the mock on ``port`` (None: it reaches 127.0.0.1)."""
    override = environ.get("POSTMOCK_PUBLIC_URL")
    if override:
        return BrowserAddress(override.replace("{port}", str(port)), "POSTMOCK_PUBLIC_URL")
    prefix = environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        return BrowserAddress(f"{prefix.rstrip('/')}/proxy/{port}/", "JupyterHub")
    colab = colab_url(port)
    if colab:
        return BrowserAddress(colab, "Colab", f"Colab's proxy for port {port}")
    codespace, domain = environ.get("CODESPACE_NAME"), environ.get("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN")
    if environ.get("CODESPACES") == "true" and codespace and domain:
        return BrowserAddress(f"https://{codespace}-{port}.{domain}/", "Codespaces",
                              f"Codespaces forwards port {port}; its Ports view makes it public or private")
    if _vscode(environ) and any(environ.get(name) for name in REMOTE_VARIABLES):
        return BrowserAddress(f"http://localhost:{port}/", "VS Code remote",
                              f"VS Code forwards port {port} to your machine (its Ports view shows the local "
                              "port, if it had to pick another)")
    return None


def public_url(port: int, environ: Mapping[str, str] = os.environ) -> str | None:
    """The URL of :func:`browser_address`, if any (what notebook 05's page calls instead of ``mockUrl``)."""
    found = browser_address(port, environ)
    return found.url if found is not None else None


def _vscode(environ: Mapping[str, str]) -> bool:
    return environ.get("TERM_PROGRAM") == "vscode" or any(environ.get(name) for name in VSCODE_VARIABLES)


def colab_url(port: int) -> str | None:
    """Colab's proxy URL for ``port``, when the kernel runs on Google Colab (None elsewhere).

    Colab's page answers ``google.colab.kernel.proxyPort(port)``; Python asks it through
    ``google.colab.output.eval_js``, which needs a running cell, so it is asked from the main thread
    only and remembered (the dashboard refreshes from the server thread).
    """
    if port in _colab_urls:
        return _colab_urls[port]
    if threading.current_thread() is not threading.main_thread() or not _on_colab():
        return None
    try:
        from google.colab.output import eval_js  # type: ignore[import-not-found]  # deferred: only on Colab

        url = eval_js(f"google.colab.kernel.proxyPort({int(port)})", timeout_sec=COLAB_TIMEOUT_S)
    except Exception:  # noqa: BLE001  # not answered (no running cell, a timeout): no address, never an error
        return None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    _colab_urls[port] = url if url.endswith("/") else url + "/"
    return _colab_urls[port]


def _on_colab() -> bool:
    try:
        return importlib.util.find_spec("google.colab") is not None
    except (ImportError, ValueError):  # no ``google`` package at all
        return False

"""Environments: Postman environment files written for a test; the variables that say where the browser is."""

from __future__ import annotations

import json
from pathlib import Path

BROWSER_ENVIRONMENT = ("POSTMOCK_PUBLIC_URL", "JUPYTERHUB_SERVICE_PREFIX", "CODESPACES", "CODESPACE_NAME",
                       "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN", "TERM_PROGRAM", "VSCODE_PID",
                       "VSCODE_IPC_HOOK_CLI", "VSCODE_CWD", "VSCODE_AGENT_FOLDER", "REMOTE_CONTAINERS",
                       "VSCODE_REMOTE_CONTAINERS_SESSION", "SSH_CONNECTION", "WSL_DISTRO_NAME")
"""The variables postmock_nb.serving.browser_address reads: a test starts with none of them set."""


def write_environment(path: Path, values: dict[str, str], disabled: dict[str, str] | None = None) -> Path:
    entries = [{"key": k, "value": v, "enabled": True} for k, v in values.items()]
    entries += [{"key": k, "value": v, "enabled": False} for k, v in (disabled or {}).items()]
    path.write_text(json.dumps({"name": "Staging", "values": entries, "_postman_variable_scope": "environment"}),
                    encoding="utf-8")
    return path

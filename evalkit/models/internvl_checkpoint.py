"""What an InternVL-Chat checkpoint folder says about itself, read without running its code: the code it ships
(and what that code needs), its own system line; and the checks made before any of it runs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet

from evalkit.errors import ModelSpecError
from evalkit.models.internvl_prompt import template_system_line
from evalkit.models.transformers_compat import CodeRequirements, check_requirements

#: What InternVL-Chat checkpoint code needs (V1.5's, InternVL @83c72bc as the checkpoint ships it): from
#: transformers 4.52 its configuration fails (``KeyError: 'architectures'``), under 5.x its InternLM2 has no
#: ``generate`` and an old key/value cache; ``timm`` builds the vision tower, ``einops`` and ``sentencepiece``
#: its model and tokenizer. The ``internvl`` extra installs exactly this.
CHECKPOINT_CODE = CodeRequirements(
    what="InternVL-Chat checkpoint code",
    transformers=SpecifierSet(">=4.37.2,<4.52"),
    modules=("timm", "einops", "sentencepiece"),
    extra="internvl",
)


def check_environment(spec: str, model_id: str, *, trust_remote_code: bool) -> None:
    """Refuse before any work: without ``--trust-remote-code``, a target that is no folder, or an environment
    the checkpoint's code cannot run in."""
    if not trust_remote_code:
        raise ModelSpecError(remote_code_refusal(spec))
    check_target(model_id, spec)
    check_requirements(CHECKPOINT_CODE, spec)


def remote_code_refusal(spec: str) -> str:
    """The one-line refusal for an ``internvl:`` spec without ``--trust-remote-code``."""
    return (f"model spec '{spec}': the internvl: backend is not available without --trust-remote-code "
            "(loading the checkpoint runs its own Python code)")


def snapshot_folder(model_id: str, revision: str | None) -> Path | None:
    """The folder the checkpoint's files are in: ``model_id`` itself, or its hub-cache snapshot."""
    path = Path(model_id).expanduser()
    if path.is_dir():
        return path
    try:
        from transformers.utils.hub import cached_file

        config = cached_file(model_id, "config.json", revision=revision, local_files_only=True)
    except Exception:  # informative only
        return None
    return Path(str(config)).parent if config else None


def code_files(folder: Path | None) -> list[tuple[str, str]]:
    """(name, sha256) of every ``*.py`` in the checkpoint folder: the code ``trust_remote_code`` runs."""
    if folder is None:
        return []
    return [(path.name, hashlib.sha256(path.read_bytes()).hexdigest()) for path in sorted(folder.glob("*.py"))]


def checkpoint_system_line(model: Any, folder: Path | None, template: str) -> tuple[str, str] | None:
    """(line, where it was found): the loaded model's ``system_message``, else its ``conversation.py``'s."""
    line = getattr(model, "system_message", None)
    if isinstance(line, str):
        return line, "model.system_message"
    conversation = folder / "conversation.py" if folder is not None else None
    if conversation is not None and conversation.is_file():
        found = template_system_line(conversation.read_text(encoding="utf-8", errors="replace"), template)
        if found is not None:
            return found, "conversation.py"
    return None


def check_target(model_id: str, spec: str) -> None:
    """An empty target, or one that is plainly a path but no folder, is a spec error."""
    if not model_id:
        raise ModelSpecError(f"model spec '{spec}' names no model (expected internvl:<hub id or folder>)")
    path = Path(model_id).expanduser()
    looks_local = model_id.startswith(("/", ".", "~")) or model_id.count("/") > 1
    if (looks_local or path.exists()) and not path.is_dir():
        raise ModelSpecError(f"cannot load model '{spec}': no such folder '{model_id}'")

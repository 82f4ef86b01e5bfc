"""A hub model that cannot be had now is refused at once, naming the hub-cache folder it was looked for in."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from huggingface_hub import constants

from evalkit.config import Environment, ModelOptions
from evalkit.errors import ModelSpecError
from evalkit.models.hf_support import check_hub_reachable
from evalkit.models.registry import check_model

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture()
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty hub cache, and a hub endpoint where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    return tmp_path / "hub"


def cache_model(hub: Path, repo: str) -> None:
    """The hub cache's layout for ``repo`` at ``main``: refs/main → snapshots/<commit>/config.json."""
    folder = hub / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(COMMIT)
    (folder / "snapshots" / COMMIT).mkdir(parents=True)
    (folder / "snapshots" / COMMIT / "config.json").write_text("{}")


def test_offline_and_not_cached_names_the_cache_folder(hub_cache: Path) -> None:
    with pytest.raises(ModelSpecError) as caught:
        check_hub_reachable("org/vlm", None, "hf:org/vlm", offline=True)
    assert str(caught.value) == (f"model 'hf:org/vlm': not in the hub cache ({hub_cache / 'models--org--vlm'}), and "
                                 "HF_HUB_OFFLINE is set; download it first (hf download org/vlm) or unset "
                                 "HF_HUB_OFFLINE")


def test_an_unreachable_hub_is_said_at_once(hub_cache: Path) -> None:
    with pytest.raises(ModelSpecError) as caught:
        check_model("hf:org/vlm", ModelOptions(), Environment.from_mapping({}))
    message = str(caught.value)
    assert message.startswith(f"model 'hf:org/vlm': not in the hub cache ({hub_cache / 'models--org--vlm'}), and "
                              f"{constants.ENDPOINT} cannot be reached (127.0.0.1:")


def test_a_cached_model_or_a_folder_passes_offline(hub_cache: Path, tmp_path: Path) -> None:
    cache_model(hub_cache, "org/vlm")
    check_hub_reachable("org/vlm", None, "hf:org/vlm", offline=True)
    check_model("hf:org/vlm", ModelOptions(), Environment.from_mapping({"HF_HUB_OFFLINE": "1"}))
    check_hub_reachable(str(tmp_path), None, f"hf:{tmp_path}", offline=True)
    with pytest.raises(ModelSpecError, match="not in the hub cache"):
        check_hub_reachable("org/vlm", "v2.0", "hf:org/vlm@v2.0", offline=True)  # another revision is not cached

"""``preview``: exactly what a model receives for one sample, written to a folder.

Without a model: the suite's formatted instruction, the original images and
their InternVL 1.5 tiles at the protocol's max tiles. With a model: also the
prompt after its chat template and the images its processor produces.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PIL import Image

from evalkit.catalog.cards import load_catalog
from evalkit.config import Environment, ModelOptions
from evalkit.data.sample import Sample
from evalkit.data.sources import load_samples
from evalkit.errors import DataError, EvalkitError
from evalkit.models.registry import check_model, load_model
from evalkit.prompts.layouts import render_instruction
from evalkit.run.inference import start_conversation
from evalkit.tiling import dynamic_tiles


def find_sample(samples: list[Sample], index: str, where: str) -> Sample:
    for sample in samples:
        if str(sample.index) == index:
            return sample
    raise DataError(f"{where} has no sample with index '{index}'")


def write_preview(*, benchmark: str, index: str, output: Path, protocol: str = "paper", model_spec: str | None = None,
                  data_file: Path | None = None, source: str | None = None, max_tiles: int | None = None,
                  trust_remote_code: bool = False, model_args: Mapping[str, str] | None = None) -> list[Path]:
    """Write ``instruction.txt``, images and tiles (and ``prompt.txt`` with a model); return the paths."""
    spec = load_catalog().get(benchmark)
    env = Environment.current()
    options = ModelOptions(trust_remote_code=trust_remote_code, args=model_args or {})
    if model_spec is not None:
        check_model(model_spec, options, env)
    loaded = load_samples(spec, source=source, data_file=data_file, data_root=env.data_root,
                          hub_cache_dir=env.hub_cache_dir, offline=env.offline, protocol=protocol)
    sample = find_sample(loaded.samples, index, f"{spec.name} ({loaded.info.location})")
    instruction = render_instruction(sample, spec.protocol(protocol), spec.language, max_tiles)
    conversation = start_conversation(sample, instruction)
    if conversation.error:
        raise EvalkitError(f"{spec.name} sample {index}: {conversation.error}")
    output.mkdir(parents=True, exist_ok=True)
    written = [_write_text(output / "instruction.txt", "\n\n".join(instruction.texts))]
    for k, image in enumerate(conversation.images):
        written.append(_save(image, output / f"image{k + 1}.png"))
        for t, tile in enumerate(dynamic_tiles(image, max_tiles=instruction.tiles_per_image)):
            written.append(_save(tile, output / f"image{k + 1}_tile{t + 1:02d}.png"))
    if model_spec is not None:
        model = load_model(model_spec, options, env)
        rendered = model.render(conversation.request(0, spec.protocol(protocol).generation))
        written.append(_write_text(output / "prompt.txt", rendered.prompt))
        written += [_save(image, output / f"model_input{k + 1}.png") for k, image in enumerate(rendered.images)]
    return written


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _save(image: Image.Image, path: Path) -> Path:
    try:
        image.save(path)
    except OSError as exc:
        raise EvalkitError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path

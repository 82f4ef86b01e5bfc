"""The ``vlmeval:<name>`` backend: any model of VLMEvalKit's ``supported_VLM``, driven by evalkit's runner.

The model is VLMEvalKit's own class, built as VLMEvalKit builds it (``supported_VLM[name](**kwargs)``, with
``WORLD_SIZE`` unset while it loads, as ``infer_data`` does); ``--model-args model_path=...`` and
``use_custom_prompt=...`` go to its constructor. Each request is one ``model.generate(message=..., dataset=...)``
call (batches of one, as VLMEvalKit runs local models), and what the runner does around it is evalkit's: resume,
the prediction store, errors as values, scoring, the manifest.

Prompts follow the protocol of the run (the request's :class:`~evalkit.models.base.SampleContext`):

* ``vlmevalkit``: as VLMEvalKit's ``infer_data``: the dataset class's ``build_prompt(line)`` when the class
  forces its own prompt; else the model's ``build_prompt(line, dataset)`` when ``use_custom_prompt(dataset)``;
  else the dataset class's ``build_prompt(line)``. ``line`` is the suite's row (:func:`vlmeval_line`), and
  ``dump_image`` answers with the sample's own images, decoded from the suite's file when the request runs.
* ``paper`` (or a request without context): evalkit's instruction and images, as VLMEvalKit's base dataset
  lays them out (images, then the text). The model class still decides tiling and decoding; the manifest's
  ``prompt_sources`` and ``note`` say which prompts each suite got.

``prompt`` in ``predictions.jsonl`` is the message the model class received (:func:`render_message`).

Why in this process and not in a worker subprocess: the runner hands the adapter one request at a time and the
model class takes one message at a time, so a worker would only add a pipe protocol for messages and image files
and a second place where a crash can hide. What would make a worker necessary is VLMEvalKit changing this
process's state; what it changes is known and undone (:func:`guarded_globals`: the unverified HTTPS context its
``import`` installs, the root logger, its prints), and ``vlmeval`` is imported only when this backend is used.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from PIL import Image

from evalkit.errors import ModelSpecError
from evalkit.models.base import Capabilities, Generation, RenderedRequest, Request, SampleContext
from evalkit.models.hf_support import one_line
from evalkit.models.registry import Backend, LoadRequest
from evalkit.models.vlmeval_support import (
    INSTALL_HINT,
    ImageFolder,
    dataset_class,
    dataset_prompt,
    guarded_globals,
    render_message,
    supported_models,
    vlmeval_installed,
    vlmeval_line,
    vlmeval_version,
)

MODEL_PROMPT = "the model class's build_prompt (use_custom_prompt)"
DATASET_PROMPT = "VLMEvalKit's dataset build_prompt"
EVALKIT_PROMPT = "evalkit's prompts (protocol paper); the model class still decides tiling and decoding"


@dataclass(frozen=True)
class VlmevalOptions:
    """``--model-args`` of ``vlmeval:<name>``; each one set goes to the model class's constructor."""

    #: Replaces the entry's ``model_path`` (a local folder, another hub id).
    model_path: str | None = None
    #: False makes the model use VLMEvalKit's dataset prompts (for the classes that take this argument).
    use_custom_prompt: bool | None = None

    def constructor_kwargs(self) -> dict[str, Any]:
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}


@dataclass(frozen=True)
class Prepared:
    """One request as the model class takes it: the message, the dataset name, what built the prompt."""

    message: list[dict[str, str]]
    dataset: str | None
    source: str
    images: tuple[Image.Image, ...]


class VlmevalAdapter:
    """A VLMEvalKit model object as a :class:`~evalkit.models.base.ModelAdapter` (batches of one)."""

    def __init__(self, name: str, entry: str, model: Any, *, kwargs: dict[str, Any],
                 device_override: str | None = None) -> None:
        self._name = name
        self.entry = entry
        self.model = model
        self.kwargs = kwargs
        self.device_override = device_override
        self.images = ImageFolder()
        self.prompt_sources: dict[str, str] = {}

    @property
    def name(self) -> str:
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch_size=1, max_images_per_prompt=None, tiled=False)

    def describe(self) -> dict[str, object]:
        """Manifest facts: the entry, its class, the constructor arguments, VLMEvalKit's and transformers'
        versions, the inner model's dtype and device, and which prompts each suite got."""
        import transformers

        inner = getattr(self.model, "model", None)
        cls = type(self.model)
        return {
            "name": self.name,
            "backend": "vlmeval",
            "model": self.entry,
            "model_class": f"{cls.__module__}.{cls.__qualname__}",
            "constructor_kwargs": dict(self.kwargs),
            "dtype": str(getattr(inner, "dtype", "")).removeprefix("torch.") or None,
            "device": str(getattr(inner, "device", getattr(self.model, "device", ""))) or None,
            "device_override": self.device_override,
            "vlmeval": vlmeval_version(),
            "transformers": transformers.__version__,
            "prompt_sources": dict(self.prompt_sources),
            "note": "predictions of VLMEvalKit's own model class; prompts per suite as prompt_sources says",
        }

    def render(self, request: Request) -> RenderedRequest:
        """The message the model class would receive, and the images in it (nothing is generated)."""
        try:
            prepared = self._prepare(request)
        finally:
            self.images.clear()
        return RenderedRequest(prompt=render_message(prepared.message), images=prepared.images)

    def generate(self, requests: Sequence[Request]) -> list[Generation]:
        """One ``model.generate`` call per request, in order; a failure is that request's error."""
        return [self._generate_one(request) for request in requests]

    def close(self) -> None:
        self.images.close()

    def _generate_one(self, request: Request) -> Generation:
        prompt = ""
        try:
            prepared = self._prepare(request)
            prompt = render_message(prepared.message)
            with guarded_globals():
                reply = self.model.generate(message=prepared.message, dataset=prepared.dataset)
        except Exception as exc:  # the model class's failure becomes the sample's error value
            return Generation(text="", prompt=prompt, error=f"{type(exc).__name__}: {one_line(exc)}")
        finally:
            self.images.clear()
        return Generation(text=reply if isinstance(reply, str) else str(reply), prompt=prompt)

    def _prepare(self, request: Request) -> Prepared:
        if len([m for m in request.messages if m.role != "system"]) > 1:
            raise ValueError("the vlmeval: backend runs single-turn requests only")
        context = request.context
        if context is not None and context.protocol == "vlmevalkit":
            return self._vlmevalkit_prepare(context)
        images = tuple(part.image for part in request.messages[-1].images)
        files = self.images.write(request.sample_id, images)
        message = [{"type": "image", "value": str(path)} for path in files]
        message.append({"type": "text", "value": request.messages[-1].text})
        suite = context.suite if context is not None else None
        self._note(suite, EVALKIT_PROMPT)
        return Prepared(message, suite, EVALKIT_PROMPT, images)

    def _vlmevalkit_prepare(self, context: SampleContext) -> Prepared:
        """VLMEvalKit's ``infer_data`` choice of prompt, on the sample's row and its own images."""
        sample, dataset = context.sample, context.suite
        images = tuple(ref.load() for ref in sample.images)
        files = self.images.write(sample.index, images)
        if callable(getattr(self.model, "set_dump_image", None)):  # API models may lack it, as VLMEvalKit allows
            self.model.set_dump_image(lambda _line: [str(path) for path in files])
        line = vlmeval_line(sample)
        with guarded_globals():
            if _forces_dataset_prompt(dataset) or not self._custom_prompt(dataset):
                message, source = dataset_prompt(dataset, line, files, self.images.root), DATASET_PROMPT
            else:
                message, source = [dict(item) for item in self.model.build_prompt(line, dataset=dataset)], MODEL_PROMPT
        self._note(dataset, source)
        return Prepared(message, dataset, source, images)

    def _custom_prompt(self, dataset: str) -> bool:
        decide = getattr(self.model, "use_custom_prompt", None)
        return callable(decide) and bool(decide(dataset))

    def _note(self, suite: str | None, source: str) -> None:
        if suite is not None:
            self.prompt_sources[suite] = source


@cache
def _forces_dataset_prompt(dataset: str) -> bool:
    """Whether VLMEvalKit's dataset class insists on its own prompt (``force_use_dataset_prompt``)."""
    try:
        return bool(getattr(dataset_class(dataset), "force_use_dataset_prompt", False))
    except ValueError:
        return False


def _check(request: LoadRequest, options: VlmevalOptions) -> None:
    """VLMEvalKit installed (imported here: about 10 s) and the name one of its ``supported_VLM``."""
    if not vlmeval_installed():
        raise ModelSpecError(f"model '{request.spec}': VLMEvalKit (the vlmeval package) is not installed; "
                             f"{INSTALL_HINT}")
    names = supported_models()
    if request.target not in names:
        close = difflib.get_close_matches(request.target, list(names), n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (see vlmeval.config.supported_VLM)"
        raise ModelSpecError(f"model '{request.spec}': '{request.target}' is not one of VLMEvalKit's "
                             f"{len(names)} supported models{hint}")


def _build(request: LoadRequest, kwargs: dict[str, Any]) -> Any:
    """``supported_VLM[name](**kwargs)``, without ``WORLD_SIZE`` (as VLMEvalKit's ``infer_data`` builds it)."""
    world_size = os.environ.pop("WORLD_SIZE", None)
    try:
        with guarded_globals():
            return supported_models()[request.target](**kwargs)
    finally:
        if world_size is not None:
            os.environ["WORLD_SIZE"] = world_size


def _cpu_device(model: Any) -> str | None:
    """On a machine without CUDA, point the class's ``device`` (where VLMEvalKit's classes move their inputs)
    at the device its model was loaded on; returns the new value, or None when nothing changed."""
    import torch

    if torch.cuda.is_available() or not str(getattr(model, "device", "")).startswith("cuda"):
        return None
    inner = getattr(model, "model", None)
    model.device = str(getattr(inner, "device", "cpu"))
    return str(model.device)


def _load(request: LoadRequest, options: VlmevalOptions) -> VlmevalAdapter:
    kwargs = options.constructor_kwargs()
    try:
        model = _build(request, kwargs)
    except Exception as exc:  # any loading failure names the spec
        raise ModelSpecError(f"cannot load model '{request.spec}': {type(exc).__name__}: {one_line(exc)}") from exc
    return VlmevalAdapter(request.spec, request.target, model, kwargs=kwargs, device_override=_cpu_device(model))


BACKEND = Backend(name="vlmeval", usage="vlmeval:<name in VLMEvalKit's supported_VLM>", short="vlmeval:<name>",
                  summary="any VLMEvalKit model through its own class (needs the vlmeval extra)", load=_load,
                  options=VlmevalOptions, check=_check)

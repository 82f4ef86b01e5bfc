"""The ``internvl:`` backend: InternVL-Chat checkpoints run through their own (remote) code.

InternVL-Chat-V1.5 has no transformers-native port: its ``modeling_internvl_chat.py``
ships with the checkpoint and runs only with ``trust_remote_code``. This adapter
does what the checkpoint's ``chat``/``batch_chat`` do, without calling them (they
print, move tensors to ``cuda`` unconditionally and take one sample at a time):

1. each :class:`~evalkit.models.base.ImagePart` is tiled with
   :func:`evalkit.tiling.pixel_values` at that part's ``max_tiles``; a request's
   tiles are concatenated in order;
2. the prompt is :func:`~evalkit.models.internvl_prompt.render_internvl_prompt`
   (``internlm2-chat``, one image block of 256 x total tiles), tokenised with the
   checkpoint's slow tokenizer (it adds ``<s>``);
3. ``model.generate(pixel_values=..., input_ids=..., attention_mask=...,
   eos_token_id=<|im_end|>, ...)`` runs once per batch: prompts left-padded, the
   tiles of every request concatenated in batch order. This is ``batch_chat``'s
   call: the remote ``generate`` takes no ``image_flags`` (only the training
   ``forward`` does); the per-request tile counts (``num_patches_list``) live in
   the prompts, whose ``<IMG_CONTEXT>`` positions the remote code fills with the
   vision features in row-major order;
4. the new tokens are decoded skipping special tokens, cut at the first
   ``<|im_end|>`` and stripped.

The prompt recorded in each :class:`~evalkit.models.base.Generation` is the
compact one, the image block written ``<image>`` (what ``chat`` itself prints);
:meth:`InternVLAdapter.render` gives the exact expanded text and the tiles.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evalkit.errors import ModelSpecError
from evalkit.models.base import Capabilities, Generation, ImagePart, RenderedRequest, Request, Usage
from evalkit.models.hf_support import (
    batches,
    generate_kwargs,
    one_line,
    parse_hf_target,
    quiet_progress,
    resolve_device,
    resolve_dtype,
    resolved_revision,
    seeded,
    torch_placement,
)
from evalkit.models.internvl_checkpoint import check_environment, checkpoint_system_line, code_files, snapshot_folder
from evalkit.models.internvl_prompt import (
    COMPATIBLE_TEMPLATES,
    IM_END,
    IMG_CONTEXT,
    PAPER_SYSTEM_LINE,
    TEMPLATE_NAME,
    TOKENS_PER_TILE,
    cut_reply,
    render_compact_prompt,
    render_internvl_prompt,
)
from evalkit.models.registry import Backend, LoadRequest, NoOptions, Placement
from evalkit.models.transformers_compat import (
    compat_facts,
    dtype_keyword,
    quiet_logging,
)

MAX_BATCH_SIZE = 16
@dataclass(frozen=True)
class PreparedRequest:
    """One request made ready on the CPU: its prompts, token ids and tiles, or the error that stopped it."""

    request: Request
    prompt: str
    input_ids: tuple[int, ...] = ()
    pixels: Any = None  # float32 [tiles, 3, 448, 448], or None without images
    tiles: tuple[int, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class PreparedRequests:
    """What :meth:`InternVLAdapter.prepare` returns and :meth:`InternVLAdapter.generate_prepared` takes."""

    items: tuple[PreparedRequest, ...]


class InternVLAdapter:
    """An InternVL-Chat remote-code model and its tokenizer, as a :class:`~evalkit.models.base.ModelAdapter`.

    Build one with :meth:`load`; the constructor takes objects already loaded (a
    test passes a fake model here). ``system`` is the system line rendered into
    every prompt: the paper-time line by default, whatever the checkpoint's code
    says (that one is recorded in :meth:`describe`).
    """

    def __init__(self, name: str, model: Any, tokenizer: Any, *, source: str, revision: str | None = None,
                 device: str = "cpu", system: str = PAPER_SYSTEM_LINE, template: str | None = TEMPLATE_NAME,
                 checkpoint_system_line: tuple[str, str] | None = None,
                 code_files: Sequence[tuple[str, str]] = ()) -> None:
        self._name = name
        self.model = model
        self.tokenizer = tokenizer
        self.source = source
        self.revision = revision
        self.device = device
        self.system = system
        self.template = template
        self.checkpoint_system_line = checkpoint_system_line
        self.code_files = tuple(code_files)
        self.tokens_per_tile = int(getattr(model, "num_image_token", TOKENS_PER_TILE))
        self.eos_token_id = _token_id(tokenizer, IM_END)
        self.img_context_token_id = _token_id(tokenizer, IMG_CONTEXT)
        pad = getattr(tokenizer, "pad_token_id", None)
        self.pad_token_id = int(pad) if pad is not None else self.eos_token_id

    @classmethod
    def load(cls, model_id: str, *, name: str | None = None, revision: str | None = None, device: str = "auto",
             dtype: str = "auto", trust_remote_code: bool = False) -> InternVLAdapter:
        """Load ``model_id`` (hub id or folder) with ``AutoModel`` + the slow ``AutoTokenizer``.

        Refuses without ``trust_remote_code``; any loading failure is a :class:`ModelSpecError`.
        """
        spec = name or f"internvl:{model_id}" + (f"@{revision}" if revision else "")
        check_environment(spec, model_id, trust_remote_code=trust_remote_code)
        torch_device, device_map = resolve_device(device)
        torch_dtype = resolve_dtype(dtype, torch_device, spec)
        try:
            with quiet_logging(), quiet_progress(), contextlib.redirect_stdout(sys.stderr):  # its prints
                model, tokenizer = _load_pretrained(model_id, revision, torch_dtype, device_map)
            if device_map is None:
                model = model.to(torch_device)
            model.eval()
            folder = snapshot_folder(model_id, revision)
            template = getattr(model, "template", None) or getattr(model.config, "template", None)
            if template is not None and template not in COMPATIBLE_TEMPLATES:
                raise ValueError(f"its conversation template is '{template}'; "
                                 f"the internvl: backend renders {', '.join(COMPATIBLE_TEMPLATES)} only")
            resolved = resolved_revision(model, model_id, revision)
            adapter = cls(spec, model, tokenizer, source=model_id, revision=resolved,
                          device=str(getattr(model, "device", torch_device)), template=template,
                          checkpoint_system_line=checkpoint_system_line(model, folder, template or TEMPLATE_NAME),
                          code_files=code_files(folder))
        except Exception as exc:  # any loading failure names the spec
            raise ModelSpecError(f"cannot load model '{spec}': {one_line(exc)}") from exc
        return adapter

    @property
    def name(self) -> str:
        return self._name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch_size=MAX_BATCH_SIZE, max_images_per_prompt=None, tiled=True)

    def describe(self) -> dict[str, object]:
        """Manifest facts: source, revision, dtype, device, template, system lines, the code that runs."""
        import transformers

        line, line_source = self.checkpoint_system_line or (None, None)
        return {
            "name": self.name,
            "backend": "internvl",
            "model": self.source,
            "model_class": type(self.model).__name__,
            "revision": self.revision,
            "dtype": str(getattr(self.model, "dtype", "")).removeprefix("torch."),
            "device": self.device,
            "trust_remote_code": True,
            "remote_code_files": [{"file": file, "sha256": digest} for file, digest in self.code_files],
            "template": self.template,
            "prompt_format": TEMPLATE_NAME,
            "system_line": self.system,
            "checkpoint_system_line": line,
            "checkpoint_system_line_source": line_source,
            "tokenizer_class": type(self.tokenizer).__name__,
            "eos_token_id": self.eos_token_id,
            "img_context_token_id": self.img_context_token_id,
            "tokens_per_tile": self.tokens_per_tile,
            "transformers": transformers.__version__,
            "transformers_compat": compat_facts(),
        }

    def prompt(self, request: Request) -> str:
        """The compact prompt (image block as ``<image>``), without tiling the images."""
        return render_compact_prompt(request.messages, [tile_count(part) for part in _image_parts(request)],
                                     self.system)

    def render(self, request: Request) -> RenderedRequest:
        """The exact prompt text, image block expanded, and the tiles the vision encoder sees."""
        from evalkit.tiling import dynamic_tiles

        tiles = [dynamic_tiles(part.image, max_tiles=part.max_tiles) for part in _image_parts(request)]
        prompt = render_internvl_prompt(request.messages, [len(t) for t in tiles], self.system,
                                        tokens_per_tile=self.tokens_per_tile)
        return RenderedRequest(prompt=prompt, images=tuple(tile for group in tiles for tile in group))

    def prepare(self, requests: Sequence[Request]) -> PreparedRequests:
        """Tile and tokenise on the CPU (thread-safe, no accelerator state); a failure stays with its request."""
        return PreparedRequests(tuple(self._prepare_one(request) for request in requests))

    def generate(self, requests: Sequence[Request]) -> list[Generation]:
        """One :class:`Generation` per request, in order."""
        return self.generate_prepared(self.prepare(requests))

    def generate_prepared(self, prepared: object) -> list[Generation]:
        """Generate for prepared requests, batching those with equal params (at most ``MAX_BATCH_SIZE``)."""
        if not isinstance(prepared, PreparedRequests):
            raise TypeError(f"expected PreparedRequests, got {type(prepared).__name__}")
        items = prepared.items
        results: list[Generation | None] = [None] * len(items)
        ready: list[int] = []
        for index, item in enumerate(items):
            if item.error is not None:
                results[index] = Generation(text="", prompt=item.prompt, error=item.error)
            else:
                ready.append(index)
        for indices in batches([items[i].request for i in ready], MAX_BATCH_SIZE):
            batch = [items[ready[i]] for i in indices]
            for i, generation in zip(indices, self._generate_robust(batch), strict=True):
                results[ready[i]] = generation
        return [generation for generation in results if generation is not None]

    def _prepare_one(self, request: Request) -> PreparedRequest:
        """Tiles, prompts and token ids for one request; any failure becomes its error."""
        from evalkit.tiling import pixel_values

        try:
            parts = _image_parts(request)
            tensors = [pixel_values(part.image, max_tiles=part.max_tiles) for part in parts]
            tiles = tuple(int(tensor.shape[0]) for tensor in tensors)
            compact = render_compact_prompt(request.messages, tiles, self.system)
        except Exception as exc:
            return PreparedRequest(request, prompt=self._safe_prompt(request), error=_error_text(exc))
        try:
            full = render_internvl_prompt(request.messages, tiles, self.system, tokens_per_tile=self.tokens_per_tile)
            ids = tuple(int(token) for token in self.tokenizer(full)["input_ids"])
            expected = self.tokens_per_tile * sum(tiles)
            found = ids.count(self.img_context_token_id)
            if found != expected:
                raise ValueError(f"the prompt has {found} {IMG_CONTEXT} tokens, expected {expected}")
        except Exception as exc:
            return PreparedRequest(request, prompt=compact, tiles=tiles, error=_error_text(exc))
        pixels = None
        if tensors:
            import torch

            pixels = torch.cat(tensors) if len(tensors) > 1 else tensors[0]
        return PreparedRequest(request, prompt=compact, input_ids=ids, pixels=pixels, tiles=tiles)

    def _safe_prompt(self, request: Request) -> str:
        """The compact prompt, or "" when even that cannot be made (an unreadable image, say)."""
        try:
            return self.prompt(request)
        except Exception:
            return ""

    def _generate_robust(self, batch: list[PreparedRequest]) -> list[Generation]:
        """Generate for a batch; if it fails, retry each request alone and turn failures into errors."""
        try:
            return self._generate_batch(batch)
        except Exception as exc:  # a failure becomes the sample's error value
            if len(batch) == 1:
                return [Generation(text="", prompt=batch[0].prompt, error=_error_text(exc))]
        generations = []
        for item in batch:
            try:
                generations.extend(self._generate_batch([item]))
            except Exception as exc:
                generations.append(Generation(text="", prompt=item.prompt, error=_error_text(exc)))
        return generations

    def _generate_batch(self, batch: list[PreparedRequest]) -> list[Generation]:
        """One ``model.generate`` call: left-padded prompts, every request's tiles concatenated in order."""
        import torch

        width = max(len(item.input_ids) for item in batch)
        input_ids = torch.full((len(batch), width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, item in enumerate(batch):
            input_ids[row, width - len(item.input_ids):] = torch.tensor(item.input_ids, dtype=torch.long)
            attention_mask[row, width - len(item.input_ids):] = 1
        device = getattr(self.model, "device", self.device)
        pixels = [item.pixels for item in batch if item.pixels is not None]
        pixel_values = None
        if pixels:
            dtype = getattr(self.model, "dtype", torch.float32)
            pixel_values = torch.cat(pixels).to(device=device, dtype=dtype)
        params = batch[0].request.params
        self.model.img_context_token_id = self.img_context_token_id  # what chat() sets before generating
        with torch.inference_mode(), seeded(params, device):
            settings = generate_kwargs(params, pad_token_id=self.pad_token_id, eos_token_id=self.eos_token_id)
            output = self.model.generate(pixel_values=pixel_values, input_ids=input_ids.to(device),
                                         attention_mask=attention_mask.to(device), **settings)
        sequences = getattr(output, "sequences", output)
        if sequences.shape[0] != len(batch):
            raise RuntimeError(f"generate returned {sequences.shape[0]} outputs for {len(batch)} inputs")
        sequences = sequences.to("cpu")
        if sequences.shape[1] >= width and torch.equal(sequences[:, :width], input_ids):
            sequences = sequences[:, width:]  # a generate that echoes the prompt (the remote one does not)
        return [self._finish(item, row) for item, row in zip(batch, sequences.tolist(), strict=True)]

    def _finish(self, item: PreparedRequest, tokens: list[int]) -> Generation:
        """Cut at the first ``<|im_end|>``, decode skipping special tokens, cut the text again, strip."""
        end = tokens.index(self.eos_token_id) + 1 if self.eos_token_id in tokens else len(tokens)
        text = self.tokenizer.decode(tokens[:end], skip_special_tokens=True)
        usage = Usage(prompt_tokens=len(item.input_ids), completion_tokens=end)
        return Generation(text=cut_reply(str(text)), prompt=item.prompt, usage=usage)


def tile_count(part: ImagePart) -> int:
    """How many tiles :func:`evalkit.tiling.pixel_values` gives ``part``, without resizing it."""
    from evalkit.tiling import choose_grid

    cols, rows = choose_grid(part.image.width, part.image.height, max_tiles=part.max_tiles)
    return cols * rows + (1 if cols * rows > 1 else 0)


def _load_pretrained(model_id: str, revision: str | None, dtype: Any, device_map: str | None) -> tuple[Any, Any]:
    """The remote-code model (``AutoModel``) and the slow tokenizer, as the paper's scripts load them."""
    from transformers import AutoModel, AutoTokenizer

    extra: dict[str, Any] = {"device_map": device_map} if device_map else {}
    tokenizer = AutoTokenizer.from_pretrained(model_id, revision=revision, trust_remote_code=True, use_fast=False)
    model = AutoModel.from_pretrained(model_id, revision=revision, trust_remote_code=True, low_cpu_mem_usage=True,
                                      **dtype_keyword(dtype), **extra)
    return model, tokenizer


def _image_parts(request: Request) -> list[ImagePart]:
    """Every image of the request, in order (the tiling converts each to RGB)."""
    return [part for message in request.messages for part in message.images]


def _token_id(tokenizer: Any, token: str) -> int:
    """The id of a special token the template needs; a tokenizer without it cannot run InternVL."""
    token_id = tokenizer.convert_tokens_to_ids(token)
    unk = getattr(tokenizer, "unk_token_id", None)
    if not isinstance(token_id, int) or (unk is not None and token_id == unk):
        raise ValueError(f"the tokenizer has no {token} token")
    return token_id


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {one_line(exc)}"


def _check(request: LoadRequest, options: NoOptions) -> None:
    check_environment(request.spec, parse_hf_target(request.target)[0],
                      trust_remote_code=request.options.trust_remote_code)


def _load(request: LoadRequest, options: NoOptions) -> InternVLAdapter:
    model_id, revision = parse_hf_target(request.target)
    return InternVLAdapter.load(model_id, name=request.spec, revision=revision, device=request.options.device,
                                dtype=request.options.dtype, trust_remote_code=request.options.trust_remote_code)


def _placement(request: LoadRequest, options: NoOptions) -> Placement:
    return Placement(*torch_placement(request.options.device, request.options.dtype, request.spec))


BACKEND = Backend(name="internvl", usage="internvl:<id or folder>[@revision]", short="internvl:<id>",
                  summary="InternVL-Chat checkpoints through their own code, dynamic tiling (needs "
                          "--trust-remote-code and the internvl extra)", load=_load, check=_check)

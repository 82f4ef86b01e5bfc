"""The reference side of the InternVL-Chat-V1.5 checks: the checkpoint's own ``chat()``, called as InternVL's eval
scripts at the paper's commit (83c72bc, ``internvl_chat/eval/``) call it.

The checkpoint is ``../shared/fixtures/internvl-chat-v1-5-tiny``: random weights, InternVL-Chat-V1.5's real remote
code. It is loaded here as the scripts load it (``AutoModel`` with ``torch_dtype=``, the slow ``AutoTokenizer``),
independently of evalkit's loading. The question text is built the way each script builds it, from the same rows
of the same data file; the pixels come from :func:`reference_tiles`, InternVL 1.5's ``dynamic_preprocess`` +
``build_transform`` written here afresh from their definition with torchvision's transforms, at the script's
``max_num`` (not from :mod:`evalkit.tiling`, so that the two sides share no code).
"""

from __future__ import annotations

import ast
import base64
import contextlib
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
from PIL import Image

from evalkit.models.internvl_checkpoint import CHECKPOINT_CODE
from evalkit.models.transformers_compat import missing_modules, transformers_version

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO.parent / "shared" / "fixtures" / "internvl-chat-v1-5-tiny"

#: InternVL's prompts at 83c72bc: evaluate_vqa.py's base_prompt, evaluate_mmbench.py's and evaluate_mmmu.py's.
SHORT_ANSWER = "Answer the question using a single word or phrase."
CHOICE = {"en": "Answer with the option's letter from the given choices directly.", "cn": "请直接回答选项字母。"}


def checkpoint_code_runs_here() -> bool:
    """Whether this environment can run the checkpoint's code (the ``internvl`` extra is installed)."""
    return (transformers_version() in CHECKPOINT_CODE.transformers
            and not missing_modules(CHECKPOINT_CODE.modules))


needs_fixture = pytest.mark.skipif(not FIXTURE.is_dir(), reason=f"{FIXTURE} is absent (outside this repository's CI)")
needs_checkpoint_code = pytest.mark.skipif(
    not checkpoint_code_runs_here(),
    reason=f"InternVL-Chat-V1.5's code needs transformers {CHECKPOINT_CODE.transformers}, timm, einops and "
           f"sentencepiece (this environment: transformers {transformers_version()}); .ci/run runs these tests "
           "in its second environment, made with the internvl extra")


@dataclass
class Reference:
    """The checkpoint loaded as InternVL's eval scripts load it."""

    model: Any
    tokenizer: Any
    dtype: torch.dtype

    @classmethod
    def load(cls, dtype: torch.dtype) -> Reference:
        from transformers import AutoModel, AutoTokenizer

        model = AutoModel.from_pretrained(str(FIXTURE), torch_dtype=dtype, low_cpu_mem_usage=True,
                                          trust_remote_code=True).eval()
        tokenizer = AutoTokenizer.from_pretrained(str(FIXTURE), trust_remote_code=True, use_fast=False)
        return cls(model, tokenizer, dtype)

    def pixels(self, images: list[Image.Image], max_num: int) -> torch.Tensor:
        """Each image tiled at ``max_num`` and the tiles concatenated, in the model's dtype (``.cuda()`` skipped)."""
        return torch.cat([reference_tiles(image, max_num) for image in images]).to(self.dtype)

    def chat(self, pixels: torch.Tensor, question: str, config: dict[str, Any],
             history: list[tuple[str, str]] | None = None) -> tuple[str, list[tuple[str, str]], str]:
        """``model.chat(...)`` with ``return_history=True``: (reply, history, the query it printed or '')."""
        printed = io.StringIO()
        with on_cpu(), contextlib.redirect_stdout(printed), torch.inference_mode():
            reply, history = self.model.chat(self.tokenizer, pixels, question, dict(config), history=history,
                                             return_history=True)
        return reply, history, printed.getvalue()

    def chat_printing(self, pixels: torch.Tensor, question: str, config: dict[str, Any]) -> tuple[str, str]:
        """``model.chat(tokenizer, pixel_values, question, generation_config)`` exactly as the eval scripts call
        it: (reply, the prompt it printed with the image block written ``<image>``)."""
        printed = io.StringIO()
        with on_cpu(), contextlib.redirect_stdout(printed), torch.inference_mode():
            reply = self.model.chat(tokenizer=self.tokenizer, pixel_values=pixels, question=question,
                                    generation_config=dict(config))
        lines = printed.getvalue()
        header, _, rest = lines.partition("\n")
        assert header == f"dynamic ViT batch size: {pixels.shape[0]}"
        suffix = f" {reply}\n"
        assert rest.endswith(suffix), rest
        return reply, rest[: -len(suffix)]


@contextlib.contextmanager
def on_cpu() -> Iterator[None]:
    """``chat()`` moves its inputs with ``.cuda()``; on a CPU reference run that is a no-op."""
    original = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *args, **kwargs: self  # type: ignore[method-assign]
    try:
        yield
    finally:
        torch.Tensor.cuda = original  # type: ignore[method-assign]


def reference_tiles(image: Image.Image, max_num: int, size: int = 448) -> torch.Tensor:
    """InternVL 1.5's dynamic high resolution, from its definition: the grid of at most ``max_num`` tiles whose
    aspect ratio is closest to the image's (a tie goes to the later, larger grid when the image has more than
    half that grid's pixels), the image resized to the grid and cut row by row, plus a thumbnail when there is
    more than one tile; each tile through ``Resize((448, 448), BICUBIC)``, ``ToTensor``, ``Normalize``."""
    import torchvision.transforms as T
    from torchvision.transforms.functional import InterpolationMode

    width, height = image.size
    grids = sorted({(i, j) for n in range(1, max_num + 1) for i in range(1, n + 1) for j in range(1, n + 1)
                    if i * j <= max_num}, key=lambda grid: grid[0] * grid[1])
    best, best_diff = (1, 1), float("inf")
    for cols, rows in grids:
        diff = abs(width / height - cols / rows)
        if diff < best_diff:
            best, best_diff = (cols, rows), diff
        elif diff == best_diff and width * height > 0.5 * size * size * cols * rows:
            best = (cols, rows)
    cols, rows = best
    resized = image.resize((size * cols, size * rows))
    tiles = [resized.crop((c * size, r * size, (c + 1) * size, (r + 1) * size))
             for r in range(rows) for c in range(cols)]
    if len(tiles) > 1:
        tiles.append(image.resize((size, size)))
    transform = T.Compose([T.Lambda(lambda tile: tile.convert("RGB")),
                           T.Resize((size, size), interpolation=InterpolationMode.BICUBIC), T.ToTensor(),
                           T.Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))])
    return torch.stack([transform(tile) for tile in tiles])


def generation_config(max_new_tokens: int, min_new_tokens: int = 1) -> dict[str, Any]:
    """The scripts' ``generation_config``: ``num_beams=1``, greedy at ``temperature=0``."""
    return {"num_beams": 1, "max_new_tokens": max_new_tokens, "min_new_tokens": min_new_tokens,
            "do_sample": False, "temperature": 0.0}


def read_tsv(path: Path) -> pd.DataFrame:
    """A VLMEvalKit TSV as the scripts read it (pandas' defaults), an ``image`` cell that names another row's
    index (VLMEvalKit's way of not repeating the image of a rotated copy) replaced by that row's image."""
    frame = pd.read_csv(path, sep="\t")
    if "image" in frame:
        images = dict(zip(frame["index"].astype(str), frame["image"], strict=True))
        frame["image"] = [images.get(str(cell), cell) if len(str(cell)) <= 64 else cell for cell in frame["image"]]
    return frame


def decode_images(cell: str) -> list[Image.Image]:
    """The ``image`` cell: one base64 image, or a list of them written as a Python literal."""
    encoded = ast.literal_eval(cell) if cell.startswith("[") else [cell]
    return [Image.open(io.BytesIO(base64.b64decode(item))).convert("RGB") for item in encoded]


def present(value: Any) -> bool:
    return not (value is None or (isinstance(value, float) and math.isnan(value)))


def vqa_question(row: pd.Series) -> str:
    """evaluate_vqa.py: ``question + ' ' + prompt``."""
    return f"{row['question']} {SHORT_ANSWER}"


def mmbench_question(row: pd.Series, language: str) -> str:
    """evaluate_mmbench.py: hint, question, the options A-E present, then the prompt, joined by newlines."""
    question = str(row["question"])
    if "hint" in row and present(row["hint"]):
        question = f"{row['hint']}\n{question}"
    for letter in "ABCDE":
        if letter in row and present(row[letter]):
            question += f"\n{letter}. {row[letter]}"
    return f"{question}\n{CHOICE[language]}"


def mmmu_question(row: pd.Series) -> str:
    """evaluate_mmmu.py: the question, ``'\\n'`` + the ``A. choice`` lines when there are choices, ``'\\n'`` + the
    prompt for the question type, stripped."""
    choices = [f"{letter}. {str(row[letter]).strip()}" for letter in "ABCDEFGHI"
               if letter in row and present(row[letter])]
    question = str(row["question"]).strip()
    if choices:
        question += "\n" + "\n".join(choices)
    question += "\n" + (CHOICE["en"] if choices else SHORT_ANSWER)
    return question.strip()

"""ConvBench judge messages: the official prompt texts and the message lists built from them.

The texts live under ``evalkit/judge/prompts/convbench_*.txt`` and are byte-exact copies of
``shirlyliu64/ConvBench``:

* ``convbench_pairwise_<turn>_{system,user,assistant}.txt``: ``_PROMPT_{SYSTEM,USER,ASSISTANT}_PAIRWISE_V1_MT_<turn>``
  and ``convbench_direct_<turn>_*.txt``: ``_PROMPT_*_SINGLE_ANSWER_WITH_REFERENCE_V1_MT_<turn>``, from ``prompts.py``
  (stored at the repository root, commit 3419429; ``ConvBenchEval/convbencheval.py`` imports it as ``prompts``).
* ``convbench_answer_extraction_*``: ``_PROMPT_SYSTEM_ANSWER_EXTRACTION_V1`` and the three
  ``_ICL_SYSTEM_ANSWER_EXTRACTION_V1`` (example, reply) pairs; ``convbench_rating_extraction_*``: the
  ``..._FOR_SINGLE_ANSWER`` counterparts.
* ``convbench_pairwise_content_<turn>.txt``: the ``user_content`` format strings of ``generate_request`` in
  ``ConvBenchEval/convbencheval.py`` (commit 1bcb14a), ``{}`` placeholders filled positionally as there.

Quirks kept on purpose (they are in the official bytes): "Assistant A’s" with U+2019; the A side says
"### The third question from user:" and the B side "###The third turn question from user:"; the turn and
overall evaluations are joined by ".\\n The second turn evaluation"; the judge's turn texts are inserted whole.

``convbench_direct_content_*_evalkit.txt`` are NOT official: ConvBench publishes the direct-grading prompts but
no driver, so the user message that carries the conversation, the references and the focus points is evalkit's
reconstruction in the style of the pairwise one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from evalkit.judge.base import ChatMessage

TURNS = ("first_turn", "second_turn", "third_turn", "overall_conversation")
EXTRACTION_SUFFIX = "\nPlease extract the final answer from the above text."
_ROLES = ("system", "user", "assistant")


@cache
def prompt_text(name: str) -> str:
    """One prompt file's exact text (read as bytes, decoded as UTF-8: no newline translation)."""
    return (resources.files("evalkit.judge") / "prompts" / name).read_bytes().decode("utf-8")


@dataclass(frozen=True)
class Conversation:
    """What the judge sees of one ConvBench conversation: every text already a string."""

    caption: str
    instructions: tuple[str, str, str]
    model: tuple[str, str, str]
    human: tuple[str, str, str]
    demands: str


def _preamble(kind: str, turn: str) -> list[ChatMessage]:
    system, user, assistant = (prompt_text(f"convbench_{kind}_{turn}_{role}.txt") for role in _ROLES)
    return [{"role": "system", "content": system}, {"role": "user", "content": user},
            {"role": "assistant", "content": assistant}]


def pairwise_messages(turn: str, conv: Conversation, side: int, evaluations: Sequence[str] = ()) -> list[ChatMessage]:
    """``generate_request``: [system, user instruction, assistant acknowledgement, the conversations].

    ``side`` 0 puts the model as Assistant A and the human reference as B; 1 swaps them. ``evaluations``
    (the judge's three turn texts) are used by the overall-conversation call only.
    """
    first, second = (conv.model, conv.human) if side == 0 else (conv.human, conv.model)
    values = [conv.caption]
    for answers in (first, second):
        for instruction, answer in zip(conv.instructions, answers, strict=True):
            values += [instruction, answer]
    if turn == "third_turn":
        values.append(conv.demands)
    if turn == "overall_conversation":
        values.extend(evaluations)
    values.append(turn.replace("_", " "))  # turn_str.split("_")[1] + " " + turn_str.split("_")[2]
    content = prompt_text(f"convbench_pairwise_content_{turn}.txt").format(*values)
    return [*_preamble("pairwise", turn), {"role": "user", "content": content}]


def direct_messages(turn: str, conv: Conversation, evaluations: Sequence[str] = ()) -> list[ChatMessage]:
    """Direct grading of the model's side: official system/user/assistant texts, evalkit's content message."""
    values = [conv.caption]
    for instruction, reference, answer in zip(conv.instructions, conv.human, conv.model, strict=True):
        values += [instruction, reference, answer]
    if turn == "overall_conversation":
        template = "convbench_direct_content_overall_conversation_evalkit.txt"
        values.extend(evaluations)
    elif turn == "third_turn":
        template = "convbench_direct_content_third_turn_evalkit.txt"
        values += [conv.demands, turn.replace("_", " ")]
    else:
        template = "convbench_direct_content_turn_evalkit.txt"
        values.append(turn.replace("_", " "))
    content = prompt_text(template).format(*values)
    return [*_preamble("direct", turn), {"role": "user", "content": content}]


def _few_shot(kind: str, text: str) -> list[ChatMessage]:
    messages: list[ChatMessage] = [{"role": "system", "content": prompt_text(f"convbench_{kind}_system.txt")}]
    for number in (1, 2, 3):
        example = prompt_text(f"convbench_{kind}_example_{number}.txt")
        messages.append({"role": "user", "content": example + EXTRACTION_SUFFIX})
        messages.append({"role": "assistant", "content": prompt_text(f"convbench_{kind}_reply_{number}.txt")})
    messages.append({"role": "user", "content": text + EXTRACTION_SUFFIX})
    return messages


def answer_extraction_messages(evaluation: str) -> list[ChatMessage]:
    """``generate_parsing_answer_request``: FinalAnswerExtractionGPT, three worked examples, then the judge's text."""
    return _few_shot("answer_extraction", evaluation)


def rating_extraction_messages(evaluation: str) -> list[ChatMessage]:
    """The same few-shot layout with the ``..._FOR_SINGLE_ANSWER`` texts (no official driver uses them)."""
    return _few_shot("rating_extraction", evaluation)

"""The judge fallback of VLMEvalKit's multiple-choice matching.

Official definition: ``open-compass/VLMEvalKit`` ``vlmeval/evaluate/multiple_choice.py`` (2024-04) and
``vlmeval/dataset/utils/multiple_choice.py`` (HEAD): ``build_prompt``, ``build_prompt_cn``,
``build_option_str`` (``vlmeval/smp``), ``extract_answer_from_item``. The prompt
text is the same at both commits and is reproduced byte for byte below.

Quirks reproduced on purpose:
- The Chinese prompt is chosen when the *question* (not the reply) has a
  character in U+4E00–U+9FFF (``cn_string``); the hint is not part of it.
- The template appends ``?`` to the question even when it already ends in one.
- A judge reply is read with the same ``can_infer`` as the model's reply; a
  reply containing "Failed to obtain answer via API", one where no single
  option is found, and a :class:`~evalkit.judge.base.JudgeError` each use up
  one of the 3 tries.
- After 3 failed tries VLMEvalKit draws a random option from the letters
  *plus* ``Z`` (``list(choices) + ['Z'] if 'Z' not in choices else []``). evalkit
  seeds that draw per sample (``random.Random(f"{seed}:{index}")``) and flags it
  with method ``random``. Where ``Z`` is itself an option (VLMEvalKit would
  crash drawing from ``[]``) the draw is over the letters.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping

from evalkit.data.sample import Sample
from evalkit.judge.base import Judge, JudgeError
from evalkit.scoring.types import Extraction, ScoringContext

ChoiceMatcher = Callable[[str, Mapping[str, str]], str | None]

TRIES = 3
JUDGE_TEMPERATURE = 0.0
JUDGE_MAX_TOKENS = 512
API_FAILURE = "Failed to obtain answer via API"

PROMPT_EN = (
    "You are an AI assistant who will help me to match "
    "an answer with several options of a single-choice question. "
    "You are provided with a question, several options, and an answer, "
    "and you need to find which option is most similar to the answer. "
    "If the meaning of all options are significantly different from the answer, output Z. "
    "Your should output a single uppercase character in A, B, C, D (if they are valid options), and Z. \n"
    "Example 1: \n"
    "Question: What is the main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\n"
    "Answer: a cute teddy bear\nYour output: A\n"
    "Example 2: \n"
    "Question: What is the main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\n"
    "Answer: Spider\nYour output: Z\n"
    "Example 3: \n"
    "Question: {}?\nOptions: {}\nAnswer: {}\nYour output: "
)

PROMPT_CN = (
    "你是一个帮助我匹配答案与单选题中多个选项的 AI 助手。"
    "你会被提供：一个问题，多个选项，一个答案。你的任务是找到与答案意义最相近的选项。"
    "如果所有选项的意义都与答案显著不同，则输出 Z。"
    "你应该输出一个单个的大写字母，例如 A, B, C, D（如果它们是有效选项），或 Z。"
    "例 1:"
    "问题: 图中最主要的物体是什么?\n选项: A. 泰迪熊 B. 兔子 C. 猫 D. 狗\n答案: 一只可爱的泰迪熊\n输出: A\n"
    "例 2: \n"
    "问题: 图中最主要的物体是什么?\n选项: A. 泰迪熊 B. 兔子 C. 猫 D. 狗\n答案: 蜘蛛\n输出: Z\n"
    "例 3: \n"
    "问题: {}?\n选项: {}\n答案: {}\n输出: "
)

_CJK = re.compile("[\u4e00-\u9fff]")


def option_block(choices: Mapping[str, str]) -> str:
    """VLMEvalKit ``build_option_str``: a header line, then ``{letter}. {text}`` and a newline per option."""
    return "There are several options: \n" + "".join(f"{letter}. {text}\n" for letter, text in choices.items())


def build_prompt(question: str, choices: Mapping[str, str], prediction: str) -> str:
    """The matching prompt, Chinese when the question has a CJK character (``cn_string``)."""
    template = PROMPT_CN if _CJK.search(question) else PROMPT_EN
    return template.format(question, option_block(choices), prediction)


def random_letter(sample: Sample, choices: Mapping[str, str], seed: int) -> str:
    """VLMEvalKit's last resort, seeded per sample: a letter or ``Z``, the same draw on every run."""
    letters = list(choices)
    pool = [*letters, "Z"] if "Z" not in letters else letters
    return random.Random(f"{seed}:{sample.index}").choice(pool)


def _ask(judge: Judge, prompt: str) -> str | None:
    try:
        return judge.complete(
            [{"role": "user", "content": prompt}], temperature=JUDGE_TEMPERATURE, max_tokens=JUDGE_MAX_TOKENS
        )
    except JudgeError:
        return None


def judge_choice(
    prediction: str, sample: Sample, choices: Mapping[str, str], ctx: ScoringContext, matcher: ChoiceMatcher
) -> Extraction:
    """Ask ``ctx.judge`` which option the reply means (3 tries), else the seeded random draw.

    Returns method ``judge`` (the value is the letter or ``Z``; the note keeps
    the judge's reply) or ``random`` (flagged in the note). Without a judge the
    value is None with method ``none``.
    """
    judge = ctx.judge
    if judge is None:
        return Extraction(None, "none", "no judge")
    prompt = build_prompt(sample.question, choices, prediction)
    failures: list[str] = []
    for _ in range(TRIES):
        reply = _ask(judge, prompt)
        if reply is None:
            failures.append("judge error")
            continue
        if API_FAILURE in reply:
            failures.append("API failure")
            continue
        found = matcher(reply, choices)
        if found:
            return Extraction(found, "judge", f"judge reply: {reply[:200]}")
        failures.append(f"no option in {reply[:60]!r}")
    letter = random_letter(sample, choices, ctx.seed)
    return Extraction(letter, "random", "random draw after 3 failed judge tries: " + "; ".join(failures))

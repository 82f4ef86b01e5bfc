"""InternVL-Chat-V1.5's prompt: golden strings for the internlm2-chat layout and the image block."""

from __future__ import annotations

import pytest
from PIL import Image

from evalkit.models.base import ImagePart, Message, TextPart
from evalkit.models.internvl_prompt import (
    INTERNVL2_SYSTEM_LINE,
    PAPER_SYSTEM_LINE,
    TEMPLATE_NAME,
    compact_prompt,
    count_image_tokens,
    cut_reply,
    image_block,
    render_compact_prompt,
    render_internvl_prompt,
    template_system_line,
)

SYS = "<|im_start|>system\nYou are an AI assistant whose name is InternLM (书生·浦语).<|im_end|>"
CTX = "<IMG_CONTEXT>"


def _image() -> ImagePart:
    return ImagePart(Image.new("RGB", (8, 8)), max_tiles=6)


def _user(*parts: str | ImagePart) -> Message:
    return Message("user", tuple(TextPart(p) if isinstance(p, str) else p for p in parts))


def _assistant(text: str) -> Message:
    return Message("assistant", (TextPart(text),))


def test_constants_are_the_exact_lines() -> None:
    assert TEMPLATE_NAME == "internlm2-chat"
    assert PAPER_SYSTEM_LINE == "You are an AI assistant whose name is InternLM (书生·浦语)."
    assert INTERNVL2_SYSTEM_LINE == (
        "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, 是一个有用无害的人工智能助手。"
    )


@pytest.mark.parametrize(("tiles", "tokens"), [(1, 256), (7, 1792), (25, 6400)])
def test_one_image_golden(tiles: int, tokens: int) -> None:
    prompt = render_internvl_prompt([_user(_image(), "What is this?")], [tiles], PAPER_SYSTEM_LINE)
    expected = (
        "<|im_start|>system\nYou are an AI assistant whose name is InternLM (书生·浦语).<|im_end|>"
        "<|im_start|>user\n<img>" + CTX * tokens + "</img>\nWhat is this?<|im_end|>"
        "<|im_start|>assistant\n"
    )
    assert prompt == expected
    assert count_image_tokens(prompt) == tokens
    assert prompt.count("<img>") == prompt.count("</img>") == 1


def test_default_system_is_the_paper_line() -> None:
    assert render_internvl_prompt([_user("Hi")], []) == f"{SYS}<|im_start|>user\nHi<|im_end|><|im_start|>assistant\n"


def test_no_newline_after_im_end() -> None:
    prompt = render_internvl_prompt([_user(_image(), "Q")], [1])
    assert "<|im_end|>\n" not in prompt
    assert prompt.endswith("<|im_end|><|im_start|>assistant\n")


def test_several_images_share_one_block_of_all_tiles() -> None:
    """V1.5's chat: the tiles of every image concatenated, one block of 256 x total tiles."""
    prompt = render_internvl_prompt([_user(_image(), _image(), "Compare them.")], [1, 7])
    assert prompt == f"{SYS}<|im_start|>user\n<img>{CTX * 2048}</img>\nCompare them.<|im_end|><|im_start|>assistant\n"


def test_image_after_text_still_leads_the_turn() -> None:
    """chat() prepends the block to the question whatever the part order."""
    assert render_internvl_prompt([_user("Q", _image())], [1]) == render_internvl_prompt([_user(_image(), "Q")], [1])


def test_text_parts_are_joined_with_newlines() -> None:
    prompt = render_internvl_prompt([_user(_image(), "Question?", "Answer briefly.")], [1])
    assert prompt.endswith("</img>\nQuestion?\nAnswer briefly.<|im_end|><|im_start|>assistant\n")


def test_multi_turn_golden_block_only_in_first_turn() -> None:
    messages = [_user(_image(), "Q1"), _assistant("A1"), _user("Q2"), _assistant("A2"), _user("Q3")]
    prompt = render_internvl_prompt(messages, [1])
    assert prompt == (
        f"{SYS}<|im_start|>user\n<img>{CTX * 256}</img>\nQ1<|im_end|>"
        "<|im_start|>assistant\nA1<|im_end|>"
        "<|im_start|>user\nQ2<|im_end|>"
        "<|im_start|>assistant\nA2<|im_end|>"
        "<|im_start|>user\nQ3<|im_end|>"
        "<|im_start|>assistant\n"
    )


def test_empty_earlier_reply_keeps_the_reference_quirk() -> None:
    """The template closes only non-empty messages: an empty reply is its role prefix alone."""
    prompt = render_internvl_prompt([_user("Q1"), _assistant(""), _user("Q2")], [])
    assert prompt == (
        f"{SYS}<|im_start|>user\nQ1<|im_end|><|im_start|>assistant\n"
        "<|im_start|>user\nQ2<|im_end|><|im_start|>assistant\n"
    )


def test_image_only_turn_keeps_its_newline() -> None:
    assert render_internvl_prompt([_user(_image())], [1]).endswith(f"{CTX}</img>\n<|im_end|><|im_start|>assistant\n")


def test_system_argument_and_system_message() -> None:
    own = render_internvl_prompt([_user("Hi")], [], INTERNVL2_SYSTEM_LINE)
    assert own.startswith(f"<|im_start|>system\n{INTERNVL2_SYSTEM_LINE}<|im_end|><|im_start|>user\n")
    override = render_internvl_prompt([Message("system", (TextPart("Be brief."),)), _user("Hi")], [])
    assert override == "<|im_start|>system\nBe brief.<|im_end|><|im_start|>user\nHi<|im_end|><|im_start|>assistant\n"


def test_compact_prompt_matches_what_chat_prints() -> None:
    messages = [_user(_image(), _image(), "Q")]
    full = render_internvl_prompt(messages, [3, 5])
    compact = render_compact_prompt(messages, [3, 5])
    assert compact == f"{SYS}<|im_start|>user\n<image>\nQ<|im_end|><|im_start|>assistant\n"
    assert compact_prompt(full) == compact


@pytest.mark.parametrize(
    ("messages", "tiles", "match"),
    [
        ([_user(_image(), "Q")], [], "1 images but 0 tile counts"),
        ([_user("Q")], [2], "0 images but 1 tile counts"),
        ([_user(_image(), "Q")], [0], "at least one tile"),
        ([Message("assistant", (_image(), TextPart("A"))), _user("Q")], [1], "only allowed in user messages"),
    ],
)
def test_inconsistent_inputs_are_refused(messages: list[Message], tiles: list[int], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        render_internvl_prompt(messages, tiles)


def test_image_block() -> None:
    assert image_block(2, tokens_per_tile=3) == "<img>" + CTX * 6 + "</img>"
    with pytest.raises(ValueError):
        image_block(1, tokens_per_tile=0)


@pytest.mark.parametrize(
    ("decoded", "reply"),
    [(" Paris <|im_end|>junk", "Paris"), ("B\n", "B"), ("", ""), ("a<|im_end|>b<|im_end|>", "a")],
)
def test_cut_reply(decoded: str, reply: str) -> None:
    assert cut_reply(decoded) == reply


PAPER_ERA_CONVERSATION = '''
register_conv_template(
    Conversation(
        name='Hermes-2',
        system_template='<|im_start|>system\\n{system_message}',
        system_message='Answer the questions.',
        sep='<|im_end|>',
    )
)

register_conv_template(
    Conversation(
        name='internlm2-chat',
        system_template='<|im_start|>system\\n{system_message}',
        system_message='You are an AI assistant whose name is InternLM (书生·浦语).',
        sep='<|im_end|>',
    )
)
'''

LATER_CONVERSATION = '''
internlm2_chat = Conversation(
    name="internlm2-chat",
    system_template="<|im_start|>system\\n{system_message}",
    # system_message="a commented-out line is not the line",
    system_message=(
        "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，"
        "英文名叫InternVL, 是一个有用无害的人工智能助手。"
    ),
)
register_conv_template(internlm2_chat)
'''


def test_template_system_line_is_read_without_running_the_file() -> None:
    assert template_system_line(PAPER_ERA_CONVERSATION) == PAPER_SYSTEM_LINE
    assert template_system_line(PAPER_ERA_CONVERSATION, "Hermes-2") == "Answer the questions."
    assert template_system_line(LATER_CONVERSATION) == INTERNVL2_SYSTEM_LINE
    assert template_system_line(LATER_CONVERSATION, "phi3-chat") is None
    assert template_system_line("def broken(:\n") is None
    assert template_system_line("import os\nos.system('echo never run')\n") is None

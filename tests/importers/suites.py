"""Six suites as both tools see them: VLMEvalKit's TSV rows, and the lmms-eval task rows with a model's replies.

Each :class:`SuiteCase` holds the TSV rows (VLMEvalKit's columns, small PNGs), what a VLMEvalKit model replied
per row, and per lmms-eval task the dataset rows in the order of that task's Hugging Face split (``doc_id`` is
the position) with the reply lmms-eval logged, and the row of the TSV each one is (None: no row, or several).
Covered: a short answer suite (DocVQA_VAL), MCQ with CircularEval (MMBench_DEV_EN), yes/no (MME), MathVista,
RefCOCO and MMMU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.data.fixtures import BLUE, GREEN, RED, b64

NAN = float("nan")


@dataclass(frozen=True)
class TaskDoc:
    """One row of an lmms-eval task's split (after its ``process_docs``), the reply, and its TSV index."""

    doc: dict[str, Any]
    reply: str
    index: Any = None


@dataclass(frozen=True)
class SuiteCase:
    name: str
    rows: list[dict[str, Any]]
    vlmevalkit_replies: dict[Any, str]
    tasks: dict[str, list[TaskDoc]] = field(default_factory=dict)


def docvqa() -> SuiteCase:
    question = "What is the date on the letter?"
    rows = [
        {"index": 0, "image": b64(RED), "question": "What is the invoice number?", "answer": "['59877']"},
        {"index": 1, "image": b64(GREEN), "question": "What is the total amount due?",
         "answer": "['$731.84', '731.84']"},
        {"index": 2, "image": b64(BLUE), "question": question, "answer": "['June 1, 1976']"},
        {"index": 3, "image": b64(RED), "question": question, "answer": "['June 1, 1976']"},
        {"index": 4, "image": b64(GREEN), "question": question, "answer": "['May 3, 1980']"},
    ]
    docs = [
        TaskDoc({"questionId": 49153, "question": question, "question_types": ["handwritten"], "docId": 14465,
                 "ucsf_document_id": "txpp0227", "ucsf_document_page_no": "10", "answers": ["May 3, 1980"],
                 "data_split": "val"}, "May 3, 1980", 4),
        TaskDoc({"questionId": 24581, "question": "What is the invoice number?", "question_types": ["form"],
                 "docId": 1, "ucsf_document_id": "nkbl0226", "ucsf_document_page_no": "1", "answers": ["59877"],
                 "data_split": "val"}, "59877", 0),
        TaskDoc({"questionId": 57349, "question": question, "question_types": ["layout"], "docId": 2,
                 "ucsf_document_id": "mxcj0037", "ucsf_document_page_no": "2", "answers": ["June 1, 1976"],
                 "data_split": "val"}, "June 1, 1976", None),
        TaskDoc({"questionId": 51281, "question": "What is the total amount due?", "question_types": ["table"],
                 "docId": 3, "ucsf_document_id": "ffbf0023", "ucsf_document_page_no": "4",
                 "answers": ["$731.84", "731.84"], "data_split": "val"}, "$731.84 ", 1),
    ]
    replies = {0: "59877", 1: "731.84", 2: "June 1, 1976", 3: "June 2, 1976", 4: "May 1980"}
    return SuiteCase("DocVQA_VAL", rows, replies, {"docvqa_val": docs})


MMBENCH_QUESTIONS = [
    (1, "What colour is the square?", "The picture shows toy blocks.", ["red", "green", "blue"], "A"),
    (2, "How many circles are there?", NAN, ["1", "2", "3", "4"], "B"),
]


def _rotations(options: list[str], answer: str) -> list[tuple[list[str], str]]:
    """CircularEval's copies: the options rotated one step per copy, the answer letter following its option."""
    right = options["ABCD".index(answer)]
    copies = []
    for step in range(len(options)):
        rotated = options[step:] + options[:step]
        copies.append((rotated, "ABCD"[rotated.index(right)]))
    return copies


def mmbench() -> SuiteCase:
    rows, docs = [], []
    for number, question, hint, options, answer in MMBENCH_QUESTIONS:
        for copy, (rotated, letter) in enumerate(_rotations(options, answer)):
            index = number + copy * 1_000_000
            letters = {letter_: (rotated[i] if i < len(rotated) else NAN) for i, letter_ in enumerate("ABCD")}
            rows.append({"index": index, "image": b64(RED if number == 1 else BLUE), "question": question,
                         "hint": hint, **letters, "answer": letter, "category": "attribute_recognition",
                         "l2-category": "finegrained_perception (instance-level)", "split": "dev"})
            reply = letter if (number, copy) != (2, 3) else "A"
            doc = {"index": index, "question": question, "hint": "nan" if hint is NAN else hint, **{
                k: ("nan" if v is NAN else v) for k, v in letters.items()}, "answer": letter,
                "category": "attribute_recognition", "L2-category": "finegrained_perception (instance-level)",
                "split": "dev", "source": "scene"}
            docs.append(TaskDoc(doc, reply, index))
    docs.append(TaskDoc({**docs[0].doc, "index": 9, "question": "Not in the TSV?"}, "A", None))
    docs = [docs[i] for i in (3, 0, 6, 1, 4, 2, 5, 7)]
    replies = {row["index"]: ("A" if row["index"] == 3_000_002 else row["answer"]) for row in rows}
    return SuiteCase("MMBench_DEV_EN", rows, replies, {"mmbench_en_dev": docs})


def mme() -> SuiteCase:
    items = [("artwork/10002.jpg", "artwork", "Is this artwork created by Leonardo? Please answer yes or no.", "Yes"),
             ("artwork/10002.jpg", "artwork", "Is this artwork created by Monet? Please answer yes or no.", "No"),
             ("code_reasoning/0020.png", "code_reasoning", "Is the output of the code 12? Please answer yes or no.",
              "Yes"),
             ("code_reasoning/0020.png", "code_reasoning", "Is the output of the code 7? Please answer yes or no.",
              "No")]
    rows = [{"index": i, "image": b64(GREEN), "question": q, "answer": a, "category": c, "image_path": p}
            for i, (p, c, q, a) in enumerate(items)]
    replies = {0: "Yes", 1: "No", 2: "Yes", 3: "Yes"}
    docs = [TaskDoc({"question_id": p, "question": q, "answer": a, "category": c}, replies[i], i)
            for i, (p, c, q, a) in enumerate(items)]
    return SuiteCase("MME", rows, replies, {"mme": [docs[2], docs[0], docs[3], docs[1]]})


def mathvista() -> SuiteCase:
    items = [
        ("1", "As shown in the figure, what is the value of x (in degrees)?", "105", "multi_choice", "text",
         ["95", "105", "125", "115"], NAN),
        ("2", "What is the total volume of the measuring cup?", "1000", "free_form", "integer", None, NAN),
        ("3", "What is the slope of the line? Round to one decimal place.", "0.5", "free_form", "float", None, 1.0),
        ("4", "Is the triangle right-angled?", "Yes", "multi_choice", "text", ["Yes", "No"], NAN),
    ]
    rows, docs = [], {"mathvista_testmini_format": [], "mathvista_testmini_solution": [],
                      "mathvista_testmini_cot": []}
    for pid, question, answer, kind, answer_type, choices, precision in items:
        query = f"Hint: Please answer the question and provide the final answer at the end.\nQuestion: {question}"
        option = "ABCD"[choices.index(answer)] if choices else NAN
        rows.append({"index": int(pid), "image": b64(BLUE), "question": query, "answer": answer,
                     "question_type": kind, "answer_type": answer_type,
                     "choices": str(choices) if choices else NAN, "precision": precision,
                     "task": "geometry problem solving", "skills": "['algebraic reasoning']", "answer_option": option})
        doc = {"pid": pid, "question": question, "query": query, "choices": choices, "unit": None,
               "precision": None if precision is NAN else precision, "answer": answer, "question_type": kind,
               "answer_type": answer_type, "metadata": {"split": "testmini", "source": "Geometry3K"}}
        for task, style in (("mathvista_testmini_format", "The answer is {}."),
                            ("mathvista_testmini_solution", "Solution: ... so {}."),
                            ("mathvista_testmini_cot", "Step by step, {}.")):
            docs[task].append(TaskDoc(doc, style.format(answer), int(pid)))
    replies = {1: "105", 2: "1000 ml", 3: "0.5", 4: "Yes"}
    return SuiteCase("MathVista_MINI", rows, replies, docs)


REFCOCO_PROMPT = "Please provide the bounding box coordinate of the region this sentence describes: <ref>{}</ref>"
REFCOCO_ITEMS = [
    # TSV index, category, expression, pixel box, (width, height), lmms-eval task
    (0, "RefCOCO val", "man on left", [10, 20, 110, 220], (400, 300), "refcoco_bbox_rec_val"),
    (1, "RefCOCO testA", "man on left", [10, 20, 110, 220], (400, 300), "refcoco_bbox_rec_testA"),
    (2, "RefCOCO+ testA", "red shirt", [200, 40, 300, 280], (400, 300), "refcoco+_bbox_rec_testA"),
    (3, "RefCOCOg val", "the dog lying on the couch", [30, 150, 330, 290], (500, 320), "refcocog_bbox_rec_val"),
]


def grid_reply(box: list[int], size: tuple[int, int]) -> str:
    """A reply on InternVL's 0-1000 grid, a little off the box (IoU well above 0.5)."""
    width, height = size
    scaled = [box[0] / width, box[1] / height, box[2] / width, box[3] / height]
    return "[" + ", ".join(str(round(value * 1000) + 3) for value in scaled) + "]"


def refcoco() -> SuiteCase:
    rows, docs = [], {}
    for index, category, expression, box, (width, height), task in REFCOCO_ITEMS:
        rows.append({"index": index, "image": b64(RED), "question": REFCOCO_PROMPT.format(expression),
                     "answer": str(box), "width": width, "height": height, "category": category})
        fractions = [box[0] / width, box[1] / height, box[2] / width, box[3] / height]
        reply = "[" + ", ".join(f"{value + 0.01:.3f}" for value in fractions) + "]"
        doc = {"question_id": 1000 + index, "answer": expression, "bbox": fractions, "file_name": f"{index}.jpg",
               "image_width": width, "image_height": height}
        docs.setdefault(task, []).append(TaskDoc(doc, reply, index))
    docs["refcoco_bbox_rec_test"] = [TaskDoc({"question_id": 77, "answer": "man", "bbox": [0, 0, 0.5, 0.5],
                                              "file_name": "x.jpg", "image_width": 10, "image_height": 10},
                                             "[0, 0, 1, 1]", None)]
    replies = {f"{category.replace(' ', '_')}_{index}": grid_reply(box, size) for index, category, _, box, size, _
               in REFCOCO_ITEMS}
    return SuiteCase("RefCOCO", rows, replies, docs)


def mmmu() -> SuiteCase:
    rows = [
        {"index": 1, "id": "dev_Art_1", "image": b64(RED), "question": "<image 1> Who painted this?",
         "A": "Monet", "B": "Manet", "C": NAN, "D": NAN, "answer": "A", "split": "dev", "category": "Art",
         "question_type": "multiple-choice"},
        {"index": 2, "id": "validation_Art_1", "image": b64(GREEN), "question": "<image 1> Where is the sun?",
         "A": "Upper left", "B": "Upper right", "C": "Lower left", "D": NAN, "answer": "B",
         "split": "validation", "category": "Art", "question_type": "multiple-choice"},
        {"index": 3, "id": "validation_Math_2", "image": b64(BLUE), "question": "<image 1> How many sides?",
         "A": NAN, "B": NAN, "C": NAN, "D": NAN, "answer": "4", "split": "validation", "category": "Math",
         "question_type": "open"},
    ]
    docs = [
        TaskDoc({"id": "validation_Math_2", "question": "<image 1> How many sides?", "options": "[]",
                 "explanation": "", "img_type": "['Diagrams']", "answer": "4", "topic_difficulty": "Easy",
                 "question_type": "open", "subfield": "Geometry"}, "4", 3),
        TaskDoc({"id": "validation_Art_1", "question": "<image 1> Where is the sun?",
                 "options": "['Upper left', 'Upper right', 'Lower left']", "explanation": "",
                 "img_type": "['Paintings']", "answer": "B", "topic_difficulty": "Easy",
                 "question_type": "multiple-choice", "subfield": "Fine Arts"}, "B", 2),
        TaskDoc({"id": "validation_Biology_9", "question": "<image 1> Which cell?", "options": "['x', 'y']",
                 "explanation": "", "img_type": "['Diagrams']", "answer": "A", "topic_difficulty": "Hard",
                 "question_type": "multiple-choice", "subfield": "Cell Biology"}, "A", None),
    ]
    replies = {1: "A", 2: "B", 3: "5"}
    return SuiteCase("MMMU_DEV_VAL", rows, replies, {"mmmu_val": docs})


def all_cases() -> list[SuiteCase]:
    return [docvqa(), mmbench(), mme(), mathvista(), refcoco(), mmmu()]

"""Writers of the two tools' output folders, laid out as they lay them out (read from their code, not copied).

VLMEvalKit (``run.py``, ``vlmeval/smp/file.py``, ``vlmeval/inference.py``): a prediction file is the dataset's
rows without ``image`` plus ``prediction``, named ``<model>_<dataset>.<fmt>``; from 2024-11 it lives in a run
folder ``T…`` with links to it in the model folder, beside VLMEvalKit's evaluation outputs and checkpoints.

lmms-eval (``evaluator.py`` and ``loggers/evaluation_tracker.py`` at v0.2.0, v0.3.0, v0.4 and HEAD 75571cfe):
what each task's ``doc_to_text`` / ``doc_to_target`` / ``process_results`` give for a row, logged per version.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from tests.importers.suites import SuiteCase, TaskDoc

MODEL = "InternVL-Chat-V1-5"
MODEL_ARGS = "pretrained=lmms-lab/llava-onevision-qwen2-0.5b-ov,conv_template=qwen_1_5"
CHECKPOINT = "lmms-lab/llava-onevision-qwen2-0.5b-ov"
VLMEVALKIT_COMMIT = "e8e78f05"
GEN_KWARGS = {"max_new_tokens": 1024, "temperature": 0, "do_sample": False}


# ---------------------------------------------------------------------------------------------------------------
# VLMEvalKit


def prediction_frame(case: SuiteCase, replies: dict[Any, str] | None = None) -> pd.DataFrame:
    """The rows as VLMEvalKit's dataset holds them, without ``image``, plus ``prediction`` (``inference.py``)."""
    frame = pd.DataFrame(case.rows).drop(columns=["image"])
    if case.name == "RefCOCO":  # RefCOCODataset.load_data: split from category, composite index, pixel boxes
        frame["split"] = [category.replace(" ", "_") for category in frame["category"]]
        frame["dataset"] = frame["split"]
        boxes = [json.loads(answer) for answer in frame["answer"]]
        for position, column in enumerate(("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2")):
            frame[column] = [float(box[position]) for box in boxes]
        frame["index"] = [f"{split}_{index}" for split, index in zip(frame["split"], frame["index"], strict=True)]
    chosen = replies if replies is not None else case.vlmevalkit_replies
    frame["prediction"] = [chosen[index] for index in frame["index"]]
    return frame


def dump_prediction(frame: pd.DataFrame, path: Path) -> None:
    """VLMEvalKit's ``dump`` for the three table formats."""
    if path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif path.suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False, encoding="utf-8", quoting=csv.QUOTE_ALL)
    else:
        path.write_text(json.dumps(frame.to_dict("records"), ensure_ascii=False, indent=4), encoding="utf-8")


def _evaluation_outputs(run: Path, model: str, suite: str) -> None:
    """What VLMEvalKit's evaluation and inference leave beside a prediction file."""
    pd.DataFrame({"split": ["none"], "Overall": [0.5]}).to_csv(run / f"{model}_{suite}_acc.csv", index=False)
    pd.DataFrame({"index": [0], "hit": [1]}).to_excel(run / f"{model}_{suite}_exact_matching_result.xlsx",
                                                      index=False)
    (run / f"{model}_{suite}_PREV.pkl").write_bytes(b"\x80\x04N.")
    (run / f"01_{suite}.pkl").write_bytes(b"\x80\x04N.")


def _link(target: Path, link: Path, relative: bool) -> None:
    link.unlink(missing_ok=True)
    os.symlink(os.path.relpath(target, link.parent) if relative else target, link)


def write_vlmevalkit_run(root: Path, cases: Iterable[SuiteCase], *, layout: str, model: str = MODEL,
                         fmt: str = "xlsx", replies: dict[str, dict[Any, str]] | None = None,
                         stamp: str = "20260409-101500") -> Path:
    """One VLMEvalKit run of ``model`` under ``root`` (the work folder, ``outputs/``); returns the model folder.

    ``layout``: ``flat`` (until 2024-11), ``2024-11`` (``T<date>_G<commit>``, absolute links) or ``2026``
    (``T<date>-<time>``, ``status.json``, relative links).
    """
    model_folder = root / model
    model_folder.mkdir(parents=True, exist_ok=True)
    run = {"flat": model_folder, "2024-11": model_folder / f"T{stamp[:8]}_G{VLMEVALKIT_COMMIT}",
           "2026": model_folder / f"T{stamp}"}[layout]
    run.mkdir(exist_ok=True)
    if layout == "2026":
        status = {"eval_id": run.name, "created_at": "2026-04-09T10:15:00+08:00", "commit": VLMEVALKIT_COMMIT,
                  "argv": ["run.py", "--model", model], "pred_format": fmt, "eval_format": "csv"}
        (run / "status.json").write_text(json.dumps(status, indent=4), encoding="utf-8")
    for case in cases:
        path = run / f"{model}_{case.name}.{fmt}"
        dump_prediction(prediction_frame(case, (replies or {}).get(case.name)), path)
        _evaluation_outputs(run, model, case.name)
    if layout != "flat":  # run.py links every file of the run naming <model>_<dataset> (not the pickles)
        for path in sorted(run.iterdir()):
            if path.name == "status.json" or (path.name.startswith(f"{model}_") and not path.name.endswith(".pkl")):
                _link(path, model_folder / path.name, relative=layout == "2026")
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    (logs / f"{run.name}_{stamp}.log").write_text("[INFO] evaluation finished\n", encoding="utf-8")
    return model_folder


# ---------------------------------------------------------------------------------------------------------------
# lmms-eval: what the task code gives for one row


def _mmbench_prompt(doc: dict[str, Any]) -> str:
    options = "".join(f"\n{letter}. {doc[letter]}" for letter in "ABCD" if doc.get(letter, "nan") != "nan")
    hint = "" if doc["hint"] == "nan" else f"{doc['hint']}\n"
    return f"{hint}{doc['question']}{options}\nAnswer with the option's letter from the given choices directly."


def _mmbench(doc: dict[str, Any], reply: str, version: str) -> tuple[str, Any, dict[str, Any]]:
    record = {key: doc[key] for key in ("index", "question", "answer")} | {
        "prediction": reply.strip(), "hint": doc["hint"], "source": doc["source"], "split": doc["split"],
        "category": doc["category"], "L2-category": doc["L2-category"]}
    record |= {letter: doc.get(letter, "nan") for letter in "ABCDE"}
    return _mmbench_prompt(doc), doc["answer"], {"gpt_eval_score": record, "submission": dict(record)}


def _docvqa(doc: dict[str, Any], reply: str, version: str) -> tuple[str, Any, dict[str, Any]]:
    prompt = f"{doc['question']}\nAnswer the question using a single word or phrase."
    return prompt, doc["answers"], {"anls": 1.0 if reply.strip() in doc["answers"] else 0.0}


def _mme(doc: dict[str, Any], reply: str, version: str) -> tuple[str, Any, dict[str, Any]]:
    key = "mme_cognition_score" if doc["category"] == "code_reasoning" else "mme_perception_score"
    score = 1.0 if reply.strip().lower() == doc["answer"].lower() else 0.0
    return (f"{doc['question']}\nAnswer the question using a single word or phrase.", doc["answer"],
            {key: {"question_id": doc["question_id"], "category": doc["category"], "score": score}})


def _mathvista(doc: dict[str, Any], reply: str, version: str) -> tuple[str, Any, dict[str, Any]]:
    result = {"question_id": doc["pid"], "query": doc["query"], "choices": doc["choices"], "answer": doc["answer"],
              "extraction": reply.rstrip(".").split()[-1], "prediction": reply.strip(), "true_false": True,
              "question_type": doc["question_type"], "answer_type": doc["answer_type"],
              "precision": doc["precision"] or 0, "metadata": doc["metadata"]}
    name = "llm_as_judge_eval" if version in ("v0.4", "head") else "gpt_eval_score"
    return doc["query"], doc["answer"], {name: result, "submission": dict(result)}


REFCOCO_TEXT = ("Bounding box coordinates are specified in the format (top-left x, top-left y, bottom-right x, "
                "bottom-right y). All values are floating point numbers bounded between 0 and 1. Please provide the "
                "bounding box coordinate of the region this sentence describes: ")
REC_METRICS = ("IoU", "ACC@0.1", "ACC@0.3", "ACC@0.5", "ACC@0.7", "ACC@0.9", "Center_ACC")


def _refcoco(doc: dict[str, Any], reply: str, version: str) -> tuple[str, Any, dict[str, Any]]:
    predicted = [float(value) for value in reply.strip("[]").split(",")]
    record = {"answer": doc["answer"], "pred": predicted, "ann_id": doc["question_id"], "bbox": doc["bbox"]}
    return REFCOCO_TEXT + doc["answer"], doc["bbox"], {f"refcoco_{name}": dict(record) for name in REC_METRICS}


def _mmmu(doc: dict[str, Any], reply: str, version: str) -> tuple[str, Any, dict[str, Any]]:
    options = json.loads(doc["options"].replace("'", '"'))
    listed = "".join(f"\n{chr(65 + i)}. {option}" for i, option in enumerate(options))
    suffix = ("\nAnswer with the option's letter from the given choices directly." if options
              else "\nAnswer the question using a single word or phrase.")
    accuracy = {"id": doc["id"], "subdomain": doc["id"].split("_")[1], "question_type": doc["question_type"],
                "answer": doc["answer"], "parsed_pred": reply.strip()}
    metrics: dict[str, Any] = {"mmmu_acc": accuracy}
    if version == "head":
        metrics["mmmu_acc_pass_at_k"] = dict(accuracy)
    metrics["submission"] = {doc["id"]: reply.strip()}
    return doc["question"] + listed + suffix, doc["answer"], metrics


TASK_CODE: dict[str, Callable[[dict[str, Any], str, str], tuple[str, Any, dict[str, Any]]]] = {
    "docvqa_val": _docvqa, "mmbench_en_dev": _mmbench, "mme": _mme, "mmmu_val": _mmmu,
    "mathvista_testmini_format": _mathvista, "mathvista_testmini_solution": _mathvista,
    "mathvista_testmini_cot": _mathvista, "mathvista_testmini": _mathvista,
}
TASK_DATA = {"docvqa_val": ("lmms-lab/DocVQA", "DocVQA", "validation"), "mmbench_en_dev": ("lmms-lab/MMBench", "en",
             "dev"), "mme": ("lmms-lab/MME", None, "test"), "mmmu_val": ("lmms-lab/MMMU", None, "validation")}


def task_code(task: str) -> Callable[[dict[str, Any], str, str], tuple[str, Any, dict[str, Any]]]:
    return _refcoco if task.startswith("refcoco") else TASK_CODE[task]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# lmms-eval: the logged line, per version


def log_line(task: str, doc_id: int, item: TaskDoc, version: str) -> dict[str, Any]:
    """The sample as lmms-eval ``version`` writes it (v0.2, v0.3, v0.4 or head)."""
    prompt, target, metrics = task_code(task)(item.doc, item.reply, version)
    doc_hash = _hash(json.dumps(item.doc, indent=2, ensure_ascii=False))
    if version == "v0.2":
        return {"doc_id": doc_id, "target": target, "doc": item.doc, "arguments": [[prompt, doc_id, task, "test"]],
                "resps": [[item.reply]], "filtered_resps": [item.reply], **metrics}
    if version == "v0.3":
        saved = {key: value for key, value in item.doc.items() if "image" not in key}
        keys = {str(number): key for number, key in enumerate(GEN_KWARGS)}  # the tracker keeps only these
        return {"doc_id": doc_id, "doc": saved, "target": str(target), "arguments": keys,
                "resps": [[item.reply]], "filtered_resps": [item.reply], "doc_hash": doc_hash,
                "prompt_hash": _hash(prompt), "target_hash": _hash(str(target)), **metrics, "input": prompt}
    if version == "v0.4":
        return {"doc_id": doc_id, "target": str(target), "filtered_resps": [item.reply], "doc_hash": doc_hash,
                **metrics, "input": prompt}
    return {"doc_id": doc_id, "target": str(target), "filtered_resps": item.reply, "token_counts": [None],
            "doc_hash": doc_hash, **metrics, "input": prompt}


def _task_config(task: str) -> dict[str, Any]:
    path, name, split = TASK_DATA.get(task, ("lmms-lab/RefCOCO" if task.startswith("refcoco")
                                             else "AI4Math/MathVista", None, "testmini"))
    config = {"task": task, "dataset_path": path, "test_split": split, "output_type": "generate_until",
              "generation_kwargs": dict(GEN_KWARGS)}
    return config | ({"dataset_name": name} if name else {})


def results_document(tasks: list[str], version: str) -> dict[str, Any]:
    """The run's results file: per-task results and configs, the command line's settings, the tracker's facts."""
    document: dict[str, Any] = {
        "results": {task: {"alias": task} for task in tasks},
        "configs": {task: _task_config(task) for task in tasks},
        "versions": {task: "Yaml" for task in tasks},
        "n-samples": {task: {"original": 1, "effective": 1} for task in tasks},
    }
    settings = {"model": "llava_onevision", "model_args": MODEL_ARGS, "batch_size": "1", "device": "cuda",
                "limit": None, "bootstrap_iters": 100000, "gen_kwargs": ""}
    if version == "v0.2":
        return document | {"model_configs": settings, "git_hash": "0a1b2c3"}
    document |= {"config": settings, "git_hash": "75571cfe", "date": "20260101_120000",
                 "model_source": "llava_onevision", "model_name": CHECKPOINT,
                 "model_name_sanitized": CHECKPOINT.replace("/", "__"), "system_instruction": None,
                 "chat_template": None, "start_time": 1.0, "end_time": 2.0, "total_evaluation_time_seconds": "1.0"}
    if version == "head":
        document |= {"git_branch": "main", "lmms_eval_version": "main@75571cfe"}
    return document


def write_lmms_eval_logs(root: Path, cases: Iterable[SuiteCase], *, version: str,
                         stamp: str = "20260101_120000", tasks: Iterable[str] | None = None) -> Path:
    """One lmms-eval run with ``--log_samples --output_path root``; returns the folder holding its files."""
    logged = {task: docs for case in cases for task, docs in case.tasks.items()
              if tasks is None or task in set(tasks)}
    if version == "v0.2":
        sha = _hash(MODEL_ARGS)[:6]
        folder = root / f"{stamp[4:8]}_{stamp[9:13]}_model_outputs_llava_onevision_model_args_{sha}"
        folder.mkdir(parents=True)
        results = results_document(list(logged), version)
        (folder / "results.json").write_text(json.dumps(results, indent=4), encoding="utf-8")
        for task, docs in logged.items():
            lines = [log_line(task, doc_id, item, version) for doc_id, item in enumerate(docs)]
            document = {"args": {"model": "llava_onevision", "model_args": MODEL_ARGS, "tasks": ",".join(logged)},
                        "model_configs": results["configs"][task], "logs": lines, "time": stamp[4:13]}
            (folder / f"{task}.json").write_text(json.dumps(document, indent=4, ensure_ascii=False),
                                                 encoding="utf-8")
        return folder
    folder = root / CHECKPOINT.replace("/", "__")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stamp}_results.json").write_text(
        json.dumps(results_document(list(logged), version), indent=2, ensure_ascii=False), encoding="utf-8")
    for task, docs in logged.items():
        with (folder / f"{stamp}_samples_{task}.jsonl").open("a", encoding="utf-8") as handle:
            for doc_id, item in enumerate(docs):
                handle.write(json.dumps(log_line(task, doc_id, item, version), ensure_ascii=False) + "\n")
    return folder


def write_suite_tsvs(folder: Path, cases: Iterable[SuiteCase]) -> dict[str, Path]:
    """Each suite's TSV as VLMEvalKit serves it (``<suite>.tsv``, pandas, tab-separated)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in cases:
        paths[case.name] = folder / f"{case.name}.tsv"
        pd.DataFrame(case.rows).to_csv(paths[case.name], sep="\t", index=False)
    return paths

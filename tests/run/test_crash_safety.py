"""Crash safety, proven by killing real runs: SIGKILL at random moments, resume, compare with an uninterrupted run.

Every trial starts ``run_eval.py run`` into a fresh run directory, SIGKILLs it (single process: its whole process
group; torchrun: one rank), sometimes tears the last line of the prediction file by hand (what a crash in the
middle of a write leaves), resumes (a resume may be killed again) and finally runs to completion. Whatever the
moment of the kill, the finished folder must hold every sample exactly once, as whole JSON lines, with the records
and ``scores.json`` of the uninterrupted reference run. The moments are drawn from a seeded ``random.Random``;
where each kill landed depends on the machine's timing, so the assertions never do: a kill that lands before the
first write or after the run finished is a valid trial. ``COUNTS`` keeps where the kills landed, for
``test_enough_trials_were_run`` and docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from evalkit.models.tiny import ensure_tiny_random
from tests.run.test_runner import write_tsv
from tests.support.processes import pythonpath

REPO = Path(__file__).resolve().parents[2]
BENCHMARK = "DocVQA_VAL"
FIELDS = ("index", "instruction", "prompt", "prediction", "error")
ROWS = 24
SEED = 20240611
SINGLE_TRIALS = 20
TORCHRUN_TRIALS = 3
WORKERS = 2  # single-process trials run two at a time (the kills' timing shifts; the assertions do not care)
RUN_TIMEOUT = 150.0  # one command, killed and failed past this

#: Where the kills landed, across all trials (filled by the tests, checked by ``test_enough_trials_were_run``).
COUNTS: Counter[str] = Counter()


@dataclass(frozen=True)
class Reference:
    base: Path
    data: Path
    env: dict[str, str]
    records: dict[str, tuple[str, ...]]  # json(index) -> the FIELDS, each as JSON
    scores: bytes
    details: bytes
    duration: float  # seconds, the whole uninterrupted run
    first_write: float  # seconds from start to the first batch in predictions.jsonl
    last_write: float  # seconds from start to the last batch


def command(output: Path, data: Path, ranks: int, *extra: str) -> list[str]:
    args = ["run", "--model", "tiny-random", "--benchmarks", BENCHMARK, "--data-file", str(data), "--output",
            str(output), "--batch-size", "2", "--max-new-tokens", "6", "--no-progress", *extra]
    if ranks == 1:
        return [sys.executable, str(REPO / "run_eval.py"), *args]
    return [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(ranks), "--master-port", "0",
            str(REPO / "run_eval.py"), *args]


def start(ref: Reference, output: Path, ranks: int = 1, *extra: str) -> subprocess.Popen[bytes]:
    """Start a run in its own process group (so the group can be killed), its output in a log beside it."""
    log = output.with_name(output.name + ".log").open("ab")
    try:
        return subprocess.Popen(command(output, ref.data, ranks, *extra), cwd=ref.base, env=ref.env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()


def log_tail(output: Path) -> str:
    log = output.with_name(output.name + ".log")
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=RUN_TIMEOUT)


def wait_or_fail(proc: subprocess.Popen[bytes], output: Path) -> int:
    try:
        return proc.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        pytest.fail(f"{output}: the run did not finish in {RUN_TIMEOUT:.0f}s (hang?)\n{log_tail(output)}")


def complete(ref: Reference, output: Path, ranks: int = 1) -> None:
    """Run to completion (no kill); it must succeed."""
    proc = start(ref, output, ranks)
    rc = wait_or_fail(proc, output)
    assert rc == 0, f"{output}: exit status {rc}\n{log_tail(output)}"


def folder(output: Path) -> Path:
    return output / BENCHMARK


def complete_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


# --- kills -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Trigger:
    """When to kill: ``delay`` seconds after the start, or ``extra`` seconds after ``lines`` lines were written."""

    kind: str
    delay: float = 0.0
    lines: int = 0
    extra: float = 0.0

    def describe(self) -> str:
        if self.lines:
            return f"{self.kind}: {self.lines} lines + {self.extra * 1000:.1f} ms"
        return f"{self.kind}: {self.delay:.3f} s"


KINDS = ("startup", "timed", "lines", "end", "timed", "lines")


def draw_trigger(rng: random.Random, kind: str, ref: Reference) -> Trigger:
    """A random moment of the given kind. Inference is a small slice of a run (the start-up, importing torch and
    loading the model, dominates), so ``lines`` and ``end`` kills aim at it, and at its end, by watching the
    file rather than the clock (the trials run two at a time, slower than the reference)."""
    if kind == "startup":
        return Trigger(kind, delay=rng.uniform(0.0, ref.first_write))
    if kind == "timed":
        return Trigger(kind, delay=rng.uniform(0.0, 1.1 * ref.duration))
    if kind == "lines":
        return Trigger(kind, lines=rng.randrange(1, ROWS), extra=rng.uniform(0.0, 0.012))
    if kind == "end":  # once every sample is written: scoring, the report, the exit
        return Trigger(kind, lines=ROWS, extra=rng.uniform(0.0, 1.2 * (ref.duration - ref.last_write)))
    raise ValueError(kind)


def kill_when(proc: subprocess.Popen[bytes], trigger: Trigger, watched: Path, started: float,
              output: Path) -> bool:
    """SIGKILL the process group at ``trigger``; return True if the run had already exited by itself."""
    fire_at = started + trigger.delay if not trigger.lines else None
    deadline = started + RUN_TIMEOUT
    while True:
        if proc.poll() is not None:
            return True
        now = time.monotonic()
        if fire_at is None and complete_lines(watched) >= trigger.lines:
            fire_at = now + trigger.extra
        if fire_at is not None and now >= fire_at:
            kill_group(proc)
            return False
        if now > deadline:
            kill_group(proc)
            pytest.fail(f"{output}: the run did not finish in {RUN_TIMEOUT:.0f}s\n{log_tail(output)}")
        time.sleep(0.002)


def classify(output: Path) -> str:
    """Where a kill landed, judged from what it left: nothing written, part of the samples, or all of them."""
    lines = complete_lines(folder(output) / "predictions.jsonl")
    if lines == 0:
        return "before_any_write"
    return "after_all_written" if lines >= ROWS else "mid_run"


def killed_run(ref: Reference, output: Path, trigger: Trigger, counts: Counter[str], label: str) -> None:
    started = time.monotonic()
    proc = start(ref, output)
    if trigger.delay == 0.0 and not trigger.lines:
        kill_group(proc)  # before the interpreter has done anything
        exited = False
    else:
        exited = kill_when(proc, trigger, folder(output) / "predictions.jsonl", started, output)
    if exited:
        assert proc.returncode == 0, f"{output}: exit status {proc.returncode}\n{log_tail(output)}"
        counts[f"{label}_exited_before_kill"] += 1
    counts[f"{label}_{classify(output)}"] += 1
    path = folder(output) / "predictions.jsonl"
    if path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
        counts["torn_tail_left_by_a_kill"] += 1  # a kill inside a write(): rare, as appends are small


# --- torn tails --------------------------------------------------------------------------------------------------

def tear(rng: random.Random, ref: Reference, output: Path, counts: Counter[str]) -> None:
    """Leave what a crash in the middle of a write leaves: a partial last line (appended to what is there), or
    a file cut at a random byte of its last batch (one whole record of the batch and part of the other, say)."""
    path = folder(output) / "predictions.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = path.read_bytes() if path.exists() else b""
    lines = data.splitlines(keepends=True)
    if len(lines) >= 2 and rng.random() < 0.5:
        batch_start = len(data) - len(lines[-1]) - len(lines[-2])
        cut = rng.randrange(batch_start + 1, len(data))  # never at the batch's start: something of it stays
        with path.open("rb+") as handle:
            handle.truncate(cut)
        counts["torn_simulated_cut_batch"] += 1
    else:
        reference = (folder(ref.base / "reference") / "predictions.jsonl").read_bytes().splitlines(keepends=True)
        line = rng.choice(reference)
        with path.open("ab") as handle:
            handle.write(line[: rng.randrange(1, len(line) - 1)])
        counts["torn_simulated_partial_line"] += 1


def whole_lines(path: Path) -> bytes:
    """The file up to its last newline: what a resume must keep, byte for byte."""
    data = path.read_bytes() if path.exists() else b""
    return data[: data.rfind(b"\n") + 1]


# --- checks ------------------------------------------------------------------------------------------------------

def check_finished(ref: Reference, output: Path, context: str) -> None:
    """The finished folder equals the reference: each sample once, whole JSON lines, same records and scores."""
    where = folder(output)
    data = (where / "predictions.jsonl").read_bytes()
    assert data.endswith(b"\n"), f"{context}: torn last line left: {data[-80:]!r}"
    indexes: Counter[str] = Counter()
    records: dict[str, tuple[str, ...]] = {}
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            pytest.fail(f"{context}: line {number} is not JSON ({exc}): {line[:120]!r}")
        key = json.dumps(record["index"])
        indexes[key] += 1
        records[key] = tuple(json.dumps(record[field]) for field in FIELDS)
    duplicated = sorted(key for key, count in indexes.items() if count > 1)
    assert not duplicated, f"{context}: duplicated indexes {duplicated}"
    assert sorted(records) == sorted(ref.records), f"{context}: missing {sorted(set(ref.records) - set(records))}"
    for key, fields in ref.records.items():
        assert records[key] == fields, f"{context}: index {key} differs from the reference:\n{records[key]}\n{fields}"
    assert (where / "scores.json").read_bytes() == ref.scores, f"{context}: scores.json differs from the reference"
    assert (where / "details.jsonl").read_bytes() == ref.details, f"{context}: details.jsonl differs"
    assert not list(where.glob("predictions.rank*.jsonl")), f"{context}: rank files left"
    assert not (where / "predictions.jsonl.tmp").exists(), f"{context}: merge temp file left"
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["finished"] is not None, f"{context}: manifest not finished"


# --- the reference run -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    base = tmp_path_factory.mktemp("crash")
    data = write_tsv(base / "docvqa.tsv", rows=ROWS)
    env = {**os.environ, "EVALKIT_CACHE": str(base / "cache"), "PYTHONPATH": pythonpath(), "OMP_NUM_THREADS": "1"}
    warm = Reference(base, data, env, {}, b"", b"", 0.0, 0.0, 0.0)
    ensure_tiny_random(base / "cache")  # built once, before the timed run, as every trial will find it
    output = base / "reference"
    path = folder(output) / "predictions.jsonl"
    started = time.monotonic()
    proc = start(warm, output)
    first = last = None
    size = 0
    while proc.poll() is None:  # watch the file grow, to know when inference happens
        now = time.monotonic() - started
        grown = path.stat().st_size if path.exists() else 0
        if grown > size:
            first = now if first is None else first
            last, size = now, grown
        if now > RUN_TIMEOUT:
            kill_group(proc)
            pytest.fail("the reference run did not finish")
        time.sleep(0.002)
    duration = time.monotonic() - started
    assert proc.returncode == 0, log_tail(output)
    lines = path.read_text().splitlines()
    records = {json.dumps(json.loads(line)["index"]): tuple(json.dumps(json.loads(line)[f]) for f in FIELDS)
               for line in lines}
    assert len(lines) == len(records) == ROWS
    return Reference(base, data, env, records, (folder(output) / "scores.json").read_bytes(),
                     (folder(output) / "details.jsonl").read_bytes(), duration,
                     first if first is not None else 0.0, last if last is not None else duration)


# --- single process ----------------------------------------------------------------------------------------------

def single_trial(ref: Reference, number: int) -> Counter[str]:
    rng = random.Random(SEED * 1000 + number)
    counts: Counter[str] = Counter()
    output = ref.base / f"trial{number:02d}"
    first = Trigger("startup", delay=0.0) if number == 0 else draw_trigger(rng, KINDS[number % len(KINDS)], ref)
    second = draw_trigger(rng, rng.choice(KINDS), ref) if rng.random() < 0.35 else None
    simulate = rng.random() < 0.4
    context = f"trial {number} (seed {SEED * 1000 + number}; first kill {first.describe()}" + (
        f", second kill {second.describe()})" if second else ")")
    path = folder(output) / "predictions.jsonl"
    kept: list[bytes] = []  # whole lines before each resume: they must survive byte for byte

    killed_run(ref, output, first, counts, "first_kill")
    if simulate:
        tear(rng, ref, output, counts)
    for label, trigger in (("second_kill", second), ("final", None)):
        if path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
            counts["torn_tail_before_resume"] += 1
        kept.append(whole_lines(path))
        if trigger is None:
            complete(ref, output)
        else:
            killed_run(ref, output, trigger, counts, label)
    check_finished(ref, output, context)
    final = path.read_bytes()
    for before in kept:
        assert final.startswith(before), f"{context}: a resume rewrote lines it had found"
    counts["single_process_trials"] += 1
    return counts


def test_killed_single_process_runs_resume_to_the_reference(ref):
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(single_trial, ref, number) for number in range(SINGLE_TRIALS)]
        try:
            for future in futures:
                COUNTS.update(future.result())
        finally:
            for future in futures:  # after a failure, start no more trials
                future.cancel()


def test_a_crashed_folder_refuses_another_configuration(ref):
    """Resuming a crashed folder with another setting is refused before anything is generated, and the
    finished lines stay as they were (only a torn tail, garbage by definition, is cut)."""
    output = ref.base / "identity"
    shutil.copytree(ref.base / "reference", output)
    path = folder(output) / "predictions.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    kept = b"".join(lines[: ROWS // 2])
    path.write_bytes(kept + lines[ROWS // 2][:40])
    for name in ("scores.json", "details.jsonl"):
        (folder(output) / name).unlink()
    proc = subprocess.run(command(output, ref.data, 1, "--max-new-tokens", "7"), cwd=ref.base, env=ref.env,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    assert proc.returncode != 0
    assert "another configuration" in proc.stderr and "max_new_tokens" in proc.stderr, proc.stderr[-2000:]
    assert whole_lines(path) == kept
    assert not (folder(output) / "scores.json").exists()
    COUNTS["identity_refusals"] += 1


def test_ranks_scoring_at_once_do_not_collide(tmp_path):
    """When both ranks find the folder merged (a resume with nothing left, or both finishing together), both
    score it: their writes of details.jsonl and scores.json must not trip over each other."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from evalkit.scoring.types import SuiteScore\n"
        "from evalkit.scoring.documents import write_outcome\n"
        "suite = SuiteScore(metric='anls', score=0.0, n=0, breakdown={}, samples=[])\n"
        "start = float(sys.argv[2])\n"
        "while time.time() < start: time.sleep(0.001)\n"
        "while time.time() < start + 1.0: write_outcome(Path(sys.argv[1]), {'score': 0.0}, suite)\n"
    )
    env = {**os.environ, "PYTHONPATH": pythonpath()}
    at = str(time.time() + 2.0)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path), at], env=env, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    errors = [proc.communicate(timeout=60)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], "\n".join(error[-1500:] for error in errors)


# --- torchrun ----------------------------------------------------------------------------------------------------

def descendants(pid: int) -> list[int]:
    """The processes under ``pid``, from /proc/<pid>/task/*/children (no psutil here)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        for task in Path(f"/proc/{pending.pop()}/task").glob("*"):
            with contextlib.suppress(OSError):
                children = [int(child) for child in (task / "children").read_text().split()]
                found.extend(children)
                pending.extend(children)
    return found


def rank_of(pid: int) -> int | None:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if b"run_eval.py" not in cmdline:
        return None
    for entry in environ:
        if entry.startswith(b"RANK="):
            return int(entry[5:])
    return None


def find_ranks(launcher: subprocess.Popen[bytes], output: Path) -> dict[int, int]:
    """rank -> pid of the launcher's workers, once both are there (empty if the launcher already exited)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while launcher.poll() is None:
        ranks = {rank: pid for pid in descendants(launcher.pid) if (rank := rank_of(pid)) is not None}
        if len(ranks) == 2:
            return ranks
        if time.monotonic() > deadline:
            kill_group(launcher)
            pytest.fail(f"{output}: torchrun started no workers\n{log_tail(output)}")
        time.sleep(0.005)
    return {}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_one_rank(ref: Reference, output: Path, victim: int, trigger: Trigger, counts: Counter[str]) -> None:
    launcher = start(ref, output, 2)
    ranks = find_ranks(launcher, output)
    started = time.monotonic()
    watched = folder(output) / f"predictions.rank{victim}.jsonl"
    fire_at = started + trigger.delay if not trigger.lines else None
    killed = False
    while ranks and launcher.poll() is None and alive(ranks[victim]):
        now = time.monotonic()
        if fire_at is None and complete_lines(watched) >= trigger.lines:
            fire_at = now + trigger.extra
        if fire_at is not None and now >= fire_at:
            os.kill(ranks[victim], signal.SIGKILL)  # our launcher's child, found by its RANK
            killed = True
            break
        if now > started + RUN_TIMEOUT:
            break
        time.sleep(0.002)
    counts["torchrun_rank_killed" if killed else "torchrun_rank_exited_before_kill"] += 1
    rc = wait_or_fail(launcher, output)
    survivors = [pid for rank, pid in ranks.items() if rank != victim and alive(pid)]
    counts["torchrun_other_rank_outlived_launcher" if survivors else "torchrun_other_rank_ended_with_launcher"] += 1
    for pid in survivors:  # only our launcher's workers, by pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    kill_group(launcher)
    counts["torchrun_launcher_failed" if rc else "torchrun_launcher_succeeded"] += 1
    where = folder(output)
    rank_lines = sum(complete_lines(path) for path in where.glob("predictions.rank*.jsonl"))
    merged = complete_lines(where / "predictions.jsonl")
    if merged >= ROWS:  # merged; rank files still there mean the kill landed inside the merge
        counts["torchrun_kill_inside_merge" if rank_lines else "torchrun_kill_after_merge"] += 1
    elif rank_lines == 0 and merged == 0:
        counts["torchrun_kill_before_any_write"] += 1
    else:
        counts["torchrun_kill_mid_run"] += 1


def torchrun_trial(ref: Reference, number: int, trigger: Trigger, victim: int) -> None:
    counts: Counter[str] = Counter()
    output = ref.base / f"torchrun{number}"
    kill_one_rank(ref, output, victim, trigger, counts)
    copy = ref.base / f"torchrun{number}-two"
    if output.exists():  # a kill during start-up can come before the run folder is made
        shutil.copytree(output, copy)
    resumes = [start(ref, output, 1), start(ref, copy, 2)]  # the same killed state, resumed both ways at once
    for proc, out in zip(resumes, (output, copy), strict=True):
        rc = wait_or_fail(proc, out)
        assert rc == 0, f"{out}: exit status {rc}\n{log_tail(out)}"
    context = f"torchrun trial {number} (rank {victim} killed at {trigger.describe()})"
    check_finished(ref, output, context + ", resumed by one process")
    check_finished(ref, copy, context + ", resumed by two ranks")
    counts["torchrun_trials"] += 1
    COUNTS.update(counts)


TORCHRUN_PLAN = (  # (victim rank, trigger kind)
    (1, "startup"),
    (0, "lines"),
    (1, "timed"),
)


@pytest.mark.parametrize("number", range(TORCHRUN_TRIALS))
def test_a_killed_rank_resumes_to_the_reference(ref, number):
    rng = random.Random(SEED + 7 * number)
    victim, kind = TORCHRUN_PLAN[number]
    trigger = draw_trigger(rng, kind, ref)
    if kind == "lines":  # a rank writes half the samples
        trigger = Trigger(kind, lines=rng.randrange(1, ROWS // 2 - 2), extra=trigger.extra)
    torchrun_trial(ref, number, trigger, victim)


# --- the counts --------------------------------------------------------------------------------------------------

def test_enough_trials_were_run():
    summary = dict(sorted(COUNTS.items()))
    assert COUNTS["single_process_trials"] >= 20, summary
    assert COUNTS["torchrun_trials"] >= 3, summary
    first_kills = sum(COUNTS[f"first_kill_{where}"] for where in ("before_any_write", "mid_run", "after_all_written"))
    assert first_kills == COUNTS["single_process_trials"], summary

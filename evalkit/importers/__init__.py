"""Importing other tools' results: another tool's output folder becomes an evalkit run folder.

This stage sits beside inference: instead of a model, a VLMEvalKit work folder (``outputs/<model>/`` prediction
files, :mod:`evalkit.importers.vlmevalkit`) or lmms-eval's ``--log_samples`` output
(:mod:`evalkit.importers.lmms_eval`) supplies the predictions. Each importer finds the files, reads what it can
and says why it skips the rest (:mod:`evalkit.importers.records`); :mod:`evalkit.importers.run_writer` then writes
a normal run folder (``predictions.jsonl`` per suite, scored by the code ``score`` uses, and a manifest naming
every source file), so ``report`` and ``compare`` treat it like any run. lmms-eval's samples are tied to dataset
rows by the rules in the cards' ``[lmms_eval]`` tables (:mod:`evalkit.importers.matching`), never guessed.
"""

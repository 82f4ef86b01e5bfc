"""Stage 5, scoring: predictions paired with their samples, answers extracted, metrics applied, results written.

``score`` applies a card's extractor and metric to predictions; ``suite`` scores one suite folder (pairing,
both protocols, judge, submission) and writes its results; ``registry`` maps the names a card may use to the
functions in ``extract/`` (answer extraction) and ``metrics/`` (one module per metric family, pure functions);
``types`` holds the records they exchange; ``documents`` builds ``scores.json``; ``prediction_files`` reads
prediction files (evalkit's and VLMEvalKit's); ``score_file`` is the ``score`` command; ``submissions`` writes
the files for hidden test splits.
"""

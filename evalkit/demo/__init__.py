"""The built-in demo sets: a few code-drawn items per suite family, written as VLMEvalKit-format TSVs.

``sets`` writes a family's set (``write_demo_tsv``); ``reading``, ``choices``, ``scenes`` and ``exams`` build the
rows of each family; ``figures`` and ``drawing`` draw the images; ``common`` holds what the builders share. The
demo is data like any other: it goes through the real TSV reader, the real model and the real scorers.
"""

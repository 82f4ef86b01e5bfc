"""Stage 7, the regression gate between two checkpoints' runs: ``evalkit compare BASE CANDIDATE``.

``gate`` loads both runs, checks that each suite is comparable and pairs their samples; ``stats`` holds the
paired tests and the verdict rule; ``output`` writes the Markdown summary and ``gate.json``.
"""

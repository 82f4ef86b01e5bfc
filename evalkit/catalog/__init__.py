"""Stage 1, the catalog: one declarative card per suite (``benchmarks/*.toml``) loaded into typed specs.

``cards`` finds and loads the cards (``load_catalog``, name and alias lookup), ``schema`` validates a card's
fields and builds its :class:`~evalkit.catalog.spec.BenchmarkSpec`, ``spec`` holds the frozen records the rest of
the pipeline composes (benchmark, protocol, columns, generation settings).
"""

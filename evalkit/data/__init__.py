"""Samples and the sources that produce them (hub datasets, VLMEvalKit TSVs, local files, demo sets)."""

"""evalkit: an evaluation harness for vision-language models.

Reproduces the InternVL 1.5 paper's suites with their exact prompts, tiling and
metrics, and runs any transformers or API model on them.
"""

__version__ = "0.1.0"

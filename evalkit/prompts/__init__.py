"""Stage 3, prompts: a sample and its protocol's prompt layout rendered into the instruction a model receives.

``layouts`` holds LLaVA-1.5's response formatting and the layouts a card can name (short answer, multiple
choice, yes/no, grounding, open, multi-turn); a card chooses one, never the engine by a suite's name.
"""

"""Stage 4, the run: samples through a model into a resumable, crash-safe run folder.

``runner`` is the run as a table of contents of named steps (plan, infer, merge, score); ``inference`` turns
samples into requests and generations into records, turn by turn; ``prefetch`` prepares batches ahead in worker
threads; ``store`` appends predictions durably and merges the ranks' files; ``folder`` owns the run folder's
layout (every file name, the typed reader, the writers); ``manifest`` records what reproduces a run;
``progress`` draws the bar; ``preview`` writes exactly what a model receives for one sample.
"""

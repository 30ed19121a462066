"""The learned answer/abstain decision: features of a draft answer, a calibrated probability that it is right, and the
slot classifier; trained by `python -m kbase.bench.train_decision`, shipped as selective.json."""

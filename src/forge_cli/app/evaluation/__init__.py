"""``forge eval``: score classification answers against labelled data.

``labels`` turns raw values into comparable labels (forgiving, never merging two gold labels),
``metrics`` computes the scores from (gold, predicted) pairs with no I/O, ``tables`` reads gold and
results files through forge's own readers, ``join`` matches them by id and picks the fields to score,
``usage`` adds tokens, cost and latency, ``variants`` runs classify for each ``--variant``,
``report`` prints and writes the outcome and ``command`` puts the pieces together.

Eval works from column names only: a result's answer fields are the columns a results row carries
before the engine's own (``complexity``, ``provider``, ...), so it scores whatever fields the classify
task produces without knowing how the task is built.
"""

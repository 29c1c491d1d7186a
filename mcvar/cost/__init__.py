"""Analytical energy, latency and area model of a crossbar tile and its digital baselines.

``kernel_costs`` gives per-kernel, per-component costs of one tile for the analog ReRAM,
digital ReRAM and SRAM designs; ``network_costs`` maps a network onto tiles. Constants
live in :class:`Technology` (defaults calibrated to the 14/16 nm reference study).
"""

from .model import COMPONENTS, DESIGNS, KERNELS, kernel_costs
from .network import network_costs
from .technology import Technology

__all__ = ["COMPONENTS", "DESIGNS", "KERNELS", "Technology", "kernel_costs", "network_costs"]

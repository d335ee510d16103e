"""What an integrator does to what is learned: stability regions, the inverse problem, audits (Lu & Tsai)."""

from ._audit import AuditReport, audit
from ._characteristic import Characteristic
from ._inverse import Preimage, preimages
from ._pde import PDEStabilityReport, pde_stability
from ._region import RegionSummary, region_summary

__all__ = [
    "AuditReport",
    "Characteristic",
    "PDEStabilityReport",
    "Preimage",
    "RegionSummary",
    "audit",
    "pde_stability",
    "preimages",
    "region_summary",
]

"""What an integrator does to what is learned: stability regions, the inverse problem, audits (Lu & Tsai)."""

from ._audit import AuditReport, audit
from ._characteristic import Characteristic
from ._inverse import Preimage, preimages
from ._region import RegionSummary, region_summary

__all__ = ["AuditReport", "Characteristic", "Preimage", "RegionSummary", "audit", "preimages", "region_summary"]

"""Target profiles: compute, memory bandwidth, power model, frame rate and budgets of the hardware an engine is
built for (docs/profiles.md).

* ``orin-class-75w.toml`` — an Orin-class SoC (Jetson AGX Orin 64GB figures, each cited) under a 75 W budget.
* ``host.toml`` — this machine; its peaks are measured through the wayvert runtime (``measure_host_peaks``).
"""
from .host_peaks import HostPeaks, measure_host_peaks
from .loader import PROFILE_DIR, list_profiles, load_profile, with_host_peaks
from .profile import Compute, PowerModel, ProfileError, TargetProfile, profile_from_dict

__all__ = ["PROFILE_DIR", "Compute", "HostPeaks", "PowerModel", "ProfileError", "TargetProfile", "list_profiles",
           "load_profile", "measure_host_peaks", "profile_from_dict", "with_host_peaks"]

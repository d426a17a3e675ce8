"""Suite-wide settings: property tests judge results, never wall-clock time on a shared machine."""

from hypothesis import HealthCheck, settings

settings.register_profile("ppcti", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ppcti")

"""2-D maps of joint states for the app's scatter plots."""

from prometheus.projection.maps import project_states

__all__ = ["project_states"]

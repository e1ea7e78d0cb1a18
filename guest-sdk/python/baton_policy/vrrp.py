"""This node's VRRP view."""

from . import _bindings


def instances():
    """Every VRRP instance on this node (InstanceStatus records)."""
    return _bindings.need(_bindings.vrrp, "baton:policy/vrrp").instances()

"""The bindings componentize-py generates for the `health` world, or None.

componentize-py writes `wit_world` (the world, its `Verdict`/`Health`
types and `wit_world.imports.*`, one module per imported interface) and
`componentize_py_types` (`Ok`, `Err`, `Some`) when it builds a component.
Outside a build (this package's own tests, an IDE) they do not exist: the
pure parts of the SDK still work and a capability call raises.
"""

try:
    import wit_world as world
    from componentize_py_types import Err
    from wit_world.imports import clock, log, probe, remedy, system, types, vrrp
except ImportError:  # plain CPython: no Baton host here
    world = None
    clock = log = probe = remedy = system = types = vrrp = None

    class Err(Exception):  # type: ignore[no-redef]
        """Stands in for componentize_py_types.Err (never raised here)."""

        def __init__(self, value):
            super().__init__(value)
            self.value = value


def need(module, what):
    """`module`, or a clear error when there is no host to call."""
    if module is None:
        raise RuntimeError(
            f"baton_policy: {what} exists only inside the Baton host "
            "(build the policy with scripts/guest-build-python)"
        )
    return module

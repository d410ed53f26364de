from .support import _clock, finance, ops, world  # noqa: F401  (fixtures)

"""Model builders: junctions and force operators for standard systems.

Models build a :class:`~currentforces.Junction` and force operators; they hold
no solver code of their own.
"""

"""Gradient checking: finite differences, the SymPy oracle, and one verdict."""

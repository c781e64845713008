"""Checking a student's own scalar autograd engine (a micrograd-style Value class), op by op."""

from __future__ import annotations

from .check import check_engine
from .discovery import Engine, discover, walk

__all__ = ["Engine", "check_engine", "discover", "walk"]

"""Hooks a lower layer reads and a higher one fills, so that neither imports the other.

DRAWER["draw"] backs Report.draw(): gradviz.rendering registers its draw when it is imported, and the
top-level package registers a stand-in that imports rendering on first use. Nothing is imported here.
"""

DRAWER: dict = {}

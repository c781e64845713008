"""One adapter per way people write backward code; each turns the user's code into a Reading.

layer.py  classes (gradients returned, results on self, learning-rate updaters, optimizer-based)
pair.py   function pairs (cache style, explicit arguments)
loss.py   losses and function + gradient pairs (including dicts of parameters)
ctx.py    ctx-style Function classes
"""

"""One adapter per way people write backward code; each turns the user's code into a Reading.

layer.py  classes (gradients returned, results on self, learning-rate updaters, optimizer-based), with
          layer_methods.py / layer_plans.py / layer_readings.py: every reading of a class, confirmed in order
pair.py   function pairs (cache style, explicit arguments)
loss.py   losses and function + gradient pairs (including dicts of parameters)
ctx.py    ctx-style Function classes
"""

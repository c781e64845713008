"""gv.nn: scalar networks (Neuron, Layer, MLP) and array layers, all recorded, drawn and checked."""

from .layers import (AvgPool2d, BCELoss, Conv2d, CrossEntropyLoss, Flatten, Identity, Linear, MaxPool2d, MSELoss,
                     NLLLoss, ReLU, Sigmoid, Tanh, init_weight)
from .module import Module, Sequential
from .scalar import MLP, Layer, Neuron

__all__ = ["AvgPool2d", "BCELoss", "Conv2d", "CrossEntropyLoss", "Flatten", "Identity", "Layer", "Linear", "MLP",
           "MSELoss", "MaxPool2d", "Module", "NLLLoss", "Neuron", "ReLU", "Sequential", "Sigmoid", "Tanh",
           "init_weight"]

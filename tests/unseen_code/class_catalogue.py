"""The unseen layer classes, loss classes, function/gradient pairs and ctx Functions: each correct one, its
planted-bug twin, how its inputs are made, the gradients the bug must fail on, and its command-line flags."""

from dataclasses import dataclass, field

from . import ctx_functions, grad_functions, layer_classes, loss_classes


@dataclass
class Case:
    kind: str  # "layer", "loss", "grad_fn", "function"
    module: object
    correct: str  # a class, or for grad_fn "f,grad_f"
    bug: str
    inputs: str  # the module's maker: (layer, x) for layers, else the argument tuple
    wrong: set = field(default_factory=set)
    init: dict = field(default_factory=dict)  # layers: --init SPECs matching the maker's shapes

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.correct}"


COLUMN_RNN = {"U": "randn(4,3)", "W": "randn(4,4)", "b": "randn(4,1)", "s0": "randn(4,1)"}
COLUMN_CELL = {"Wx": "randn(4,3)", "Wh": "randn(4,4)", "b": "randn(4,1)", "h0": "randn(4,1)"}

CASES = [
    Case("layer", layer_classes, "RecurrentLayer", "RecurrentLayerBug", "recurrent_make", {"W"}, COLUMN_RNN),
    Case("layer", layer_classes, "GatedCell", "GatedCellBug", "gated_make", {"b"}, COLUMN_CELL),
    Case("layer", layer_classes, "Dense", "DenseBug", "dense_make", {"biases"},
         {"weights": "randn(4,3)", "biases": "randn(3)"}),
    Case("layer", layer_classes, "ReLU", "ReLUBug", "relu_make", {"input"}),
    Case("layer", layer_classes, "Affine", "AffineBug", "affine_make", {"x"}, {"w": "randn(12,3)", "b": "randn(3)"}),
    Case("layer", layer_classes, "Tanh", "TanhBug", "tanh_make", {"x"}),
    Case("layer", layer_classes, "LayerNorm1D", "LayerNorm1DBug", "layernorm_make", {"beta"},
         {"gamma": "randn(4)", "beta": "randn(4)"}),
    Case("loss", loss_classes, "CrossEntropyLoss", "CrossEntropyLossBug", "probabilities_inputs", {"y_pred"}),
    Case("loss", loss_classes, "SquareLoss", "SquareLossBug", "regression_inputs", {"y_pred"}),
    Case("loss", loss_classes, "BinaryCrossEntropy", "BinaryCrossEntropyBug", "binary_inputs", {"y_pred"}),
    Case("loss", loss_classes, "SoftmaxCrossEntropy", "SoftmaxCrossEntropyBug", "scores_inputs", {"scores"}),
    Case("grad_fn", grad_functions, "cost,gradient", "cost,gradient_bug", "logistic_inputs", {"theta"}),
    Case("grad_fn", grad_functions, "rosenbrock,rosenbrock_grad", "rosenbrock,rosenbrock_grad_bug",
         "rosenbrock_inputs", {"p"}),
    Case("grad_fn", grad_functions, "ridge_loss,ridge_grad", "ridge_loss,ridge_grad_bug", "ridge_inputs", {"w"}),
    Case("function", ctx_functions, "Sigmoid", "SigmoidBug", "sigmoid_inputs", {"a"}),
    Case("function", ctx_functions, "MultiplyAdd", "MultiplyAddBug", "multiply_add_inputs", {"w"}),
    Case("function", ctx_functions, "Power", "PowerBug", "power_inputs", {"x"}),
    Case("function", ctx_functions, "MatMul", "MatMulBug", "matmul_inputs", {"b"}),
]


@dataclass
class Odd:
    """Correct code whose reading the code alone does not settle: refused, then read once the flag says it."""

    kind: str
    module: object
    name: str
    inputs: str
    said: dict  # the Python keywords that resolve it
    flags: list  # the command-line flags that do
    init: dict = field(default_factory=dict)


ODD = [
    Odd("layer", layer_classes, "GatedCellUnnamed", "gated_make", {"outputs": "h_list"}, ["--outputs", "h_list"],
        COLUMN_CELL),
    Odd("layer", layer_classes, "TwoStates", "two_states_make", {"outputs": "post"}, ["--outputs", "post"],
        {"w": "randn(3)"}),
    Odd("loss", loss_classes, "Distance", "distance_inputs", {"wrt": "u"}, ["--wrt", "u"]),
    Odd("grad_fn", grad_functions, "energy,energy_grad", "energy_inputs", {"wrt": "u"}, ["--wrt", "u"]),
]

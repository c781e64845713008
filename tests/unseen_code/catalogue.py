"""Every unseen-code fixture: a forward, its correct backward, its planted-bug backward, the inputs, and the
gradients the bug must fail on (in gradviz's names for the arrays)."""

from dataclasses import dataclass, field

from . import (argument_orders, costs_and_grads, course_networks, cs_recurrent, extra_outputs, gradient_checking,
               library_layers, more_costs, more_layers, rnn_cells)


@dataclass
class Fixture:
    module: object
    forward: str
    backward: str
    bug: str
    inputs: str  # the module's function making (args, kwargs) from a Generator
    wrong: set = field(default_factory=set)  # the gradients the bug gets wrong

    @property
    def id(self) -> str:
        return f"{self.module.__name__.rsplit('.', 1)[-1]}:{self.forward},{self.backward}"


PAIRS = [
    Fixture(rnn_cells, "rnn_cell_forward", "rnn_cell_backward", "rnn_cell_backward_bug", "rnn_inputs",
            {"parameters['Waa']"}),
    Fixture(rnn_cells, "lstm_cell_forward", "lstm_cell_backward", "lstm_cell_backward_bug", "lstm_inputs",
            {"c_prev"}),
    Fixture(cs_recurrent, "lstm_step_forward", "lstm_step_backward", "lstm_step_backward_bug", "lstm_inputs",
            {"x", "prev_h", "Wx", "Wh", "b"}),
    Fixture(cs_recurrent, "gru_like_forward", "gru_like_backward", "gru_like_backward_bug", "gru_inputs",
            {"h_prev"}),
    Fixture(gradient_checking, "forward_propagation_n", "backward_propagation_n", "backward_propagation_n_bug",
            "model_n_inputs", {"parameters['W2']", "parameters['b1']"}),
    Fixture(gradient_checking, "model_cost", "model_grads", "model_grads_bug", "model_cost_inputs",
            {"parameters['W1']", "parameters['b1']"}),
    Fixture(extra_outputs, "attention_forward", "attention_backward", "attention_backward_bug", "attention_inputs",
            {"Q", "K"}),
    Fixture(extra_outputs, "layernorm_forward", "layernorm_backward", "layernorm_backward_bug", "layernorm_inputs",
            {"x"}),
    Fixture(extra_outputs, "softmax_forward", "softmax_backward", "softmax_backward_bug", "softmax_inputs", {"z"}),
    Fixture(extra_outputs, "tanh_forward", "tanh_backward", "tanh_backward_bug", "tanh_inputs", {"x", "w"}),
    Fixture(argument_orders, "sigmoid_forward", "sigmoid_backward", "sigmoid_backward_bug", "sigmoid_inputs", {"Z"}),
    Fixture(argument_orders, "conv1d_forward", "conv1d_backward", "conv1d_backward_bug", "conv1d_inputs", {"x"}),
    Fixture(argument_orders, "cross_entropy", "dcross_entropy", "dcross_entropy_bug", "cross_entropy_inputs",
            {"y_pred"}),
    Fixture(argument_orders, "mse", "mse_grad", "mse_grad_bug", "mse_inputs", {"y_hat"}),
    Fixture(course_networks, "linear_activation_forward", "linear_activation_backward",
            "linear_activation_backward_bug", "linear_inputs", {"b"}),
    Fixture(course_networks, "two_layer_forward", "two_layer_backward", "two_layer_backward_bug", "two_layer_inputs",
            {"params['W2']"}),
    Fixture(course_networks, "embed_forward", "embed_backward", "embed_backward_bug", "embed_inputs", {"W"}),
    Fixture(more_layers, "maxpool1d_forward", "maxpool1d_backward", "maxpool1d_backward_bug", "maxpool_inputs",
            {"x"}),
    Fixture(more_layers, "dropout_forward", "dropout_backward", "dropout_backward_bug", "dropout_inputs", {"x"}),
    Fixture(more_layers, "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_bug", "batchnorm_inputs",
            {"gamma"}),
    Fixture(more_layers, "leaky_relu_forward", "leaky_relu_backward", "leaky_relu_backward_bug", "leaky_inputs",
            {"x"}),
    Fixture(more_layers, "temporal_affine_forward", "temporal_affine_backward", "temporal_affine_backward_bug",
            "temporal_inputs", {"b"}),
    Fixture(more_layers, "cosine_forward", "cosine_backward", "cosine_backward_bug", "cosine_inputs", {"a", "b"}),
    Fixture(more_layers, "rnn_forward", "rnn_backward", "rnn_backward_bug", "rnn_inputs",
            {"x", "h0", "Wx", "Wh", "b"}),
    Fixture(more_layers, "encoder_forward", "encoder_backward", "encoder_backward_bug", "encoder_inputs", {"x"}),
    Fixture(more_layers, "softplus_forward", "softplus_backward", "softplus_backward_bug", "softplus_inputs",
            {"x", "w"}),
    Fixture(more_layers, "huber_loss", "huber_grad", "huber_grad_bug", "huber_inputs", {"y_pred"}),
    Fixture(more_layers, "log_softmax_forward", "log_softmax_backward", "log_softmax_backward_bug",
            "log_softmax_inputs", {"z"}),
    Fixture(more_layers, "pad_forward", "pad_backward", "pad_backward_bug", "pad_inputs", {"x"}),
    Fixture(more_layers, "bilinear_forward", "bilinear_backward", "bilinear_backward_bug", "bilinear_inputs",
            {"W"}),
]


@dataclass
class Single:
    """A function returning a cost and its gradients together (checked with check_loss / FILE:NAME)."""

    module: object
    name: str
    bug: str
    inputs: str
    wrong: set = field(default_factory=set)


SINGLES = [
    Single(costs_and_grads, "propagate", "propagate_bug", "propagate_inputs", {"w"}),
    Single(costs_and_grads, "softmax_cost_and_grads", "softmax_cost_and_grads_bug", "softmax_inputs",
           {"params['W']", "params['b']"}),
    Single(more_costs, "linear_reg_cost", "linear_reg_cost_bug", "linear_reg_inputs", {"theta"}),
    Single(more_costs, "svm_loss_vectorized", "svm_loss_vectorized_bug", "svm_inputs", {"W"}),
]


@dataclass
class Layer:
    module: object
    correct: str
    bug: str
    make: str  # (layer, input) from a Generator and the class
    wrong: set = field(default_factory=set)
    init: dict = field(default_factory=dict)  # --init specs for the CLI


LAYERS = [
    Layer(library_layers, "FullyConnected", "FullyConnectedBug", "fc_make", {"parameters['b']"},
          {"W": "randn(4,3)", "b": "randn(1,3)"}),
    Layer(library_layers, "Scale", "ScaleBug", "scale_make", {"gamma"}, {"gamma": "randn(3)"}),
]

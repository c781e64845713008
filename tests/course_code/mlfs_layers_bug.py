"""The optimizer-based layer with a planted bug: grad_w0 averaged over the batch."""
import numpy as np

from mlfs_layers import Dense as _Dense


class Dense(_Dense):
    def backward_pass(self, accum_grad):
        W = self.W
        grad_w = self.layer_input.T.dot(accum_grad)
        grad_w0 = np.mean(accum_grad, axis=0, keepdims=True)
        self.W = self.W_opt.update(self.W, grad_w)
        self.w0 = self.w0_opt.update(self.w0, grad_w0)
        return accum_grad.dot(W.T)

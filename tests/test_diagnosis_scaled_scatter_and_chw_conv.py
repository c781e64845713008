"""Two advertised causes in the shapes a new user wrote them: a scaled embedding, a conv of one (C, H, W) image.

The embedding gathers rows and scales them by sqrt(D) (a transformer's input embedding), and its
backward writes `dtable[ids] += ...` so repeated ids are lost; the convolution has no batch axis
and untied biases (one per output element), and its backward flips the kernel twice. Each check's
reference is gradviz's finite differences of the fixture's own forward; each correct version passes
with no finding.
"""

from __future__ import annotations

import numpy as np

import gradviz as gv
from gradviz.checking.diagnosis.catalogue import CAUSES


def causes(report, name):
    [result] = [r for r in report.results if r.name == name]
    found = [d.cause for d in result.diagnosis]
    assert set(found) <= set(CAUSES)
    return found


def assert_silent(report):
    assert report.ok, str(report)
    assert [r.name for r in report.results if r.diagnosis] == []


def lookup_forward(ids, table):
    """ids: (N, T) integers into the rows of table (V, D); rows scaled by sqrt(D)."""
    return table[ids] * np.sqrt(table.shape[1]), (ids, table.shape)


def lookup_backward(dout, cache, buffered=False):
    ids, shape = cache
    dtable = np.zeros(shape)
    if buffered:
        dtable[ids] += dout * np.sqrt(shape[1])  # a repeated id keeps one of its rows
    else:
        np.add.at(dtable, ids, dout * np.sqrt(shape[1]))
    return dtable


IDS = np.array([[2, 0, 2], [4, 0, 1]])  # ids 0 and 2 repeat
TABLE = np.random.default_rng(30).normal(size=(5, 3))


def test_repeated_ids_lost_are_named_when_the_rows_are_scaled():
    report = gv.check_pair(lookup_forward, lambda d, c: lookup_backward(d, c, buffered=True), IDS, TABLE)
    [result] = report.results
    assert causes(report, "table") == ["repeated_indices_lost"]
    assert "np.add.at(dtable, ids, dout)" in result.diagnosis[0] and "2 repeats" in result.diagnosis[0]


def test_a_correct_scaled_lookup_gets_no_finding():
    assert_silent(gv.check_pair(lookup_forward, lookup_backward, IDS, TABLE))


def correlate_valid(a, k):
    out = np.zeros((a.shape[0] - k.shape[0] + 1, a.shape[1] - k.shape[1] + 1))
    for i, j in np.ndindex(out.shape):
        out[i, j] = np.sum(a[i:i + k.shape[0], j:j + k.shape[1]] * k)
    return out


def convolve_full(a, k):
    ph, pw = k.shape[0] - 1, k.shape[1] - 1
    return correlate_valid(np.pad(a, ((ph, ph), (pw, pw))), k[::-1, ::-1])


class ImageConv:
    """One image (C, H, W), no batch axis, an untied bias per output element; backward returns dx."""

    def __init__(self, channels, filters, k, size, flip_twice=False):
        r = np.random.default_rng(31)
        self.kernels = r.normal(size=(filters, channels, k, k))
        self.biases = r.normal(size=(filters, size - k + 1, size - k + 1))
        self.flip_twice = flip_twice

    def forward(self, x):
        self.x = x
        out = self.biases.copy()
        for f, c in np.ndindex(self.kernels.shape[:2]):
            out[f] += correlate_valid(x[c], self.kernels[f, c])
        return out

    def backward(self, dout):
        self.dkernels = np.zeros_like(self.kernels)
        self.dbiases = dout.copy()
        dx = np.zeros_like(self.x)
        for f, c in np.ndindex(self.kernels.shape[:2]):
            self.dkernels[f, c] = correlate_valid(self.x[c], dout[f])
            k = self.kernels[f, c][::-1, ::-1] if self.flip_twice else self.kernels[f, c]
            dx[c] += convolve_full(dout[f], k)  # convolve_full flips it already
        return dx


def test_a_flipped_kernel_is_named_for_one_image_without_a_batch_axis():
    x = np.random.default_rng(32).normal(size=(2, 5, 5))
    report = gv.check_layer(ImageConv(2, 3, 3, 5, flip_twice=True), x)
    assert causes(report, "x") == ["flipped_kernel"]
    assert [r.status for r in report.results if r.name != "x"] == ["PASS", "PASS"]


def test_a_correct_one_image_conv_gets_no_finding():
    x = np.random.default_rng(32).normal(size=(2, 5, 5))
    assert_silent(gv.check_layer(ImageConv(2, 3, 3, 5), x))
